// Pure parsers for imported bars: AI-Trader JSONL (Alpha Vantage shape) and our CSV format.
// No I/O: callers read the file and hand over its text.

import type { Bar } from '../domain/types.js';
import { nyToUtc } from '../domain/ny-time.js';
import { roundPrice } from '../domain/money.js';

export type ImportedTimespan = 'day' | 'hour';

export interface ImportedSeries {
  symbol: string;
  timespan: ImportedTimespan;
  /** Ascending by t. */
  bars: Bar[];
  /** How many open-only bars (h/l/c/v null) were kept. */
  openOnly: number;
}

const SERIES_KEYS: Record<string, ImportedTimespan> = {
  'Time Series (Daily)': 'day',
  'Time Series (60min)': 'hour',
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}):00$/;

/**
 * AI-Trader JSONL: one object per line and symbol, with "Meta Data" → "2. Symbol" and a
 * "Time Series (Daily)" or "Time Series (60min)" map. "1. buy price" is the open,
 * "4. sell price" the close; values are strings.
 *
 * The newest bar of each symbol carries only "1. buy price". We keep it as an open-only bar
 * (h, l, c, v null): it is the known open of the next session, and the as-of rule lets it
 * serve as the price at that session's open but never as a closed bar. Nothing is invented.
 *
 * Daily keys "YYYY-MM-DD" → t = that date's 09:30 New York open. Hourly keys
 * "YYYY-MM-DD HH:MM:SS" are US/Eastern wall time and, by our stated choice (the upstream
 * convention for intraday series), the START of the hour: t = nyToUtc(date, "HH:MM").
 */
export function parseAiTraderJsonl(text: string): ImportedSeries[] {
  const out: ImportedSeries[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '') return;
    const fail = (why: string): never => {
      throw new Error(`AI-Trader JSONL line ${lineNo}: ${why}`);
    };
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      fail('not valid JSON');
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) fail('not a JSON object');
    const rec = obj as Record<string, unknown>;
    const meta = rec['Meta Data'] as Record<string, unknown> | undefined;
    const symbol = meta && typeof meta === 'object' ? meta['2. Symbol'] : undefined;
    if (typeof symbol !== 'string' || symbol.trim() === '') fail('lacks "Meta Data" → "2. Symbol"');
    const seriesKey = Object.keys(rec).find((k) => k in SERIES_KEYS);
    if (!seriesKey) fail(`lacks a "Time Series (Daily)" or "Time Series (60min)" object`);
    const timespan = SERIES_KEYS[seriesKey!]!;
    const series = rec[seriesKey!];
    if (series === null || typeof series !== 'object' || Array.isArray(series)) fail(`"${seriesKey}" is not an object`);

    const bars: Bar[] = [];
    let openOnly = 0;
    for (const [key, raw] of Object.entries(series as Record<string, unknown>)) {
      const where = `${symbol} "${key}"`;
      let t: string;
      if (timespan === 'day') {
        if (!DATE.test(key)) fail(`${where}: a daily key must be YYYY-MM-DD`);
        t = nyToUtc(key, '09:30').toISOString();
      } else {
        const m = DATE_TIME.exec(key);
        if (!m) fail(`${where}: an hourly key must be "YYYY-MM-DD HH:MM:00"`);
        t = nyToUtc(m![1]!, m![2]!).toISOString();
      }
      if (raw === null || typeof raw !== 'object') fail(`${where}: the bar is not an object`);
      const f = raw as Record<string, unknown>;
      const num = (field: string, required: boolean): number | null => {
        const v = f[field];
        if (v === undefined) {
          if (required) fail(`${where}: lacks "${field}"`);
          return null;
        }
        const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
        if (!Number.isFinite(n)) fail(`${where}: "${field}" is not a number`);
        return n;
      };
      const o = num('1. buy price', true)!;
      const h = num('2. high', false);
      const l = num('3. low', false);
      const c = num('4. sell price', false);
      const v = num('5. volume', false);
      const present = [h, l, c, v].filter((x) => x !== null).length;
      if (present === 0) {
        openOnly++;
        bars.push({ t, o: roundPrice(o), h: null, l: null, c: null, v: null });
      } else if (present === 4) {
        bars.push({ t, o: roundPrice(o), h: roundPrice(h!), l: roundPrice(l!), c: roundPrice(c!), v: v! });
      } else {
        fail(`${where}: has some but not all of "2. high", "3. low", "4. sell price", "5. volume"`);
      }
    }
    bars.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
    for (let k = 1; k < bars.length; k++) {
      if (bars[k]!.t === bars[k - 1]!.t) fail(`${symbol}: two bars start at ${bars[k]!.t}`);
    }
    out.push({ symbol: symbol as string, timespan, bars, openOnly });
  });
  return out;
}

