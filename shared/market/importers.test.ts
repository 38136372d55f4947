import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAiTraderFixture, type Row } from '../../test/ai-trader-fixture.js';
import { CSV_FORMAT_DOC, formatBarsCsv, parseAiTraderJsonl, parseBarsCsv, type ImportedSeries } from './importers.js';

// Synthetic AI-Trader files (made-up numbers) with a few AAPL rows pinned by hand, so the values
// asserted below are the ones this test wrote.
const AAPL_DAY: Row[] = [
  ['2025-10-29', 169.275, 171.41, 167.11, 169.7, 5108674],
  ['2025-10-30', 171.99, null, null, null, null],
];
const AAPL_HOUR: Row[] = [
  ['2025-10-30 15:00:00', 171.0884, 171.5979, 170.7337, 171.1184, 1107799],
  ['2025-11-10 10:00:00', 173.255, 173.9, 170.5, 170.7599, 464152],
  ['2025-11-10 15:00:00', 169.53, null, null, null, null],
];
const fixture = writeAiTraderFixture(mkdtempSync(path.join(os.tmpdir(), 'aibt-importers-')), { day: { AAPL: AAPL_DAY }, hour: { AAPL: AAPL_HOUR } });
const dailyText = readFileSync(fixture.daily, 'utf8');
const hourlyText = readFileSync(fixture.hourly, 'utf8');
const daily = parseAiTraderJsonl(dailyText);
const hourly = parseAiTraderJsonl(hourlyText);
const find = (all: ImportedSeries[], symbol: string) => all.find((s) => s.symbol === symbol)!;

