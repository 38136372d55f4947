// A deterministic market for a machine with no data and no key: the same request gives the
// same bars forever. Each symbol gets its own drift, volatility, starting price and volume
// from a hash of its name. Each trading day's open and close come from a daily walk
// anchored at ANCHOR_DATE (open = previous close × (1 + overnight gap)), drawn from a PRNG
// seeded by symbol and date, so any day costs one walk step once the walk is cached. The
// minutes of a day are a Brownian bridge (in log price) from that open to that close, so a
// day never needs another day's minutes.

import type { Bar, Timespan } from './types.js';
import { roundPrice } from './money.js';
import { isTradingDay, nextTradingDay, prevTradingDay, sessionFor } from './calendar.js';

/** Well-known tickers offered by list_symbols; any other symbol string works too. */
export const SIMULATED_SYMBOLS: string[] = [
  'AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'BRK.B', 'JPM', 'V',
  'UNH', 'XOM', 'JNJ', 'WMT', 'PG', 'MA', 'HD', 'KO', 'NFLX', 'AMD', 'SPY', 'QQQ',
];

/**
 * The simulated market serves trading days from here on (through today: callers bound
 * bars by the wall clock); earlier dates have no bars rather than invented ones.
 */
export const SIMULATED_FIRST_DATE = '2000-01-03';

/** The walk starts here: the symbol's starting price is this day's open. */
export const ANCHOR_DATE = '2020-01-02';
/** Overnight gaps are clipped to ± this fraction. */
export const MAX_GAP = 0.08;

const TRADING_DAYS_PER_YEAR = 252;
const FULL_DAY_MINUTES = 390;
const OVERNIGHT_VARIANCE_SHARE = 0.25;
const MIN_PRICE = 0.0001;

// ---- seeded randomness ------------------------------------------------------------------

/** 32-bit string hash (cyrb53 folded to 32 bits). */
function hash32(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 ^ h2) >>> 0;
}

/** mulberry32: uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Rng {
  uniform(): number;
  normal(): number;
}

function rngFor(key: string): Rng {
  const u = mulberry32(hash32(key));
  let spare: number | null = null;
  return {
    uniform: u,
    normal() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      const r = Math.sqrt(-2 * Math.log(1 - u())); // 1-u in (0,1]: no log(0)
      const theta = 2 * Math.PI * u();
      spare = r * Math.sin(theta);
      return r * Math.cos(theta);
    },
  };
}

// ---- per-symbol character ---------------------------------------------------------------

interface SymbolProfile {
  /** annualised volatility, 15%..60% */
  vol: number;
  /** annual drift, -5%..+15% */
  drift: number;
  /** open on ANCHOR_DATE, 20..500 (log-uniform) */
  startPrice: number;
  /** typical shares per full day */
  dailyVolume: number;
}

function profileOf(symbol: string): SymbolProfile {
  const r = rngFor(`profile|${symbol}`);
  return {
    vol: 0.15 + 0.45 * r.uniform(),
    drift: -0.05 + 0.2 * r.uniform(),
    startPrice: Math.exp(Math.log(20) + Math.log(25) * r.uniform()),
    dailyVolume: Math.exp(Math.log(3e5) + Math.log(100) * r.uniform()),
  };
}

// ---- the daily walk -----------------------------------------------------------------------

interface DayOC {
  open: number;
  close: number;
}

interface Walk {
  profile: SymbolProfile;
  days: Map<string, DayOC>;
  /** latest and earliest day walked so far */
  last: string;
  first: string;
}

const walks = new Map<string, Walk>();

/** The overnight gap into `date` and the open-to-close log return of `date`. */
function dayDraws(symbol: string, profile: SymbolProfile, date: string): { gap: number; ret: number } {
  const r = rngFor(`day|${symbol}|${date}`);
  const sigmaDay = profile.vol / Math.sqrt(TRADING_DAYS_PER_YEAR);
  const sigmaGap = sigmaDay * Math.sqrt(OVERNIGHT_VARIANCE_SHARE);
  const sigmaIntraday = sigmaDay * Math.sqrt(1 - OVERNIGHT_VARIANCE_SHARE);
  const gap = Math.max(-MAX_GAP, Math.min(MAX_GAP, sigmaGap * r.normal()));
  const mu = profile.drift / TRADING_DAYS_PER_YEAR - (sigmaDay * sigmaDay) / 2;
  const ret = Math.max(-0.3, Math.min(0.3, mu + sigmaIntraday * r.normal()));
  return { gap, ret };
}

