// Technical indicators at the last visible bar. The caller passes bars ascending and already
// filtered as of the clock; nothing here can see a future bar.
//
// Open-only bars (h, l or c null; the bar starting at the clock) are ignored, as are bars
// with non-finite prices. VWAP also ignores bars with a null volume.

import type { Bar, Timespan } from './types.js';
import { nyLocal } from './ny-time.js';

export type IndicatorName = 'sma' | 'ema' | 'rsi' | 'macd' | 'bbands' | 'atr' | 'vwap';

export interface IndicatorSpec {
  name: IndicatorName;
  period?: number;
}

export interface IndicatorResult {
  name: IndicatorName;
  /** The period used; null where no single period applies (MACD 12/26/9, intraday VWAP). */
  period: number | null;
  value: number | Record<string, number> | null;
  /** Valid bars the value was computed from (recursive indicators: every bar of the warm-up). */
  bars_used: number;
}

const DEFAULT_PERIOD: Record<IndicatorName, number | null> = {
  sma: 20,
  ema: 20,
  rsi: 14,
  macd: null,
  bbands: 20,
  atr: 14,
  vwap: 20,
};

export const MACD_FAST = 12;
export const MACD_SLOW = 26;
export const MACD_SIGNAL = 9;
export const BBANDS_STDDEV = 2;

interface FullBar {
  t: string;
  h: number;
  l: number;
  c: number;
  v: number | null;
}

function periodOf(spec: IndicatorSpec): number | null {
  const p = spec.period ?? DEFAULT_PERIOD[spec.name];
  if (p === null) return null;
  if (!Number.isInteger(p) || p < 1) throw new Error(`${spec.name}: period must be a positive integer`);
  return p;
}

function completeBars(bars: Bar[]): FullBar[] {
  const out: FullBar[] = [];
  for (const b of bars) {
    if (b.h === null || b.l === null || b.c === null) continue;
    if (!Number.isFinite(b.h) || !Number.isFinite(b.l) || !Number.isFinite(b.c)) continue;
    out.push({ t: b.t, h: b.h, l: b.l, c: b.c, v: b.v });
  }
  return out;
}

/**
 * The indicator's value at the last bar, or null when there are too few bars.
 * `timespan` tells VWAP whether bars are intraday; without it, bars less than 12 h apart
 * are taken as intraday and a lone bar as daily.
 */
export function computeIndicator(bars: Bar[], spec: IndicatorSpec, timespan?: Timespan): IndicatorResult {
  const full = completeBars(bars);
  const closes = full.map((b) => b.c);
  const period = periodOf(spec);
  const result = (value: IndicatorResult['value'], used: number, p: number | null = period): IndicatorResult =>
    ({ name: spec.name, period: p, value, bars_used: value === null ? 0 : used });

  switch (spec.name) {
    case 'sma': {
      const n = period!;
      if (closes.length < n) return result(null, 0);
      return result(mean(closes.slice(-n)), n);
    }
    case 'ema': {
      const v = emaSeries(closes, period!).at(-1);
      return result(v ?? null, closes.length);
    }
    case 'rsi':
      return result(rsi(closes, period!), closes.length);
    case 'macd': {
      const m = macd(closes);
      return result(m, closes.length, null);
    }
    case 'bbands': {
      const n = period!;
      if (closes.length < n) return result(null, 0);
      const window = closes.slice(-n);
      const middle = mean(window);
      const sd = Math.sqrt(mean(window.map((c) => (c - middle) ** 2)));
      return result({ upper: middle + BBANDS_STDDEV * sd, middle, lower: middle - BBANDS_STDDEV * sd }, n);
    }
    case 'atr':
      return result(atr(full, period!), full.length);
    case 'vwap': {
      const withVolume = full.filter((b) => b.v !== null && Number.isFinite(b.v));
      const intraday = timespan ? timespan !== 'day' : looksIntraday(withVolume);
      let window: FullBar[];
      if (intraday) {
        const last = withVolume.at(-1);
        if (!last) return result(null, 0, null);
        const day = nyLocal(new Date(last.t)).date;
        let i = withVolume.length - 1;
        while (i > 0 && nyLocal(new Date(withVolume[i - 1]!.t)).date === day) i--;
        window = withVolume.slice(i);
      } else {
        if (withVolume.length < period!) return result(null, 0);
        window = withVolume.slice(-period!);
      }
      let pv = 0;
      let vol = 0;
      for (const b of window) {
        pv += ((b.h + b.l + b.c) / 3) * b.v!;
        vol += b.v!;
      }
      return result(vol > 0 ? pv / vol : null, window.length, intraday ? null : period);
    }
  }
}

