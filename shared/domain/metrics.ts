// Performance metrics of an equity curve (CONTRACT §5). Pure: no I/O.
//
// Conventions (the tool description states them too):
// - Returns are simple returns r_i = v_i / v_{i-1} − 1 of the equity curve: per clock step for
//   daily runs; for intraday runs (minute replays, live runs) per session close, the value at
//   the last point of each New York date with the run's start value first (empyrical, pyfolio,
//   QuantStats and LEAN measure daily returns at each close), or per step on request
//   (returnSeries).
// - periods_per_year: 252 for daily steps and session closes, 252 × 390 for minute steps.
// - Risk-free rate 0. Standard deviation with ddof = 1 (sample).
// - Sharpe = mean(r) / std(r) × √periods_per_year.
// - Sortino = mean(r) / DD × √periods_per_year, DD = √mean(min(r, 0)²) (downside deviation
//   against 0 over every return, empyrical's downside_risk).
// - Max drawdown = min(v / running max(v) − 1) over every recorded point, the starting value
//   being the first; it starts at the last peak before the valley (the latest point at the
//   running max, not the first of a flat stretch there).
// - Annualized return = (1 + total)^(periods_per_year / n) − 1, n = number of returns.
// - Calmar = annualized return / |max drawdown|.
// - Benchmark: beta = cov(r, b) / var(b) (ddof 1 both), alpha = (mean(r) − beta·mean(b)) ×
//   periods_per_year (arithmetic, as empyrical's regression intercept × 252), correlation =
//   Pearson, tracking error = std(r − b) × √periods_per_year, information ratio = mean(r − b)
//   / std(r − b) × √periods_per_year.
// - Win rate, profit factor, payoff ratio per FIFO round trip; a zero P&L counts as a loss.
// Anything undefined (too few returns, zero volatility, no losing round trip…) is null and
// a sentence in `notes` says why: never NaN, Infinity or a made-up 0.

import { nyOffsetMs } from './ny-time.js';

export const DAILY_PERIODS_PER_YEAR = 252;
export const MINUTE_PERIODS_PER_YEAR = 252 * 390;

/** Which series the return metrics were computed on. */
export type ReturnsBasis = 'per_step' | 'session_close';

/**
 * An equity curve as columns: `clock[i]` the UTC instant in epoch milliseconds, `value[i]` the
 * total value in dollars, in time order. The metric functions read these arrays (no object
 * per point); the store reads them straight from SQL (store/analyst.ts loadEquityColumns) and
 * they move to a worker thread without copying.
 */
export interface EquityColumns {
  clock: Float64Array;
  value: Float64Array;
}

/** Points as columns. */
export function equityColumns(points: readonly EquityPoint[]): EquityColumns {
  const n = points.length;
  const clock = new Float64Array(n);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    clock[i] = Date.parse(points[i]!.clock);
    value[i] = points[i]!.value;
  }
  return { clock, value };
}

/** The points of some indexes of a curve (a return series), as columns. */
export function pickColumns(cols: EquityColumns, index: ArrayLike<number>): EquityColumns {
  const clock = new Float64Array(index.length);
  const value = new Float64Array(index.length);
  for (let i = 0; i < index.length; i++) {
    clock[i] = cols.clock[index[i]!]!;
    value[i] = cols.value[index[i]!]!;
  }
  return { clock, value };
}

/**
 * Indexes of the last point of each New York date, after the first point (the run's start
 * value), which stays first; a date whose last point is the first point adds nothing. Clocks
 * ascending (epoch ms). New York's offset is read twice per date (at its first point and its
 * next midnight), not per point.
 */