function walkFor(symbol: string): Walk {
  let w = walks.get(symbol);
  if (!w) {
    if (walks.size > 2_000) walks.clear(); // bound memory in a long-running server
    const profile = profileOf(symbol);
    const { ret } = dayDraws(symbol, profile, ANCHOR_DATE);
    const open = profile.startPrice;
    w = { profile, days: new Map([[ANCHOR_DATE, { open, close: open * Math.exp(ret) }]]), last: ANCHOR_DATE, first: ANCHOR_DATE };
    walks.set(symbol, w);
  }
  return w;
}

/** Unrounded open and close of a trading day. */
function dayOC(symbol: string, date: string): DayOC {
  const w = walkFor(symbol);
  const hit = w.days.get(date);
  if (hit) return hit;
  while (date > w.last) {
    const prev = w.days.get(w.last)!;
    const d = nextTradingDay(w.last);
    const { gap, ret } = dayDraws(symbol, w.profile, d);
    const open = prev.close * (1 + gap);
    w.days.set(d, { open, close: open * Math.exp(ret) });
    w.last = d;
  }
  while (date < w.first) {
    const later = w.days.get(w.first)!;
    const { gap } = dayDraws(symbol, w.profile, w.first);
    const d = prevTradingDay(w.first);
    const close = later.open / (1 + gap);
    w.days.set(d, { open: close / Math.exp(dayDraws(symbol, w.profile, d).ret), close });
    w.first = d;
  }
  return w.days.get(date)!;
}

// ---- one day's minutes ----------------------------------------------------------------------

function normalizeSymbol(symbol: string): string {
  return symbol.trim().toUpperCase();
}

function price(x: number): number {
  return Math.max(MIN_PRICE, roundPrice(x));
}

/** U-shaped weight of minute i of n: heavy at the open and the close, light at midday. */
function volumeWeight(i: number, n: number): number {
  const x = (i + 0.5) / n;
  return 0.5 + 2.5 * (2 * x - 1) ** 2 + 2.5 * Math.exp(-i / 8) + 2 * Math.exp(-(n - 1 - i) / 6);
}

const weightTables = new Map<number, Float64Array>();
function volumeWeights(n: number): Float64Array {
  let t = weightTables.get(n);
  if (!t) {
    t = new Float64Array(n);
    for (let i = 0; i < n; i++) t[i] = volumeWeight(i, n);
    weightTables.set(n, t);
  }
  return t;
}

/**
 * Walks a day's minutes. With `emit`, returns every minute bar; without, only the day's
 * aggregate. Both consume the same draws, and exp and rounding are monotone, so the aggregate
 * equals the aggregation of the emitted minutes while skipping the per-minute exp and rounding.
 */