describe('parseAiTraderJsonl on AI-Trader-format files', () => {
  it('reads the 3 distinct symbols written to each file, in file order', () => {
    for (const all of [daily, hourly]) expect(all.map((s) => s.symbol)).toEqual(['AAPL', 'MSFT', 'NVDA']);
    expect(daily.every((s) => s.timespan === 'day')).toBe(true);
    expect(hourly.every((s) => s.timespan === 'hour')).toBe(true);
  });

  it('keeps 100 daily bars per symbol: 99 closed and the newest open-only', () => {
    for (const s of daily) {
      expect(s.bars).toHaveLength(100);
      expect(s.openOnly).toBe(1);
      expect(s.bars[0]!.t).toBe('2025-06-10T13:30:00.000Z');
      const last = s.bars[99]!;
      expect(last.t).toBe('2025-10-30T13:30:00.000Z');
      expect([last.h, last.l, last.c, last.v]).toEqual([null, null, null, null]);
      expect(s.bars.slice(0, 99).every((b) => b.c !== null && b.h !== null && b.l !== null && b.v !== null)).toBe(true);
      expect(s.bars.every((b, i) => i === 0 || b.t > s.bars[i - 1]!.t)).toBe(true);
    }
  });

  it('keeps 174 hourly bars per symbol: 173 closed and the newest open-only', () => {
    for (const s of hourly) {
      expect(s.bars).toHaveLength(174);
      expect(s.openOnly).toBe(1);
      expect(s.bars[0]!.t).toBe('2025-10-01T14:00:00.000Z'); // 10:00 EDT
      expect(s.bars[173]!.t).toBe('2025-11-10T20:00:00.000Z'); // 15:00 EST
      expect(s.bars[173]!.c).toBeNull();
    }
  });

  it('reads AAPL 2025-10-29 exactly as the file states it', () => {
    const bar = find(daily, 'AAPL').bars.find((b) => b.t === '2025-10-29T13:30:00.000Z');
    expect(bar).toEqual({ t: '2025-10-29T13:30:00.000Z', o: 169.275, h: 171.41, l: 167.11, c: 169.7, v: 5108674 });
  });

  it("keeps AAPL's newest daily bar 2025-10-30 as open-only", () => {
    const bars = find(daily, 'AAPL').bars;
    expect(bars.at(-1)).toEqual({ t: '2025-10-30T13:30:00.000Z', o: 171.99, h: null, l: null, c: null, v: null });
  });

  it('reads hourly keys as the start of the hour in New York, across the DST change', () => {
    const bars = find(hourly, 'AAPL').bars;
    expect(bars.find((b) => b.t === '2025-10-30T19:00:00.000Z')).toEqual({
      t: '2025-10-30T19:00:00.000Z', // "2025-10-30 15:00:00" EDT
      o: 171.0884,
      h: 171.5979,
      l: 170.7337,
      c: 171.1184,
      v: 1107799,
    });
    const nov10 = bars.find((b) => b.t === '2025-11-10T15:00:00.000Z'); // "2025-11-10 10:00:00" EST
    expect(nov10).toMatchObject({ o: 173.255, c: 170.7599, v: 464152 });
    expect(bars.at(-1)).toEqual({ t: '2025-11-10T20:00:00.000Z', o: 169.53, h: null, l: null, c: null, v: null });
  });

  it('matches every value in both files', () => {
    for (const [text, all] of [[dailyText, daily], [hourlyText, hourly]] as const) {
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      lines.forEach((line, i) => {
        const rec = JSON.parse(line);
        const key = Object.keys(rec).find((k) => k.startsWith('Time Series'))!;
        const series = rec[key] as Record<string, Record<string, string>>;
        const parsed = all[i]!;
        expect(parsed.symbol).toBe(rec['Meta Data']['2. Symbol']);
        const raw = Object.keys(series).sort().map((k) => series[k]!);
        expect(parsed.bars.map((b) => [b.o, b.h, b.l, b.c, b.v])).toEqual(
          raw.map((f) => ['1. buy price', '2. high', '3. low', '4. sell price', '5. volume'].map((n) => (f[n] === undefined ? null : Number(f[n])))),
        );
      });
    }
  });

  it('names the line of a bad record', () => {
    const good = dailyText.split('\n')[0]!;
    expect(() => parseAiTraderJsonl(`${good}\n{not json`)).toThrow(/line 2: not valid JSON/);
    expect(() => parseAiTraderJsonl(`${good}\n${good}\n{"Meta Data": {"2. Symbol": "X"}}`)).toThrow(/line 3: lacks a "Time Series/);
    const noOpen = '{"Meta Data": {"2. Symbol": "X"}, "Time Series (Daily)": {"2025-10-29": {"2. high": "1"}}}';
    expect(() => parseAiTraderJsonl(noOpen)).toThrow(/line 1: X "2025-10-29": lacks "1\. buy price"/);
    const partial = '{"Meta Data": {"2. Symbol": "X"}, "Time Series (Daily)": {"2025-10-29": {"1. buy price": "1", "2. high": "1"}}}';
    expect(() => parseAiTraderJsonl(partial)).toThrow(/line 1: .*some but not all/);
  });
});

describe('parseBarsCsv', () => {
  it('round-trips the imported AAPL series, open-only bars included', () => {
    const series = [find(daily, 'AAPL'), find(hourly, 'AAPL')].map(({ symbol, timespan, bars }) => ({ symbol, timespan, bars }));
    const back = parseBarsCsv(formatBarsCsv(series));
    expect(back).toEqual(series);
  });

  it('reads a day bar given as a date, ISO instants and open-only rows', () => {
    const csv = [
      'symbol,timespan,t,open,high,low,close,volume',
      'AAPL,day,2025-10-29,269.275,271.41,267.11,269.7,51086742',
      'AAPL,day,2025-10-30,271.99,,,,',
      '',
      'MSFT,minute,2025-10-30T13:31:00Z,500.12345,501,499,500.5,1200',
      'MSFT,minute,2025-10-30T09:30:00-04:00,500,500.5,499.5,500.1,3000',
    ].join('\r\n');
    expect(parseBarsCsv(csv)).toEqual([
      {
        symbol: 'AAPL',
        timespan: 'day',
        bars: [
          { t: '2025-10-29T13:30:00.000Z', o: 269.275, h: 271.41, l: 267.11, c: 269.7, v: 51086742 },
          { t: '2025-10-30T13:30:00.000Z', o: 271.99, h: null, l: null, c: null, v: null },
        ],
      },
      {
        symbol: 'MSFT',
        timespan: 'minute',
        bars: [
          { t: '2025-10-30T13:30:00.000Z', o: 500, h: 500.5, l: 499.5, c: 500.1, v: 3000 },
          { t: '2025-10-30T13:31:00.000Z', o: 500.1235, h: 501, l: 499, c: 500.5, v: 1200 },
        ],
      },
    ]);
  });

  it('names the line of every error', () => {
    const h = 'symbol,timespan,t,open,high,low,close,volume';
    expect(() => parseBarsCsv('sym,t,o\nA,1,2')).toThrow(/line 1: the header must be/);
    expect(() => parseBarsCsv(`${h}\nAAPL,day,2025-10-29,1,2,0.5,1.5,10\nAAPL,week,2025-10-29,1,,,,`)).toThrow(/line 3: timespan/);
    expect(() => parseBarsCsv(`${h}\nAAPL,hour,2025-10-29,1,,,,`)).toThrow(/line 2: t "2025-10-29" is a date/);
    expect(() => parseBarsCsv(`${h}\nAAPL,hour,2025-10-29 10:00,1,,,,`)).toThrow(/line 2: t .* is not an ISO instant/);
    expect(() => parseBarsCsv(`${h}\n\nAAPL,day,2025-10-29,abc,,,,`)).toThrow(/line 3: open "abc" is not a number/);
    expect(() => parseBarsCsv(`${h}\nAAPL,day,2025-10-29,1,2,,1.5,10`)).toThrow(/line 2: high, low, close and volume must all be given/);
    expect(() => parseBarsCsv(`${h}\nAAPL,day,2025-10-29,1,2,0.5,1.5`)).toThrow(/line 2: expected 8 fields, found 7/);
    expect(() => parseBarsCsv(`${h}\nAAPL,day,2025-10-29,1,,,,\nAAPL,day,2025-10-29T13:30:00Z,1,,,,`)).toThrow(
      /line 3: AAPL day already has a bar starting at 2025-10-29T13:30:00.000Z/,
    );
  });

  it('documents every column', () => {
    for (const col of ['symbol', 'timespan', 't', 'open', 'high', 'low', 'close', 'volume']) expect(CSV_FORMAT_DOC).toContain(col);
  });
});