export function sessionCloseIndex(clock: ArrayLike<number>): Int32Array {
  const n = clock.length;
  if (!n) return new Int32Array(0);
  const out = new Int32Array(n);
  out[0] = 0;
  let k = 1;
  // the New York date of the previous point and the UTC instant its next midnight falls at
  let lastDay = NaN;
  let dayEnd = -Infinity;
  for (let i = 1; i < n; i++) {
    const t = clock[i]!;
    if (t < dayEnd) {
      out[k - 1] = i;
      continue;
    }
    const day = Math.floor((t + nyOffsetMs(t)) / DAY_MS);
    // New York changes its offset at 02:00 local, so its next midnight has the offset of the
    // evening before: of the instant `midnight` read as UTC (19:00 or 20:00 New York time)
    const midnight = (day + 1) * DAY_MS;
    dayEnd = midnight - nyOffsetMs(midnight);
    if (day === lastDay) out[k - 1] = i;
    else {
      out[k++] = i;
      lastDay = day;
    }
  }
  return out.slice(0, k);
}

const DAY_MS = 86_400_000;

/**
 * The last point of each New York date, after the first point (the run's start value), which
 * stays first; a date whose last point is the first point adds nothing. Points in time order.
 */
export function sessionCloses<P extends { clock: string }>(points: readonly P[]): P[] {
  const clock = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) clock[i] = Date.parse(points[i]!.clock);
  return Array.from(sessionCloseIndex(clock), (i) => points[i]!);
}

/**
 * Which points of a run's curve its return metrics are computed on (`index`, null: every
 * point) and its periods_per_year: a daily run's steps (252); an intraday run's session
 * closes (252) unless `asked` is 'per_step' (252 × 390). `notes` gets a sentence when a daily
 * run was asked for session closes (its steps are sessions).
 */
export function returnSeriesIndex(
  clock: ArrayLike<number>,
  timespan: 'day' | 'minute' | null,
  asked: ReturnsBasis | undefined,
  notes?: string[],
): { index: Int32Array | null; basis: ReturnsBasis; periods_per_year: number } {
  if (timespan === 'day') {
    if (asked === 'session_close') notes?.push("A daily run steps once per session: its per-step returns are the session returns.");
    return { index: null, basis: 'per_step', periods_per_year: DAILY_PERIODS_PER_YEAR };
  }
  if (asked === 'per_step') return { index: null, basis: 'per_step', periods_per_year: MINUTE_PERIODS_PER_YEAR };
  return { index: sessionCloseIndex(clock), basis: 'session_close', periods_per_year: DAILY_PERIODS_PER_YEAR };
}

/** returnSeriesIndex over points: the series' points themselves. */
export function returnSeries<P extends { clock: string }>(
  points: readonly P[],
  timespan: 'day' | 'minute' | null,
  asked: ReturnsBasis | undefined,
  notes?: string[],
): { points: P[]; basis: ReturnsBasis; periods_per_year: number } {
  const clock = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) clock[i] = Date.parse(points[i]!.clock);
  const s = returnSeriesIndex(clock, timespan, asked, notes);
  return { points: s.index ? Array.from(s.index, (i) => points[i]!) : [...points], basis: s.basis, periods_per_year: s.periods_per_year };
}

/** Simple returns v_i / v_{i-1} − 1 of a value series; a step from a value ≤ 0 gives null. */
export function simpleReturns(values: readonly number[]): (number | null)[] {
  const out: (number | null)[] = [];
  for (let i = 1; i < values.length; i++) {
    const prev = values[i - 1]!;
    out.push(prev > 0 ? values[i]! / prev - 1 : null);
  }
  return out;
}

