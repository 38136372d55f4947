import { describe, expect, it } from 'vitest';
import type { Bar } from './types.js';
import { computeIndicator, warmupBars, type IndicatorSpec } from './indicators.js';
import { mulberry32 } from './simulated-market.js';

// A seeded random walk of daily bars (mulberry32), so the tests are reproducible.
function walk(n: number, seed = 7, stepMs = 86_400_000, start = Date.parse('2020-01-02T14:30:00Z')): Bar[] {
  const r = mulberry32(seed);
  let c = 100;
  const bars: Bar[] = [];
  for (let i = 0; i < n; i++) {
    const o = c * (1 + (r() - 0.5) * 0.01);
    c = o * (1 + (r() - 0.5) * 0.04);
    const h = Math.max(o, c) * (1 + r() * 0.01);
    const l = Math.min(o, c) * (1 - r() * 0.01);
    bars.push({ t: new Date(start + i * stepMs).toISOString(), o, h, l, c, v: Math.round(1000 + r() * 9000) });
  }
  return bars;
}
const closesOf = (bars: Bar[]) => bars.map((b) => b.c!);

// Straightforward reference implementations.
function refEma(xs: number[], n: number): number[] {
  const out: number[] = new Array(xs.length).fill(NaN);
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i]!;
  out[n - 1] = s / n;
  for (let i = n; i < xs.length; i++) out[i] = (xs[i]! - out[i - 1]!) * (2 / (n + 1)) + out[i - 1]!;
  return out;
}
function refRsi(xs: number[], n: number): number[] {
  const out: number[] = new Array(xs.length).fill(NaN);
  const gains = xs.map((x, i) => (i === 0 ? 0 : Math.max(x - xs[i - 1]!, 0)));
  const losses = xs.map((x, i) => (i === 0 ? 0 : Math.max(xs[i - 1]! - x, 0)));
  let ag = gains.slice(1, n + 1).reduce((a, b) => a + b, 0) / n;
  let al = losses.slice(1, n + 1).reduce((a, b) => a + b, 0) / n;
  out[n] = 100 - 100 / (1 + ag / al);
  for (let i = n + 1; i < xs.length; i++) {
    ag = (ag * (n - 1) + gains[i]!) / n;
    al = (al * (n - 1) + losses[i]!) / n;
    out[i] = 100 - 100 / (1 + ag / al);
  }
  return out;
}
function refAtr(bars: Bar[], n: number): number {
  const tr = bars.slice(1).map((b, i) => Math.max(b.h! - b.l!, Math.abs(b.h! - bars[i]!.c!), Math.abs(b.l! - bars[i]!.c!)));
  let a = tr.slice(0, n).reduce((x, y) => x + y, 0) / n;
  for (let i = n; i < tr.length; i++) a = (a * (n - 1) + tr[i]!) / n;
  return a;
}
const close = (a: number, b: number, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

describe('indicators', () => {
  const bars = walk(300);
  const closes = closesOf(bars);

  it('SMA(20) is the mean of the last 20 closes', () => {
    const r = computeIndicator(bars, { name: 'sma' });
    const last20 = closes.slice(-20);
    expect(r.period).toBe(20);
    expect(r.bars_used).toBe(20);
    expect(close(r.value as number, last20.reduce((a, b) => a + b, 0) / 20)).toBe(true);
    expect(computeIndicator(bars.slice(0, 19), { name: 'sma' }).value).toBeNull();
    expect(computeIndicator(bars.slice(0, 5), { name: 'sma', period: 5 }).value).not.toBeNull();
  });

  it('EMA is seeded by the SMA of the first period', () => {
    expect(close(computeIndicator(bars.slice(0, 10), { name: 'ema', period: 10 }).value as number,
      closes.slice(0, 10).reduce((a, b) => a + b, 0) / 10)).toBe(true);
    const r = computeIndicator(bars, { name: 'ema', period: 20 });
    expect(close(r.value as number, refEma(closes, 20).at(-1)!)).toBe(true);
  });

  it('RSI matches the StockCharts Wilder example', () => {
    const xs = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28,
      46.28, 46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25, 45.71, 46.45, 45.78, 45.35, 44.03, 44.18, 44.22,
      44.57, 43.42, 42.66, 43.13];
    const asBars = xs.map((c, i): Bar => ({ t: new Date(Date.UTC(2020, 0, 1 + i)).toISOString(), o: c, h: c, l: c, c, v: 1 }));
    const at = (k: number) => computeIndicator(asBars.slice(0, k + 1), { name: 'rsi' }).value as number;
    expect(computeIndicator(asBars.slice(0, 14), { name: 'rsi' }).value).toBeNull();
    // StockCharts' sheet rounds the first averages to 2 dp (70.53, 66.32, ... 37.77); exact
    // arithmetic gives 70.46, 66.25, ... 37.79, the published numbers within 0.1.
    const published = [70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99,
      41.46, 41.87, 45.46, 37.30, 33.08, 37.77];
    published.forEach((p, i) => expect(Math.abs(at(14 + i) - p)).toBeLessThan(0.1));
    expect(at(14)).toBeCloseTo(70.4641, 4);
    const ref = refRsi(xs, 14);
    for (let k = 14; k < xs.length; k++) expect(close(at(k), ref[k]!)).toBe(true);
  });

  it('RSI, ATR and MACD match reference loops', () => {
    expect(close(computeIndicator(bars, { name: 'rsi' }).value as number, refRsi(closes, 14).at(-1)!)).toBe(true);
    expect(close(computeIndicator(bars, { name: 'atr' }).value as number, refAtr(bars, 14))).toBe(true);
    expect(computeIndicator(bars.slice(0, 14), { name: 'atr' }).value).toBeNull();
    // TA-Lib seeds the fast EMA over the 12 closes ending where the slow EMA starts (index 25)
    const e12 = [...new Array(14).fill(NaN), ...refEma(closes.slice(14), 12)];
    const e26 = refEma(closes, 26);
    const line = closes.map((_, i) => e12[i]! - e26[i]!).slice(25);
    const sig = refEma(line, 9).at(-1)!;
    const m = computeIndicator(bars, { name: 'macd' }).value as Record<string, number>;
    expect(close(m.macd!, line.at(-1)!)).toBe(true);
    expect(close(m.signal!, sig)).toBe(true);
    expect(close(m.histogram!, line.at(-1)! - sig)).toBe(true);
    expect(computeIndicator(bars.slice(0, 33), { name: 'macd' }).value).toBeNull();
    expect(computeIndicator(bars.slice(0, 34), { name: 'macd' }).value).not.toBeNull();
  });

  it('MACD: the first valid value matches TA-Lib on 34 AAPL daily closes', () => {
    // AAPL closes 2025-06-10 .. 2025-07-29 (AI-Trader nasdaq100_daily.jsonl, "4. sell price").
    // TA-Lib's ta_MACD.c (TA_INT_MACD) runs both EMAs from startIdx - lookbackSignal = 33 - 8
    // = 25, and TA_INT_EMA seeds each with the SMA of the `period` values ending there: the
    // fast EMA's seed is closes[14..25], not closes[0..11]. talib.MACD gives 3.7937 / 4.7729 / -0.9793.
    const aapl = [202.67, 198.78, 199.2, 196.45, 198.42, 195.64, 196.58, 201, 201.5, 200.3, 201.56, 201, 201.08,
      205.17, 207.82, 212.44, 213.55, 209.95, 210.01, 211.14, 212.41, 211.16, 208.62, 209.11, 210.16, 210.02,
      211.18, 212.48, 214.4, 214.15, 213.76, 213.88, 214.05, 211.27];
    const t0 = Date.parse('2025-06-10T13:30:00Z');
    const aaplBars: Bar[] = aapl.map((c, i) => ({ t: new Date(t0 + i * 86_400_000).toISOString(), o: c, h: c, l: c, c, v: 1 }));
    const m = computeIndicator(aaplBars, { name: 'macd' }).value as Record<string, number>;
    expect(m.macd).toBeCloseTo(3.7937, 4);
    expect(m.signal).toBeCloseTo(4.7729, 4);
    expect(m.histogram).toBeCloseTo(-0.9793, 4);
  });

  it('Bollinger bands use the population standard deviation', () => {
    const w = closes.slice(-20);
    const mid = w.reduce((a, b) => a + b, 0) / 20;
    const sd = Math.sqrt(w.reduce((a, b) => a + (b - mid) ** 2, 0) / 20);
    const v = computeIndicator(bars, { name: 'bbands' }).value as Record<string, number>;
    expect(close(v.middle!, mid)).toBe(true);
    expect(close(v.upper!, mid + 2 * sd)).toBe(true);
    expect(close(v.lower!, mid - 2 * sd)).toBe(true);
  });

  it('VWAP: last N daily bars, or the last New York day for intraday bars', () => {
    const tp = (b: Bar) => (b.h! + b.l! + b.c!) / 3;
    const w = bars.slice(-20);
    const daily = w.reduce((a, b) => a + tp(b) * b.v!, 0) / w.reduce((a, b) => a + b.v!, 0);
    expect(close(computeIndicator(bars, { name: 'vwap' }).value as number, daily)).toBe(true);
    // minute bars from 2025-06-09 13:30Z, 390 a day across a day boundary
    const minutes = [
      ...walk(390, 3, 60_000, Date.parse('2025-06-09T13:30:00Z')),
      ...walk(45, 4, 60_000, Date.parse('2025-06-10T13:30:00Z')),
    ];
    const today = minutes.slice(390);
    const intraday = today.reduce((a, b) => a + tp(b) * b.v!, 0) / today.reduce((a, b) => a + b.v!, 0);
    const r = computeIndicator(minutes, { name: 'vwap' });
    expect(r.bars_used).toBe(45);
    expect(close(r.value as number, intraday)).toBe(true);
    expect(close(computeIndicator(today.slice(0, 1), { name: 'vwap' }, 'minute').value as number, tp(today[0]!))).toBe(true);
  });

  it('ignores open-only bars', () => {
    const withOpen: Bar[] = [...bars, { t: '2099-01-01T14:30:00.000Z', o: 1, h: null, l: null, c: null, v: null }];
    for (const name of ['sma', 'ema', 'rsi', 'macd', 'bbands', 'atr', 'vwap'] as const) {
      expect(computeIndicator(withOpen, { name })).toEqual(computeIndicator(bars, { name }));
    }
    expect(computeIndicator([], { name: 'ema' }).value).toBeNull();
  });

  it('warmupBars of history reproduce a 1000-bar history within 1e-6', () => {
    const long = walk(1000, 11);
    const specs: IndicatorSpec[] = [
      { name: 'sma' }, { name: 'ema' }, { name: 'ema', period: 50 }, { name: 'rsi' }, { name: 'rsi', period: 2 },
      { name: 'macd' }, { name: 'bbands' }, { name: 'atr' }, { name: 'vwap' },
    ];
    for (const spec of specs) {
      const n = warmupBars(spec, 'day');
      expect(n).toBeLessThan(1000);
      const a = computeIndicator(long.slice(-n), spec).value;
      const b = computeIndicator(long, spec).value;
      expect(a, spec.name).not.toBeNull();
      if (typeof b === 'number') expect(close(a as number, b, 1e-6), `${spec.name}(${spec.period})`).toBe(true);
      else for (const k of Object.keys(b!)) {
        // MACD components are differences of prices: compare on the price scale
        expect(Math.abs((a as Record<string, number>)[k]! - b![k]!)).toBeLessThan(1e-6 * long.at(-1)!.c!);
      }
    }
  });
});
