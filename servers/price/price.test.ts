// The price server on imported AI-Trader-format files (synthetic, written here) and the simulated
// market, through real MCP clients.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { runAdminCommand } from '../../shared/admin/commands.js';
import { dayBarStart } from '../../shared/domain/calendar.js';
import { parseAiTraderJsonl, type ImportedSeries } from '../../shared/market/importers.js';
import { runsServer } from '../runs/server.js';
import { FIXTURE_SYMBOLS, writeAiTraderFixture } from '../../test/ai-trader-fixture.js';
import { priceServer } from './server.js';

// 3 symbols x (100 daily, 174 hourly) made-up bars, each series ending in one open-only bar.
const { daily: DAILY, hourly: HOURLY } = writeAiTraderFixture(fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-price-')));
const N = FIXTURE_SYMBOLS.length;

let t: TestSuite;
let price: Client;
let runs: Client;
let importLines: string[];
const daily = parseAiTraderJsonl(fs.readFileSync(DAILY, 'utf8'));
const hourly = parseAiTraderJsonl(fs.readFileSync(HOURLY, 'utf8'));
const series = (all: ImportedSeries[], symbol: string) => all.find((s) => s.symbol === symbol)!;

beforeAll(async () => {
  t = await bootSuite({ specs: [priceServer, runsServer] });
  importLines = [
    ...(await runAdminCommand(t.suite.deps, ['import-bars', DAILY, '--format', 'ai-trader'])),
    ...(await runAdminCommand(t.suite.deps, ['import-bars', HOURLY])),
  ];
  const { key } = await t.user();
  price = await t.client('price', key);
  runs = await t.client('runs', key);
}, 180_000);
afterAll(() => t?.close());

describe('import-bars', () => {
  it('stores both AI-Trader files: every bar at the file price, open-only newest bars kept as open-only', async () => {
    expect(importLines[0]).toMatch(new RegExp(`^Imported ${N * 100} bars from .*nasdaq100_daily\\.jsonl \\(ai-trader\\)`));
    expect(importLines.join('\n')).toContain(`day: ${N * 100} bars of ${N} symbol(s)`);
    expect(importLines.join('\n')).toContain(`hour: ${N * 174} bars of ${N} symbol(s)`);
    expect(importLines.join('\n')).toContain(`open-only bars kept: ${N}`);
    const sql = t.suite.deps.sql;
    for (const [file, timespan, perSymbol] of [[daily, 'day', 100], [hourly, 'hour', 174]] as const) {
      const counts = await sql`
        select symbol, count(*)::int as n, count(*) filter (where c is null)::int as open_only, max(t) filter (where c is null) as open_only_t
        from price_bars where timespan = ${timespan} and source = 'imported' and symbol in ${sql(file.map((s) => s.symbol))}
        group by symbol`;
      expect(counts).toHaveLength(N);
      for (const c of counts) {
        const s = series(file, c.symbol);
        expect(c.n, c.symbol).toBe(perSymbol);
        expect(c.open_only, c.symbol).toBe(1);
        // the open-only bar is the newest one of the file
        expect(new Date(c.open_only_t).toISOString()).toBe(s.bars.at(-1)!.t);
      }
      const rows = await sql`
        select symbol, t, o, h, l, c, v from price_bars
        where timespan = ${timespan} and source = 'imported' and symbol in ${sql(file.map((s) => s.symbol))}`;
      const stored = new Map(rows.map((r) => [`${r.symbol}|${(r.t as Date).toISOString()}`, r]));
      for (const s of file) {
        for (const b of s.bars) {
          const r = stored.get(`${s.symbol}|${b.t}`)!;
          const n = (x: unknown) => (x === null ? null : Number(x));
          expect([n(r.o), n(r.h), n(r.l), n(r.c), n(r.v)], `${s.symbol} ${b.t}`).toEqual([b.o, b.h, b.l, b.c, b.v]);
        }
      }
    }
  });

  it('is idempotent: importing the same file again changes nothing', async () => {
    const sql = t.suite.deps.sql;
    const before = await sql`select count(*)::int as n, sum(o)::text as so, sum(c)::text as sc from price_bars where source = 'imported'`;
    await runAdminCommand(t.suite.deps, ['import-bars', DAILY]);
    const after = await sql`select count(*)::int as n, sum(o)::text as so, sum(c)::text as sc from price_bars where source = 'imported'`;
    expect(after).toEqual(before);
  });

  it('imports the CSV format (format from the extension), open-only rows included', async () => {
    const file = path.join(t.dataDir, 'bars.csv');
    fs.writeFileSync(
      file,
      ['symbol,timespan,t,open,high,low,close,volume', 'CSVT,day,2025-10-29,10.5,11,10,10.75,1000', 'CSVT,day,2025-10-30,10.8,,,,', 'CSVT,minute,2025-10-30T13:30:00Z,10.8,10.9,10.7,10.85,50', ''].join('\n'),
    );
    const lines = await runAdminCommand(t.suite.deps, ['import-bars', file]);
    expect(lines.join('\n')).toMatch(/Imported 3 bars .*\(csv\)[\s\S]*open-only bars kept: 1/);
    expect(await ok(price, 'get_price', { symbol: 'CSVT', at: '2025-10-30T13:30:00Z' })).toMatchObject({ price: 10.8, source: 'imported', bar: { timespan: 'minute' } });
    expect(await ok(price, 'get_price', { symbol: 'CSVT', at: '2025-10-30T13:31:00Z' })).toMatchObject({ price: 10.85, price_basis: 'last_close' });
    const { bars } = await ok(price, 'get_bars', { symbol: 'CSVT', timespan: 'day', at: '2025-11-30' });
    expect(bars).toEqual([{ t: '2025-10-29T13:30:00.000Z', o: 10.5, h: 11, l: 10, c: 10.75, v: 1000 }]);
  });

  it('refuses a missing file or an unknown format in one sentence', async () => {
    await expect(runAdminCommand(t.suite.deps, ['import-bars', '/nonexistent/x.jsonl'])).rejects.toThrow(/Cannot read \/nonexistent\/x.jsonl: ENOENT/);
    await expect(runAdminCommand(t.suite.deps, ['import-bars', DAILY, '--format', 'xml'])).rejects.toThrow(/--format must be ai-trader or csv/);
    await expect(runAdminCommand(t.suite.deps, ['import-bars', '/tmp/bars.txt'])).rejects.toThrow(/pass --format/);
  });
});

describe('price tools on imported bars', () => {
  it('replays AAPL and MSFT from 2025-06-10 step by step: price = that day’s open, bars stop before it, SMA(20) = mean of 20 visible closes', async () => {
    const model = await ok(runs, 'create_model', { name: 'done-when' });
    const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-10-30', symbols: ['AAPL', 'MSFT'] });
    const files = { AAPL: series(daily, 'AAPL').bars, MSFT: series(daily, 'MSFT').bars };
    let clock: string = run.clock;
    let steps = 0;
    for (;;) {
      const dayIndex = files.AAPL.findIndex((b) => b.t === clock);
      expect(dayIndex, clock).toBeGreaterThanOrEqual(0);
      for (const symbol of ['AAPL', 'MSFT'] as const) {
        const file = files[symbol];
        const p = await ok(price, 'get_price', { symbol, run_id: run.run_id });
        expect(p).toMatchObject({ price: file[dayIndex]!.o, price_basis: 'open_at_clock', source: 'imported', time: clock });
        const { bars } = await ok(price, 'get_bars', { symbol, timespan: 'day', run_id: run.run_id, limit: 500 });
        expect(bars.map((b: any) => b.t)).toEqual(file.slice(0, dayIndex).map((b) => b.t));
        expect(bars.every((b: any) => b.t < clock)).toBe(true);
        const ind = await ok(price, 'get_indicators', { symbol, timespan: 'day', indicators: [{ name: 'sma', period: 20 }], run_id: run.run_id });
        const closes = file.slice(0, dayIndex).map((b) => b.c!);
        if (closes.length >= 20) expect(ind.values[0].value).toBeCloseTo(closes.slice(-20).reduce((a, b) => a + b, 0) / 20, 9);
        else expect(ind.values[0].value).toBeNull();
      }
      const step = await ok(runs, 'advance_run', { run_id: run.run_id, include_bars: true });
      if (step.done) break;
      steps++;
      // the day that just closed, and nothing else
      for (const symbol of ['AAPL', 'MSFT'] as const) expect(step.bars[symbol].map((b: any) => b.t)).toEqual([files[symbol][dayIndex]!.t]);
      clock = step.clock;
    }
    expect(steps).toBe(99);
    expect(clock).toBe(dayBarStart('2025-10-30').toISOString());
    expect((await ok(runs, 'get_run', { run_id: run.run_id })).status).toBe('completed');
  });

  it('uses the finest bar starting at the clock (hour, then day) and the open-only bar only as a price', async () => {
    const aapl = series(hourly, 'AAPL').bars;
    // 10:00 ET is an hour bar start (hour keys are bar starts)
    const tenAm = aapl.find((b) => b.t === '2025-10-01T14:00:00.000Z')!;
    expect(await ok(price, 'get_price', { symbol: 'AAPL', at: tenAm.t })).toMatchObject({ price: tenAm.o, price_basis: 'open_at_clock', bar: { timespan: 'hour' } });
    // 09:30 ET: no hour bar starts then; the day bar does
    const day = series(daily, 'AAPL').bars.find((b) => b.t === '2025-10-01T13:30:00.000Z')!;
    expect(await ok(price, 'get_price', { symbol: 'AAPL', at: '2025-10-01' })).toMatchObject({ price: day.o, bar: { timespan: 'day', t: day.t } });
    // mid-hour: the latest trade known, the open of the 10:00 bar (no bar closed since)
    const mid = await ok(price, 'get_price', { symbol: 'AAPL', at: '2025-10-01T14:30:00Z' });
    const nineThirty = aapl.find((b) => b.t === '2025-10-01T13:00:00.000Z');
    expect(mid).toMatchObject({ price: tenAm.o, price_basis: 'latest_open', bar: { t: tenAm.t, timespan: 'hour' } });
    expect(mid.last_bar.t < '2025-10-01T14:30:00Z').toBe(true);
    expect(nineThirty).toBeUndefined();
    // the newest hour bar holds only an open: it prices its own start, and is never a closed bar
    const openOnly = aapl.at(-1)!;
    expect(openOnly.c).toBeNull();
    const p = await ok(price, 'get_price', { symbol: 'AAPL', at: openOnly.t });
    expect(p).toMatchObject({ price: openOnly.o, price_basis: 'open_at_clock' });
    expect(p.last_bar.t).toBe(aapl.at(-2)!.t);
    const late = await ok(price, 'get_bars', { symbol: 'AAPL', timespan: 'hour', at: '2025-12-01T00:00:00Z', limit: 5 });
    expect(late.bars.at(-1).t).toBe(aapl.at(-2)!.t);
    const lateDay = await ok(price, 'get_bars', { symbol: 'AAPL', timespan: 'day', at: '2025-12-01T00:00:00Z', limit: 500 });
    expect(lateDay.bars).toHaveLength(99);
  });

  it('clamps `to` after now, refuses an unknown symbol, and reports market status', async () => {
    const r = await ok(price, 'get_bars', { symbol: 'MSFT', timespan: 'day', at: '2025-07-01T13:30:00Z', from: '2025-06-01', to: '2025-12-31' });
    expect(r.bars.at(-1).t).toBe('2025-06-30T13:30:00.000Z');
    expect(r.as_of).toBe('2025-07-01T13:30:00.000Z');
    const unknown = await call(price, 'get_price', { symbol: 'ZZZZ' });
    expect(unknown).toMatchObject({
      isError: true,
      text: 'Unknown symbol ZZZZ: no imported bars, no Polygon key, and it is not a simulated symbol (list_symbols shows what is available).',
    });
    expect((await call(price, 'get_bars', { symbol: 'ZZZZ', timespan: 'day' })).isError).toBe(true);
    // a bare name where an indicator object belongs: one sentence that shows the shape
    expect(await call(price, 'get_indicators', { symbol: 'MSFT', timespan: 'day', indicators: ['rsi'] })).toMatchObject({
      isError: true,
      text: 'Invalid arguments for get_indicators: indicators[0]: each indicator is an object such as {"name": "rsi", "period": 14}.',
    });
    const status = await ok(price, 'get_market_status', { at: '2025-07-03T17:30:00Z' });
    expect(status).toMatchObject({ session: 'after', is_half_day: true, is_holiday: false, next_open: '2025-07-07T13:30:00.000Z' });
    const { symbols } = await ok(price, 'list_symbols', { query: 'MSF' });
    const msft = symbols.find((s: any) => s.symbol === 'MSFT');
    expect(msft.source).toBe('imported');
    // `to` is the latest closed bar: the open-only newest bar (2025-10-30) is not one
    expect(msft.coverage.find((c: any) => c.timespan === 'day')).toMatchObject({ from: '2025-06-10T13:30:00.000Z', to: '2025-10-29T13:30:00.000Z', bars: 100, open_only: 1 });
  });

  it('gives the same answers from Postgres after the cache is flushed', async () => {
    const calls: [string, Record<string, unknown>][] = [
      ['get_price', { symbol: 'AAPL', at: '2025-08-01T13:30:00Z' }],
      ['get_bars', { symbol: 'MSFT', timespan: 'hour', at: '2025-10-20T18:00:00Z', limit: 50 }],
      ['get_indicators', { symbol: 'AAPL', timespan: 'day', at: '2025-09-15', indicators: [{ name: 'rsi' }, { name: 'macd' }, { name: 'bbands' }] }],
      ['get_price', { symbol: 'SPY', at: '2025-03-12T15:01:00Z' }],
      ['get_bars', { symbol: 'KO', timespan: 'minute', at: '2025-03-12T15:01:00Z', limit: 120 }],
      ['get_indicators', { symbol: 'KO', timespan: 'minute', at: '2025-03-12T15:01:00Z', indicators: [{ name: 'vwap' }, { name: 'ema', period: 9 }] }],
    ];
    const first = [];
    for (const [name, args] of calls) first.push(await ok(price, name, args));
    expect(first[3].source).toBe('simulated');
    await t.suite.deps.cache.flush();
    for (const [i, [name, args]] of calls.entries()) expect(await ok(price, name, args), name).toEqual(first[i]);
    const [stored] = await t.suite.deps.sql`select count(*)::int as n from price_bars where symbol = 'KO' and timespan = 'minute' and source = 'simulated'`;
    expect(stored!.n).toBeGreaterThanOrEqual(390);
  });
});

describe('as-of edges', () => {
  it("reports another user's run exactly like a missing one, on every as-of tool", async () => {
    const model = await ok(runs, 'create_model', { name: 'asof-owner' });
    const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-20', symbols: ['AAPL'] });
    const other = await t.client('price', (await t.user()).key);
    const missing = 999_999_999;
    for (const [name, args] of [
      ['get_price', { symbol: 'AAPL' }],
      ['get_bars', { symbol: 'AAPL', timespan: 'day' }],
      ['get_indicators', { symbol: 'AAPL', timespan: 'day', indicators: [{ name: 'sma' }] }],
      ['get_market_status', {}],
    ] as const) {
      const theirs = await call(other, name, { ...args, run_id: run.run_id });
      const none = await call(other, name, { ...args, run_id: missing });
      expect(theirs, name).toMatchObject({ isError: true, text: `Run ${run.run_id} was not found.` });
      expect(none.text.replace(String(missing), String(run.run_id)), name).toBe(theirs.text);
    }
  });

  it('never answers later than the wall clock, and `from` after now finds nothing', async () => {
    const before = Date.now();
    const future = await ok(price, 'get_bars', { symbol: 'AAPL', timespan: 'day', at: '2099-01-02T15:00:00Z', limit: 500 });
    expect(Date.parse(future.as_of)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(future.as_of)).toBeLessThanOrEqual(Date.now());
    expect(future.bars.at(-1).t).toBe(series(daily, 'AAPL').bars.at(-2)!.t); // the open-only newest bar is not closed
    const p = await ok(price, 'get_price', { symbol: 'SPY', at: '2099-01-02T15:00:00Z' });
    expect(Date.parse(p.time)).toBeLessThanOrEqual(Date.now());
    const none = await ok(price, 'get_bars', { symbol: 'MSFT', timespan: 'day', at: '2025-07-01', from: '2025-07-02' });
    expect(none).toMatchObject({ bars: [], truncated: false });
  });

  it('accepts every period its schema allows: RSI(250) warms up on what is there', async () => {
    const r = await ok(price, 'get_indicators', { symbol: 'AAPL', timespan: 'day', at: '2025-10-30', indicators: [{ name: 'rsi', period: 250 }, { name: 'sma', period: 5 }] });
    expect(r.values[0]).toMatchObject({ name: 'rsi', period: 250, value: null, warmup_complete: false });
    const closes = series(daily, 'AAPL').bars.filter((b) => b.t < '2025-10-30T13:30:00.000Z').map((b) => b.c!);
    expect(r.values[1].value).toBeCloseTo(closes.slice(-5).reduce((a, b) => a + b, 0) / 5, 9);
  });
});