export function mean(xs: ArrayLike<number>): number | null {
  if (!xs.length) return null;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** Sample standard deviation (ddof = 1); null for fewer than 2 values. */
export function sampleStd(xs: ArrayLike<number>, m = mean(xs)): number | null {
  if (xs.length < 2 || m === null) return null;
  let ss = 0;
  for (let i = 0; i < xs.length; i++) ss += (xs[i]! - m) * (xs[i]! - m);
  return Math.sqrt(ss / (xs.length - 1));
}

/** √mean(min(r, 0)²) per period (empyrical downside_risk before annualizing); null for no returns. */
export function downsideDeviation(returns: ArrayLike<number>): number | null {
  if (!returns.length) return null;
  let ss = 0;
  for (let i = 0; i < returns.length; i++) {
    const r = returns[i]!;
    if (r < 0) ss += r * r;
  }
  return Math.sqrt(ss / returns.length);
}

/** A value or null with the reason; `nonFinite` reasons guard divisions by ~0. */
type Maybe = { value: number; why?: undefined } | { value: null; why: string };
const some = (value: number): Maybe => (Number.isFinite(value) ? { value } : { value: null, why: 'the value is not finite' });
const none = (why: string): Maybe => ({ value: null, why });

// A standard deviation this small relative to the mean is rounding noise: treat it as zero.
const isZeroSpread = (std: number) => std < 1e-15;

/**
 * The moments the return ratios read, each summed in series order (so a figure is the same
 * whichever function asks): count, mean, sample std (ddof 1, null under 2 returns) and the
 * downside deviation. Three passes over the returns.
 */
export interface ReturnMoments {
  n: number;
  mean: number | null;
  std: number | null;
  downside: number | null;
}

export function returnMoments(returns: ArrayLike<number>): ReturnMoments {
  const m = mean(returns);
  return { n: returns.length, mean: m, std: sampleStd(returns, m), downside: downsideDeviation(returns) };
}

/** mean / std(ddof 1) × √ppy. */
export function sharpeRatio(returns: ArrayLike<number>, ppy: number): Maybe {
  return sharpeOf(returnMoments(returns), ppy);
}

function sharpeOf(m: ReturnMoments, ppy: number): Maybe {
  if (m.n < 2) return none(`sharpe needs at least 2 returns, the run has ${m.n}`);
  if (isZeroSpread(m.std!)) return none('sharpe is undefined: the returns have zero volatility');
  return some((m.mean! / m.std!) * Math.sqrt(ppy));
}

/** mean / downside deviation × √ppy. */
export function sortinoRatio(returns: ArrayLike<number>, ppy: number): Maybe {
  return sortinoOf(returnMoments(returns), ppy);
}

function sortinoOf(m: ReturnMoments, ppy: number): Maybe {
  if (m.n < 2) return none(`sortino needs at least 2 returns, the run has ${m.n}`);
  if (isZeroSpread(m.downside!)) return none('sortino is undefined: no return was negative (zero downside deviation)');
  return some((m.mean! / m.downside!) * Math.sqrt(ppy));
}

/** std(ddof 1) × √ppy. */
export function annualizedVolatility(returns: ArrayLike<number>, ppy: number): Maybe {
  return volatilityOf(returnMoments(returns), ppy);
}

function volatilityOf(m: ReturnMoments, ppy: number): Maybe {
  if (m.n < 2) return none(`volatility needs at least 2 returns, the run has ${m.n}`);
  return some(m.std! * Math.sqrt(ppy));
}

/** (1 + total)^(ppy / n) − 1. */
export function annualizedReturn(totalReturn: number, n: number, ppy: number): Maybe {
  if (n < 1) return none('annualized_return needs at least 1 return');
  if (1 + totalReturn < 0) return none('annualized_return is undefined: the equity went below zero');
  return some(Math.pow(1 + totalReturn, ppy / n) - 1);
}

export interface Drawdown {
  /** min(v / running max − 1), a fraction ≤ 0. */
  max_drawdown: number;
  /** Index of the last peak before the deepest point (null when there is no drawdown). */
  peak: number | null;
  valley: number | null;
  /** Index where the equity first regained the peak after the valley, or null. */
  recovery: number | null;
  /** Steps from the peak to the recovery, or to the last point when not recovered. */
  duration_periods: number | null;
}

/** Max drawdown of a value series (the first value is the starting point) with its peak, valley and recovery. */
export function maxDrawdown(values: ArrayLike<number>): Drawdown {
  let peakIdx = 0;
  let best = { dd: 0, peak: -1, valley: -1 };
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // ≥: the latest point at the high is the peak the fall starts from
    if (v >= values[peakIdx]!) peakIdx = i;
    const p = values[peakIdx]!;
    if (p > 0) {
      const dd = v / p - 1;
      if (dd < best.dd) best = { dd, peak: peakIdx, valley: i };
    }
  }
  if (best.peak < 0) return { max_drawdown: 0, peak: null, valley: null, recovery: null, duration_periods: null };
  let recovery: number | null = null;
  for (let i = best.valley + 1; i < values.length; i++) {
    if (values[i]! >= values[best.peak]!) {
      recovery = i;
      break;
    }
  }
  return {
    max_drawdown: best.dd,
    peak: best.peak,
    valley: best.valley,
    recovery,
    duration_periods: (recovery ?? values.length - 1) - best.peak,
  };
}