function dayPath(symbol: string, date: string, emit: boolean): { minutes: Bar[]; day: Bar } {
  const session = sessionFor(date)!;
  const w = walkFor(symbol);
  const { open, close } = dayOC(symbol, date);
  const n = Math.round((session.close.getTime() - session.open.getTime()) / 60_000);
  const r = rngFor(`path|${symbol}|${date}`);
  const sigmaIntraday = (w.profile.vol / Math.sqrt(TRADING_DAYS_PER_YEAR)) * Math.sqrt(1 - OVERNIGHT_VARIANCE_SHARE);
  const s = sigmaIntraday / Math.sqrt(FULL_DAY_MINUTES);

  // Brownian bridge in log price: a free walk, then the straight line through its end removed.
  const walk = new Float64Array(n + 1);
  for (let i = 1; i <= n; i++) walk[i] = walk[i - 1]! + s * r.normal();
  const lo = Math.log(open);
  const lc = Math.log(close);
  const end = walk[n]!;
  const logAt = (i: number) => lo + (i / n) * (lc - lo) + walk[i]! - (i / n) * end;

  const dayVolume = w.profile.dailyVolume * Math.exp(0.35 * r.normal() - 0.06);
  const perMinute = dayVolume / FULL_DAY_MINUTES / 1.4; // 1.4 ≈ mean U weight over a day
  const weights = volumeWeights(n);
  const openMs = session.open.getTime();
  const minutes: Bar[] = [];
  let logHi = -Infinity;
  let logLo = Infinity;
  let volume = 0;
  let x0 = lo;
  for (let i = 0; i < n; i++) {
    const x1 = i + 1 === n ? lc : logAt(i + 1);
    // wicks (in log price) and volume noise from uniforms: cheaper than normals
    const lh = Math.max(x0, x1) + r.uniform() * s;
    const ll = Math.min(x0, x1) - r.uniform() * s;
    const v = Math.max(1, Math.round(perMinute * weights[i]! * (0.5 + r.uniform())));
    volume += v;
    if (lh > logHi) logHi = lh;
    if (ll < logLo) logLo = ll;
    if (emit) {
      // exact ends: the first open is the day's open, the last close the day's close
      const ro = price(i === 0 ? open : Math.exp(x0));
      const rc = price(i + 1 === n ? close : Math.exp(x1));
      minutes.push({
        t: new Date(openMs + i * 60_000).toISOString(),
        o: ro,
        h: Math.max(price(Math.exp(lh)), ro, rc),
        l: Math.min(price(Math.exp(ll)), ro, rc),
        c: rc,
        v,
      });
    }
    x0 = x1;
  }
  // exp and rounding are monotone, so these equal the max/min over the emitted minutes
  const o = price(open);
  const c = price(close);
  const day: Bar = {
    t: session.open.toISOString(), // = dayBarStart(date)
    o,
    h: Math.max(price(Math.exp(logHi)), o, c),
    l: Math.min(price(Math.exp(logLo)), o, c),
    c,
    v: volume,
  };
  return { minutes, day };
}

const dailyCache = new Map<string, Bar>();

function dailyBar(symbol: string, date: string): Bar {
  const key = `${symbol}|${date}`;
  let bar = dailyCache.get(key);
  if (!bar) {
    bar = dayPath(symbol, date, false).day;
    if (dailyCache.size > 200_000) dailyCache.clear();
    dailyCache.set(key, bar);
  }
  return { ...bar };
}

function aggregate(bars: Bar[]): Bar {
  let h = -Infinity;
  let l = Infinity;
  let v = 0;
  for (const b of bars) {
    h = Math.max(h, b.h!);
    l = Math.min(l, b.l!);
    v += b.v!;
  }
  return { t: bars[0]!.t, o: bars[0]!.o, h, l, c: bars.at(-1)!.c, v };
}

/**
 * A trading day's regular-session bars: minutes (390, or 210 on a half day), hours
 * (starting 09:30, 10:30, …; the last one ends at the close) or the one daily bar
 * (t = dayBarStart(date)). Empty on a non-trading day and before SIMULATED_FIRST_DATE. Symbols are matched case-insensitively.
 */
export function simulatedBars(symbol: string, timespan: Timespan, date: string): Bar[] {
  if (date < SIMULATED_FIRST_DATE || !isTradingDay(date)) return [];
  const sym = normalizeSymbol(symbol);
  if (timespan === 'day') return [dailyBar(sym, date)];
  const { minutes } = dayPath(sym, date, true);
  if (timespan === 'minute') return minutes;
  const hours: Bar[] = [];
  for (let i = 0; i < minutes.length; i += 60) hours.push(aggregate(minutes.slice(i, i + 60)));
  return hours;
}

/** Daily bars of every trading day in [from, to] (YYYY-MM-DD, inclusive, from SIMULATED_FIRST_DATE on), ascending. */
export function simulatedDailyRange(symbol: string, from: string, to: string): Bar[] {
  const sym = normalizeSymbol(symbol);
  const out: Bar[] = [];
  const first = from < SIMULATED_FIRST_DATE ? SIMULATED_FIRST_DATE : from;
  let d = isTradingDay(first) ? first : nextTradingDay(first);
  for (; d <= to; d = nextTradingDay(d)) out.push(dailyBar(sym, d));
  return out;
}