/**
 * Bars of history to fetch (including the bar the value is for) so that recursive
 * indicators have forgotten their seed: the value then matches one computed over a very
 * long history to about 1e-8 relative. EMA weights decay as (1-2/(n+1))^k, Wilder's as
 * (1-1/n)^k; 10(n+1) and 20n bars of warm-up put the seed's weight near e^-20.
 * Intraday VWAP needs the session's bars: a full extended day (960 minutes or 16 hours).
 */
export function warmupBars(spec: IndicatorSpec, timespan?: Timespan): number {
  const p = periodOf(spec);
  switch (spec.name) {
    case 'sma':
    case 'bbands':
      return p!;
    case 'ema':
      return Math.max(10 * (p! + 1), 100);
    case 'rsi':
    case 'atr':
      return Math.max(20 * p! + 1, 100);
    case 'macd':
      return 10 * (MACD_SLOW + 1) + 10 * (MACD_SIGNAL + 1);
    case 'vwap':
      if (timespan === 'minute') return 960;
      if (timespan === 'hour') return 16;
      return p!;
  }
}

function mean(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** EMA seeded with the SMA of the first n values; entry i is the EMA at xs[n-1+i]. */
function emaSeries(xs: number[], n: number): number[] {
  if (xs.length < n) return [];
  const k = 2 / (n + 1);
  let e = mean(xs.slice(0, n));
  const out = [e];
  for (let i = n; i < xs.length; i++) {
    e = xs[i]! * k + e * (1 - k);
    out.push(e);
  }
  return out;
}

/** Wilder's RSI: averages seeded with the simple mean of the first n changes. */
function rsi(closes: number[], n: number): number | null {
  if (closes.length < n + 1) return null;
  let gain = 0;
  let loss = 0;
  for (let i = 1; i <= n; i++) {
    const d = closes[i]! - closes[i - 1]!;
    if (d > 0) gain += d;
    else loss -= d;
  }
  gain /= n;
  loss /= n;
  for (let i = n + 1; i < closes.length; i++) {
    const d = closes[i]! - closes[i - 1]!;
    gain = (gain * (n - 1) + Math.max(d, 0)) / n;
    loss = (loss * (n - 1) + Math.max(-d, 0)) / n;
  }
  if (loss === 0) return gain === 0 ? 50 : 100; // flat series reads neutral
  return 100 - 100 / (1 + gain / loss);
}

/**
 * MACD 12/26/9 as TA-Lib computes it (ta_MACD.c, TA_INT_MACD): both EMAs start at the same
 * bar, the slow one's first (index 25), so the fast EMA is seeded with the SMA of the 12
 * closes ending there, not the first 12; the signal is the 9-EMA of the line, SMA-seeded.
 */
function macd(closes: number[]): Record<string, number> | null {
  const slow = emaSeries(closes, MACD_SLOW);
  if (slow.length === 0) return null;
  // fast[j] and slow[j] are both the EMA at index MACD_SLOW-1+j
  const fast = emaSeries(closes.slice(MACD_SLOW - MACD_FAST), MACD_FAST);
  const line = slow.map((s, j) => fast[j]! - s);
  const signal = emaSeries(line, MACD_SIGNAL).at(-1);
  if (signal === undefined) return null;
  const m = line.at(-1)!;
  return { macd: m, signal, histogram: m - signal };
}

/** Wilder's ATR: true ranges from the second bar on (each needs a previous close), seeded by their mean. */
function atr(bars: FullBar[], n: number): number | null {
  if (bars.length < n + 1) return null;
  const tr = (i: number) => {
    const b = bars[i]!;
    const pc = bars[i - 1]!.c;
    return Math.max(b.h - b.l, Math.abs(b.h - pc), Math.abs(b.l - pc));
  };
  let a = 0;
  for (let i = 1; i <= n; i++) a += tr(i);
  a /= n;
  for (let i = n + 1; i < bars.length; i++) a = (a * (n - 1) + tr(i)) / n;
  return a;
}

function looksIntraday(bars: FullBar[]): boolean {
  for (let i = 1; i < bars.length; i++) {
    if (Date.parse(bars[i]!.t) - Date.parse(bars[i - 1]!.t) < 12 * 3_600_000) return true;
  }
  return false;
}