export interface BenchmarkStats {
  beta: number | null;
  alpha: number | null;
  correlation: number | null;
  tracking_error: number | null;
  information_ratio: number | null;
}

/** Beta, annualized alpha, correlation, tracking error and information ratio of r against b (same length). */
export function benchmarkStats(r: readonly number[], b: readonly number[], ppy: number, notes: string[]): BenchmarkStats {
  const out: BenchmarkStats = { beta: null, alpha: null, correlation: null, tracking_error: null, information_ratio: null };
  if (r.length !== b.length) throw new RangeError(`Return series differ in length: ${r.length} vs ${b.length}.`);
  if (r.length < 2) {
    notes.push(`Benchmark statistics need at least 2 returns, the run has ${r.length}.`);
    return out;
  }
  const mr = mean(r)!;
  const mb = mean(b)!;
  let cov = 0;
  let vb = 0;
  let vr = 0;
  for (let i = 0; i < r.length; i++) {
    cov += (r[i]! - mr) * (b[i]! - mb);
    vb += (b[i]! - mb) ** 2;
    vr += (r[i]! - mr) ** 2;
  }
  cov /= r.length - 1;
  vb /= r.length - 1;
  vr /= r.length - 1;
  if (isZeroSpread(Math.sqrt(vb))) {
    notes.push('beta, alpha and correlation are undefined: the benchmark returns have zero variance.');
  } else {
    out.beta = cov / vb;
    out.alpha = (mr - out.beta * mb) * ppy;
    if (isZeroSpread(Math.sqrt(vr))) notes.push('correlation is undefined: the run returns have zero variance.');
    else out.correlation = cov / Math.sqrt(vb * vr);
  }
  const active = r.map((x, i) => x - b[i]!);
  const te = sampleStd(active)!;
  if (isZeroSpread(te)) {
    out.tracking_error = 0;
    notes.push('information_ratio is undefined: the run tracks the benchmark exactly (zero tracking error).');
  } else {
    out.tracking_error = te * Math.sqrt(ppy);
    out.information_ratio = (mean(active)! / te) * Math.sqrt(ppy);
  }
  return out;
}

export interface TradeStats {
  round_trips: number;
  win_rate: number | null;
  profit_factor: number | null;
  payoff_ratio: number | null;
  /** Mean P&L of winning round trips, dollars. */
  avg_win: number | null;
  /** Mean P&L of losing round trips (zero included), dollars, ≤ 0. */
  avg_loss: number | null;
}