export const CSV_FORMAT_DOC = `Bars CSV: UTF-8, comma-separated, one bar per line, with this header line first:
  symbol,timespan,t,open,high,low,close,volume
- symbol: ticker, e.g. AAPL.
- timespan: minute, hour or day.
- t: the bar's START as an ISO 8601 instant with a zone (2025-10-30T19:00:00Z);
  for timespan day, either that or a date YYYY-MM-DD, read as the 09:30 New York open of that date.
- open: required, a decimal price (rounded to 4 decimals).
- high, low, close, volume: numbers, or all four empty for an open-only bar
  (a known open whose session has not closed; never used as a closed bar).
- Blank lines are ignored; no quoting, so no field may contain a comma.
Errors name the line number.`;

export interface CsvSeries {
  symbol: string;
  timespan: 'minute' | 'hour' | 'day';
  bars: Bar[];
}

const CSV_HEADER = ['symbol', 'timespan', 't', 'open', 'high', 'low', 'close', 'volume'];
const TIMESPANS = new Set(['minute', 'hour', 'day']);

/** Parses the CSV format in CSV_FORMAT_DOC into series per symbol and timespan (bars ascending). */
export function parseBarsCsv(text: string): CsvSeries[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIdx = lines.findIndex((l) => l.trim() !== '');
  if (headerIdx < 0) throw new Error('Bars CSV is empty: expected the header line "' + CSV_HEADER.join(',') + '"');
  const header = lines[headerIdx]!.split(',').map((h) => h.trim().toLowerCase());
  if (header.join(',') !== CSV_HEADER.join(',')) {
    throw new Error(`Bars CSV line ${headerIdx + 1}: the header must be "${CSV_HEADER.join(',')}"`);
  }
  const bySeries = new Map<string, CsvSeries>();
  const seen = new Set<string>();
  for (let i = headerIdx + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const lineNo = i + 1;
    const fail = (why: string): never => {
      throw new Error(`Bars CSV line ${lineNo}: ${why}`);
    };
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== CSV_HEADER.length) fail(`expected ${CSV_HEADER.length} fields, found ${cells.length}`);
    const [symbol, timespan, tRaw, open, high, low, close, volume] = cells as [string, string, string, string, string, string, string, string];
    if (!symbol) fail('symbol is empty');
    if (!TIMESPANS.has(timespan)) fail(`timespan must be minute, hour or day, not "${timespan}"`);
    let t: string;
    if (DATE.test(tRaw)) {
      if (timespan !== 'day') fail(`t "${tRaw}" is a date, which only a day bar may use`);
      t = nyToUtc(tRaw, '09:30').toISOString();
    } else {
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(tRaw)) {
        fail(`t "${tRaw}" is not an ISO instant with a zone${timespan === 'day' ? ' or a date YYYY-MM-DD' : ''}`);
      }
      const ms = Date.parse(tRaw);
      if (Number.isNaN(ms)) fail(`t "${tRaw}" is not a valid instant`);
      t = new Date(ms).toISOString();
    }
    const num = (name: string, v: string): number => {
      const n = v === '' ? NaN : Number(v);
      if (!Number.isFinite(n)) fail(`${name} "${v}" is not a number`);
      return n;
    };
    const o = roundPrice(num('open', open));
    const rest = [high, low, close, volume];
    const filled = rest.filter((x) => x !== '').length;
    let bar: Bar;
    if (filled === 0) bar = { t, o, h: null, l: null, c: null, v: null };
    else if (filled === 4) {
      bar = {
        t,
        o,
        h: roundPrice(num('high', high)),
        l: roundPrice(num('low', low)),
        c: roundPrice(num('close', close)),
        v: num('volume', volume),
      };
    } else bar = fail('high, low, close and volume must all be given or all be empty (open-only bar)');
    const key = `${symbol}\u0000${timespan}`;
    let s = bySeries.get(key);
    if (!s) bySeries.set(key, (s = { symbol, timespan: timespan as CsvSeries['timespan'], bars: [] }));
    if (seen.has(`${key}\u0000${t}`)) fail(`${symbol} ${timespan} already has a bar starting at ${t}`);
    seen.add(`${key}\u0000${t}`);
    s.bars.push(bar);
  }
  const out = [...bySeries.values()];
  for (const s of out) s.bars.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  return out;
}

