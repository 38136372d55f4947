// Small synthetic files in the AI-Trader JSONL format (made-up numbers), written by the tests
// themselves so `npm test` needs nothing beside the repository. The layout mirrors the real
// nasdaq100 files: daily bars 2025-06-10 .. 2025-10-30 (100 NYSE sessions) and hourly bars
// 10:00 .. 15:00 New York time, 2025-10-01 .. 2025-11-10 (29 sessions x 6 = 174), keys newest
// first, prices as "%.4f" strings, and each symbol's newest bar carrying only "1. buy price".
import fs from 'node:fs';
import path from 'node:path';
import { tradingDays } from '../shared/domain/calendar.js';

/** [key as written in the file (New York time), open, high, low, close, volume]; close null = open-only. */
export type Row = [key: string, o: number, h: number | null, l: number | null, c: number | null, v: number | null];

export const FIXTURE_SYMBOLS = ['AAPL', 'MSFT', 'NVDA'] as const;
export const DAILY_KEYS = tradingDays('2025-06-10', '2025-10-30');
export const HOURLY_KEYS = tradingDays('2025-10-01', '2025-11-10').flatMap((d) => [10, 11, 12, 13, 14, 15].map((h) => `${d} ${h}:00:00`));

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * Made-up bars: symbol number s (0, 1, 2) and bar index i give open 100 + 50s + 0.25i + 0.1(i mod 7),
 * close = open + 0.35((i mod 3) - 1), high = max + 0.5, low = min - 0.4, volume 1,000,000 + 1000i + s.
 * The last row of each series is open-only.
 */
export function syntheticRows(symbol: string, keys: readonly string[]): Row[] {
  const s = FIXTURE_SYMBOLS.indexOf(symbol as (typeof FIXTURE_SYMBOLS)[number]);
  return keys.map((k, i) => {
    const o = r4(100 + 50 * s + 0.25 * i + 0.1 * (i % 7));
    if (i === keys.length - 1) return [k, o, null, null, null, null];
    const c = r4(o + 0.35 * ((i % 3) - 1));
    return [k, o, r4(Math.max(o, c) + 0.5), r4(Math.min(o, c) - 0.4), c, 1_000_000 + 1000 * i + s];
  });
}

/** One symbol's rows as one line of the AI-Trader JSONL format, newest key first as in the real files. */
export function aiTraderLine(symbol: string, rows: readonly Row[], series: 'Time Series (Daily)' | 'Time Series (60min)'): string {
  const ts: Record<string, Record<string, string>> = {};
  for (const [k, o, h, l, c, v] of [...rows].reverse()) {
    ts[k] = c === null ? { '1. buy price': o.toFixed(4) } : { '2. high': h!.toFixed(4), '3. low': l!.toFixed(4), '5. volume': String(v), '1. buy price': o.toFixed(4), '4. sell price': c.toFixed(4) };
  }
  return JSON.stringify({ 'Meta Data': { '1. Information': 'synthetic test data', '2. Symbol': symbol, '5. Time Zone': 'US/Eastern' }, [series]: ts });
}

export interface AiTraderFixture {
  daily: string; // path of nasdaq100_daily.jsonl
  hourly: string; // path of nasdaq100_hourly.jsonl
  rows: { day: Record<string, Row[]>; hour: Record<string, Row[]> };
}

/** Writes nasdaq100_daily.jsonl and nasdaq100_hourly.jsonl for FIXTURE_SYMBOLS into dir; `override` replaces rows by key. */
export function writeAiTraderFixture(dir: string, override: { day?: Record<string, Row[]>; hour?: Record<string, Row[]> } = {}): AiTraderFixture {
  fs.mkdirSync(dir, { recursive: true });
  const build = (keys: readonly string[], extra: Record<string, Row[]> = {}) =>
    Object.fromEntries(
      FIXTURE_SYMBOLS.map((sym) => {
        const byKey = new Map((extra[sym] ?? []).map((r) => [r[0], r]));
        return [sym, syntheticRows(sym, keys).map((r) => byKey.get(r[0]) ?? r)];
      }),
    );
  const rows = { day: build(DAILY_KEYS, override.day), hour: build(HOURLY_KEYS, override.hour) };
  const daily = path.join(dir, 'nasdaq100_daily.jsonl');
  const hourly = path.join(dir, 'nasdaq100_hourly.jsonl');
  fs.writeFileSync(daily, FIXTURE_SYMBOLS.map((s) => aiTraderLine(s, rows.day[s]!, 'Time Series (Daily)')).join('\n') + '\n');
  fs.writeFileSync(hourly, FIXTURE_SYMBOLS.map((s) => aiTraderLine(s, rows.hour[s]!, 'Time Series (60min)')).join('\n') + '\n');
  return { daily, hourly, rows };
}