/** Per-round-trip statistics from net P&Ls in cents; a zero P&L is a loss. */
export function tradeStats(pnlCents: readonly number[], notes: string[]): TradeStats {
  const wins = pnlCents.filter((p) => p > 0);
  const losses = pnlCents.filter((p) => p <= 0);
  const grossWin = wins.reduce((s, p) => s + p, 0);
  const grossLoss = -losses.reduce((s, p) => s + p, 0);
  const out: TradeStats = {
    round_trips: pnlCents.length,
    win_rate: pnlCents.length ? wins.length / pnlCents.length : null,
    profit_factor: null,
    payoff_ratio: null,
    avg_win: wins.length ? grossWin / wins.length / 100 : null,
    avg_loss: losses.length ? -grossLoss / losses.length / 100 : null,
  };
  if (!pnlCents.length) {
    notes.push('win_rate, profit_factor, payoff_ratio, avg_win and avg_loss are undefined: the run has no closed round trip.');
    return out;
  }
  if (grossLoss > 0) out.profit_factor = grossWin / grossLoss;
  else notes.push('profit_factor is undefined: no round trip lost money (gross loss is 0).');
  if (!wins.length) notes.push('avg_win and payoff_ratio are undefined: no round trip won.');
  if (!losses.length) notes.push('avg_loss is undefined: no round trip lost.');
  if (wins.length && losses.length) {
    if (grossLoss > 0) out.payoff_ratio = out.avg_win! / Math.abs(out.avg_loss!);
    else notes.push('payoff_ratio is undefined: the losing round trips lost $0 on average.');
  }
  return out;
}

export interface EquityPoint {
  /** UTC ISO instant of the clock step. */
  clock: string;
  /** Total value in dollars (cash + positions at market). */
  value: number;
}

export interface CurveMetrics {
  start_value: number | null;
  end_value: number | null;
  periods: number;
  periods_per_year: number;
  total_return: number | null;
  annualized_return: number | null;
  volatility: number | null;
  sharpe: number | null;
  sortino: number | null;
  calmar: number | null;
  max_drawdown: number | null;
  drawdown: {
    start: string | null;
    valley: string | null;
    end: string | null;
    recovery: string | null;
    duration_periods: number | null;
  };
  best_period: { clock: string; return: number } | null;
  worst_period: { clock: string; return: number } | null;
}

/**
 * Metrics of an equity curve (points in time order, the first being the starting value) under
 * the conventions above: curveMetricsOf over the points as columns.
 */
export function curveMetrics(points: readonly EquityPoint[], ppy: number, notes: string[], returnPoints: readonly EquityPoint[] = points): CurveMetrics {
  const cols = equityColumns(points);
  return curveMetricsOf(cols, ppy, notes, returnPoints === points ? cols : equityColumns(returnPoints));
}

const isoOf = (ms: number) => new Date(ms).toISOString();

/**
 * Metrics of an equity curve as columns (time order, the first point being the starting
 * value) under the conventions above. `notes` receives one sentence per null. The return
 * metrics (periods, annualized return, volatility, Sharpe, Sortino, best and worst period)
 * come from `ret` (the return series: pickColumns of returnSeriesIndex, session closes for
 * intraday runs), the total return and the drawdown from every point. A few passes over the
 * arrays, one Float64Array of returns allocated. Pure.
 */