/** Writes series in the CSV format of CSV_FORMAT_DOC (t always as an ISO instant). */
export function formatBarsCsv(series: { symbol: string; timespan: string; bars: Bar[] }[]): string {
  const rows = [CSV_HEADER.join(',')];
  const cell = (x: number | null): string => (x === null ? '' : String(x));
  for (const s of series) {
    for (const b of s.bars) rows.push([s.symbol, s.timespan, b.t, b.o, cell(b.h), cell(b.l), cell(b.c), cell(b.v)].join(','));
  }
  return rows.join('\n') + '\n';
}

export const ACTIONS_CSV_FORMAT_DOC = `Corporate actions CSV: UTF-8, comma-separated, one action per line, with this header first:
  symbol,kind,date,split_from,split_to,cash_amount
- kind: split or dividend. date: YYYY-MM-DD, a split's execution date (the first session on
  the new share basis) or a dividend's ex-date.
- split: split_from and split_to positive numbers (a 2-for-1 split is 1,2; a 1-for-10
  reverse split is 10,1); cash_amount empty.
- dividend: cash_amount in dollars per share (>= 0); split_from and split_to empty.
Example:
  symbol,kind,date,split_from,split_to,cash_amount
  ACME,split,2025-06-06,1,2,
  ACME,dividend,2025-08-11,,,0.26`;

const ACTIONS_HEADER = ['symbol', 'kind', 'date', 'split_from', 'split_to', 'cash_amount'];

export interface ImportedActions {
  splits: { symbol: string; executionDate: string; splitFrom: number; splitTo: number }[];
  dividends: { symbol: string; exDate: string; cashAmount: number; payDate: null }[];
}

/** Parses ACTIONS_CSV_FORMAT_DOC; throws one sentence naming the line on bad input. */
export function parseActionsCsv(text: string): ImportedActions {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIdx = lines.findIndex((l) => l.trim() !== '');
  if (headerIdx < 0) throw new Error(`Actions CSV is empty: expected the header line "${ACTIONS_HEADER.join(',')}".`);
  const header = lines[headerIdx]!.split(',').map((h) => h.trim().toLowerCase());
  if (header.join(',') !== ACTIONS_HEADER.join(',')) throw new Error(`Actions CSV line ${headerIdx + 1}: the header must be "${ACTIONS_HEADER.join(',')}".`);
  const out: ImportedActions = { splits: [], dividends: [] };
  for (let i = headerIdx + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const fail = (why: string): never => {
      throw new Error(`Actions CSV line ${i + 1}: ${why}.`);
    };
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== ACTIONS_HEADER.length) fail(`expected ${ACTIONS_HEADER.length} fields, found ${cells.length}`);
    const [rawSymbol, kind, date, from, to, cash] = cells as [string, string, string, string, string, string];
    const symbol = rawSymbol.toUpperCase();
    if (!symbol) fail('symbol is empty');
    if (!DATE.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) fail(`date "${date}" is not a date YYYY-MM-DD`);
    const positive = (name: string, v: string): number => {
      const n = v === '' ? NaN : Number(v);
      if (!Number.isFinite(n) || n <= 0) fail(`${name} "${v}" must be a positive number`);
      return n;
    };
    if (kind === 'split') {
      if (cash !== '') fail('a split has no cash_amount');
      out.splits.push({ symbol, executionDate: date, splitFrom: positive('split_from', from), splitTo: positive('split_to', to) });
    } else if (kind === 'dividend') {
      if (from !== '' || to !== '') fail('a dividend has no split_from or split_to');
      const n = cash === '' ? NaN : Number(cash);
      if (!Number.isFinite(n) || n < 0) fail(`cash_amount "${cash}" must be dollars per share, 0 or more`);
      out.dividends.push({ symbol, exDate: date, cashAmount: n, payDate: null });
    } else fail(`kind must be split or dividend, not "${kind}"`);
  }
  return out;
}