export function curveMetricsOf(cols: EquityColumns, ppy: number, notes: string[], ret: EquityColumns = cols): CurveMetrics {
  const values = cols.value;
  const n = values.length;
  // simple returns of the series; a step from a value ≤ 0 has none (left out, counted)
  const rv = ret.value;
  const returns = new Float64Array(Math.max(0, rv.length - 1));
  let m = 0;
  // the first highest and lowest return, by the index of the point it ends at
  let best = -1;
  let worst = -1;
  let bestR = 0;
  let worstR = 0;
  for (let i = 1; i < rv.length; i++) {
    const prev = rv[i - 1]!;
    if (!(prev > 0)) continue;
    const r = rv[i]! / prev - 1;
    returns[m++] = r;
    if (best < 0 || r > bestR) (best = i), (bestR = r);
    if (worst < 0 || r < worstR) (worst = i), (worstR = r);
  }
  const skipped = Math.max(0, rv.length - 1) - m;
  const rs = m === returns.length ? returns : returns.subarray(0, m);
  if (skipped) notes.push(`${skipped} step(s) from a value ≤ 0 have no simple return and were left out.`);
  const out: CurveMetrics = {
    start_value: n ? values[0]! : null,
    end_value: n ? values[n - 1]! : null,
    periods: m,
    periods_per_year: ppy,
    total_return: null,
    annualized_return: null,
    volatility: null,
    sharpe: null,
    sortino: null,
    calmar: null,
    max_drawdown: null,
    drawdown: { start: null, valley: null, end: null, recovery: null, duration_periods: null },
    best_period: null,
    worst_period: null,
  };
  if (!n) {
    notes.push('The run has no equity points: every curve metric is undefined.');
    return out;
  }
  const take = (field: keyof CurveMetrics, x: Maybe) => {
    (out as any)[field] = x.value;
    if (x.value === null) notes.push(`${field} is null: ${x.why}.`);
  };
  if (values[0]! > 0) out.total_return = values[n - 1]! / values[0]! - 1;
  else notes.push('total_return is null: the starting value is not positive.');
  if (out.total_return !== null) take('annualized_return', annualizedReturn(out.total_return, m, ppy));
  else if (m) notes.push('annualized_return is null: total_return is undefined.');
  const moments = returnMoments(rs);
  take('volatility', volatilityOf(moments, ppy));
  take('sharpe', sharpeOf(moments, ppy));
  take('sortino', sortinoOf(moments, ppy));

  const dd = maxDrawdown(values);
  out.max_drawdown = dd.max_drawdown;
  if (dd.peak !== null) {
    const end = dd.recovery ?? n - 1;
    out.drawdown = {
      start: isoOf(cols.clock[dd.peak]!),
      valley: isoOf(cols.clock[dd.valley!]!),
      end: isoOf(cols.clock[end]!),
      recovery: dd.recovery === null ? null : isoOf(cols.clock[dd.recovery]!),
      duration_periods: dd.duration_periods,
    };
    if (dd.recovery === null) notes.push('The max drawdown has not recovered by the last point: drawdown.recovery is null.');
  }
  if (out.annualized_return === null) notes.push('calmar is null: annualized_return is undefined.');
  else if (dd.max_drawdown === 0) notes.push('calmar is null: the run never drew down (max drawdown 0).');
  else out.calmar = out.annualized_return / Math.abs(dd.max_drawdown);

  if (best >= 0) {
    out.best_period = { clock: isoOf(ret.clock[best]!), return: bestR };
    out.worst_period = { clock: isoOf(ret.clock[worst]!), return: worstR };
  } else {
    notes.push('best_period and worst_period are null: the run has no return (one equity point).');
  }
  return out;
}

export interface ExposureFill {
  clock: string;
  symbol: string;
  /** Signed change in shares: + for buy/cover, − for sell/short. */
  delta: number;
}

/** exposureOf over points. */
export function exposure(points: readonly EquityPoint[], fills: readonly ExposureFill[]): number | null {
  return exposureOf(equityColumns(points).clock, fills);
}

/**
 * Share of clock steps (equity points after the first; `clock` in epoch ms, ascending) at
 * which any position was held, the position being what the fills up to and including that
 * step's clock left open. Null when there is no step. One pass over the clocks.
 */
export function exposureOf(clock: ArrayLike<number>, fills: readonly ExposureFill[]): number | null {
  const n = clock.length;
  if (n < 2) return null;
  const held = new Map<string, number>();
  let open = 0;
  let f = 0;
  let steps = 0;
  // by time; a stable sort keeps fills at one instant in the order given
  const sorted = fills.map((x) => ({ t: Date.parse(x.clock), x })).sort((a, b) => a.t - b.t);
  const apply = (upTo: number) => {
    while (f < sorted.length && sorted[f]!.t <= upTo) {
      const x = sorted[f++]!.x;
      const before = held.get(x.symbol) ?? 0;
      const after = before + x.delta;
      if (before === 0 && after !== 0) open++;
      if (before !== 0 && after === 0) open--;
      held.set(x.symbol, after);
    }
  };
  apply(clock[0]!);
  for (let i = 1; i < n; i++) {
    // A step counts as exposed when a position was open during it: held at its start.
    if (open > 0) steps++;
    if (f < sorted.length) apply(clock[i]!);
  }
  return steps / (n - 1);
}
