// Metrics checked two ways: by hand on small series, and against the reference values
// published in empyrical's test suite (quantopian/empyrical, empyrical/tests/test_stats.py,
// commit 0a9fa5848a3ed519be0f514df9e3a04fb7b37ad3), which uses the same conventions.
import { describe, expect, it } from 'vitest';
import {
  annualizedReturn,
  annualizedVolatility,
  benchmarkStats,
  curveMetrics,
  curveMetricsOf,
  downsideDeviation,
  equityColumns,
  exposure,
  exposureOf,
  pickColumns,
  returnSeriesIndex,
  maxDrawdown,
  returnSeries,
  sharpeRatio,
  sortinoRatio,
  tradeStats,
  type EquityPoint,
} from './metrics.js';

// empyrical test_stats.py: mixed_returns = [nan, 1, 10, -4, 2, 3, 2, 1, -10] / 100 (daily)
const MIXED = [0.01, 0.1, -0.04, 0.02, 0.03, 0.02, 0.01, -0.1];
// negative_returns = [0, -6, -7, -1, -9, -2, -6, -8, -5] / 100
const NEGATIVE = [0, -0.06, -0.07, -0.01, -0.09, -0.02, -0.06, -0.08, -0.05];
// positive_returns = [1, 2, 1, 1, 1, 1, 1, 1, 1] / 100
const POSITIVE = [0.01, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01];
// weekly_returns = [0, 1, 10, -4, 2, 3, 2, 1, -10] / 100 (weekly: 52 periods a year)
const WEEKLY = [0, 0.01, 0.1, -0.04, 0.02, 0.03, 0.02, 0.01, -0.1];

/** An equity curve starting at `start` that compounds the returns. */
function curveOf(returns: number[], start = 1): number[] {
  const v = [start];
  for (const r of returns) v.push(v[v.length - 1]! * (1 + r));
  return v;
}
const points = (values: number[]): EquityPoint[] => values.map((value, i) => ({ clock: new Date(Date.UTC(2025, 0, 2 + i, 14, 30)).toISOString(), value }));

describe('metrics against empyrical reference values', () => {
  it('sharpe: test_sharpe_ratio', () => {
    expect(sharpeRatio(MIXED, 252).value).toBeCloseTo(1.7238613961706866, 8);
    expect(sharpeRatio(POSITIVE, 252).value).toBeCloseTo(52.915026221291804, 8);
    expect(sharpeRatio(NEGATIVE, 252).value).toBeCloseTo(-24.406808633910085, 8);
    // one_return → nan in empyrical; null with a reason here
    expect(sharpeRatio([0.01], 252)).toEqual({ value: null, why: expect.stringMatching(/at least 2 returns/) });
  });

  it('volatility: test_annual_volatility', () => {
    expect(annualizedVolatility(MIXED, 252).value).toBeCloseTo(0.9136465399704637, 8);
    expect(annualizedVolatility(WEEKLY, 52).value).toBeCloseTo(0.38851569394870583, 8);
  });

  it('downside deviation and sortino: test_downside_risk, test_sortino', () => {
    expect(downsideDeviation(MIXED)! * Math.sqrt(252)).toBeCloseTo(0.60448325038829653, 8);
    expect(downsideDeviation(WEEKLY)! * Math.sqrt(52)).toBeCloseTo(0.25888650451930134, 8);
    expect(sortinoRatio(MIXED, 252).value).toBeCloseTo(2.605531251673693, 8);
    expect(sortinoRatio(NEGATIVE, 252).value).toBeCloseTo(-13.532743075043401, 8);
    // empyrical's weekly sortino reference (0.5069) annualizes the mean by 52 but the downside
    // risk by √252 in that version; ours, mean/DD × √52, is that value × √(252/52).
    expect(sortinoRatio(WEEKLY, 52).value! * Math.sqrt(52 / 252)).toBeCloseTo(0.50690062680370862, 8);
    // positive_returns → inf in empyrical; never Infinity on our wire
    expect(sortinoRatio(POSITIVE, 252).value).toBeNull();
  });

  it('max drawdown: test_max_drawdown', () => {
    expect(maxDrawdown(curveOf(MIXED)).max_drawdown).toBeCloseTo(-0.1, 8);
    expect(maxDrawdown(curveOf(NEGATIVE)).max_drawdown).toBeCloseTo(-0.36590730349873601, 8);
    expect(maxDrawdown(curveOf([0.1, -0.1, 0.1])).max_drawdown).toBeCloseTo(-0.1, 8);
    expect(maxDrawdown(curveOf(POSITIVE)).max_drawdown).toBe(0);
  });

  it('annualized return and calmar: test_annual_ret, test_calmar (empyrical counts the leading NaN as a period: n = 9)', () => {
    const total = curveOf(MIXED).at(-1)! - 1;
    expect(total).toBeCloseTo(0.03893, 4); // test_cum_returns_final
    expect(annualizedReturn(total, 9, 252).value).toBeCloseTo(1.9135925373194231, 8);
    const m = curveMetrics(points(curveOf(WEEKLY)), 52, []);
    expect(m.annualized_return).toBeCloseTo(0.24690830513998208, 8); // weekly annual return
    expect(m.calmar).toBeCloseTo(2.4690830513998208, 8); // weekly calmar
  });

  it('alpha, beta and information ratio: test_alpha_beta, test_information_ratio', () => {
    // mixed_returns against negative_returns[1:], aligned on the 8 common dates
    const s = benchmarkStats(MIXED, NEGATIVE.slice(1), 252, []);
    expect(s.beta).toBeCloseTo(-0.71296296296296313, 8);
    expect(s.alpha).toBeCloseTo(-8.306666666666668, 8);
    // empyrical's information_ratio is per period; ours is annualized by √252
    const flat0 = benchmarkStats(MIXED, MIXED.map(() => 0), 252, []);
    expect(flat0.information_ratio! / Math.sqrt(252)).toBeCloseTo(0.10859306069076737, 8);
    const flat1 = benchmarkStats(MIXED, MIXED.map(() => 0.01), 252, []);
    expect(flat1.information_ratio! / Math.sqrt(252)).toBeCloseTo(-0.06515583641446039, 8);
    // mixed against itself: alpha 0, beta 1 (test_alpha_beta)
    const self = benchmarkStats(MIXED, MIXED, 252, []);
    expect(self.beta).toBeCloseTo(1, 12);
    expect(self.alpha).toBeCloseTo(0, 12);
    expect(self.correlation).toBeCloseTo(1, 12);
    const neg = benchmarkStats(MIXED, MIXED.map((x) => -x), 252, []);
    expect(neg.beta).toBeCloseTo(-1, 12);
    expect(neg.correlation).toBeCloseTo(-1, 12);
  });
});

describe('metrics by hand', () => {
  // 100 → 110 → 99 → 108.9: returns +10%, −10%, +10%
  const values = [100, 110, 99, 108.9];
  const r = [0.1, -0.1, 0.1];

  it('a three-step curve', () => {
    const notes: string[] = [];
    const m = curveMetrics(points(values), 252, notes);
    const meanR = 0.1 / 3;
    const sd = Math.sqrt(((0.1 - meanR) ** 2 * 2 + (-0.1 - meanR) ** 2) / 2);
    expect(m.periods).toBe(3);
    expect(m.start_value).toBe(100);
    expect(m.end_value).toBe(108.9);
    expect(m.total_return).toBeCloseTo(0.089, 12);
    expect(m.annualized_return).toBeCloseTo(Math.pow(1.089, 252 / 3) - 1, 6);
    expect(m.volatility).toBeCloseTo(sd * Math.sqrt(252), 12);
    expect(m.sharpe).toBeCloseTo((meanR / sd) * Math.sqrt(252), 12);
    expect(m.sortino).toBeCloseTo((meanR / Math.sqrt(0.01 / 3)) * Math.sqrt(252), 12);
    expect(m.max_drawdown).toBeCloseTo(-0.1, 12);
    expect(m.drawdown.start).toBe(points(values)[1]!.clock);
    expect(m.drawdown.valley).toBe(points(values)[2]!.clock);
    expect(m.drawdown.recovery).toBeNull(); // 108.9 < 110: not recovered
    expect(m.drawdown.end).toBe(points(values)[3]!.clock);
    expect(m.drawdown.duration_periods).toBe(2);
    expect(m.best_period).toEqual({ clock: points(values)[1]!.clock, return: expect.closeTo(0.1, 12) });
    expect(m.worst_period).toEqual({ clock: points(values)[2]!.clock, return: expect.closeTo(-0.1, 12) });
    expect(m.calmar).toBeCloseTo(m.annualized_return! / 0.1, 9);
    expect(notes).toContain('The max drawdown has not recovered by the last point: drawdown.recovery is null.');
    expect(sharpeRatio(r, 252).value).toBeCloseTo(m.sharpe!, 12);
  });

  it('recovery date and duration', () => {
    // 100, 90, 95, 100, 120: drawdown −10% from the start, recovered at the 4th point
    const m = curveMetrics(points([100, 90, 95, 100, 120]), 252, []);
    expect(m.max_drawdown).toBeCloseTo(-0.1, 12);
    expect(m.drawdown.start).toBe(points([0])[0]!.clock);
    expect(m.drawdown.recovery).toBe(points([0, 0, 0, 0])[3]!.clock);
    expect(m.drawdown.duration_periods).toBe(3);
  });

  it('no equity points, one point, a flat curve: nulls with notes, never NaN or Infinity', () => {
    const none: string[] = [];
    const empty = curveMetrics([], 252, none);
    expect(empty.total_return).toBeNull();
    expect(empty.sharpe).toBeNull();
    expect(none[0]).toMatch(/no equity points/);

    const one: string[] = [];
    const single = curveMetrics(points([100]), 252, one);
    expect(single).toMatchObject({ periods: 0, total_return: 0, annualized_return: null, volatility: null, sharpe: null, max_drawdown: 0, best_period: null });
    expect(one.some((n) => /annualized_return is null/.test(n))).toBe(true);

    const flat: string[] = [];
    const m = curveMetrics(points([100, 100, 100]), 252, flat);
    expect(m).toMatchObject({ total_return: 0, annualized_return: 0, volatility: 0, sharpe: null, sortino: null, calmar: null, max_drawdown: 0 });
    expect(flat.join(' ')).toMatch(/zero volatility/);
    expect(flat.join(' ')).toMatch(/never drew down/);
    expect(JSON.stringify([empty, single, m])).not.toMatch(/NaN|Infinity/);
  });

  it('round-trip statistics: zero P&L is a loss', () => {
    const notes: string[] = [];
    // +$30, −$10, $0, +$10
    const s = tradeStats([3000, -1000, 0, 1000], notes);
    expect(s).toEqual({ round_trips: 4, win_rate: 0.5, profit_factor: 4, payoff_ratio: 20 / 5, avg_win: 20, avg_loss: -5 });
    const noLoss: string[] = [];
    expect(tradeStats([500], noLoss)).toMatchObject({ win_rate: 1, profit_factor: null, payoff_ratio: null, avg_loss: null });
    expect(noLoss.join(' ')).toMatch(/profit_factor is undefined/);
    const nothing: string[] = [];
    expect(tradeStats([], nothing)).toMatchObject({ round_trips: 0, win_rate: null });
    expect(nothing).toHaveLength(1);
  });

  it('exposure counts the steps that start with a position open', () => {
    const p = points([100, 100, 100, 100, 100]); // 4 steps
    // bought at the first point's clock, sold at the third: steps 1 and 2 exposed
    const e = exposure(p, [
      { clock: p[0]!.clock, symbol: 'A', delta: 10 },
      { clock: p[2]!.clock, symbol: 'A', delta: -10 },
    ]);
    expect(e).toBe(0.5);
    expect(exposure(p, [])).toBe(0);
    expect(exposure(p.slice(0, 1), [])).toBeNull();
  });

  it('periods per year follow the series: daily steps and session closes 252, minute steps 252 × 390', () => {
    const p = points([100, 101]);
    expect(returnSeries(p, 'day', undefined).periods_per_year).toBe(252);
    expect(returnSeries(p, 'minute', undefined)).toMatchObject({ basis: 'session_close', periods_per_year: 252 });
    expect(returnSeries(p, null, undefined)).toMatchObject({ basis: 'session_close', periods_per_year: 252 }); // live runs are intraday
    expect(returnSeries(p, 'minute', 'per_step')).toMatchObject({ basis: 'per_step', periods_per_year: 98_280 });
    const notes: string[] = [];
    expect(returnSeries(p, 'day', 'session_close', notes).basis).toBe('per_step'); // a daily run is unchanged
    expect(notes[0]).toMatch(/steps once per session/);
  });
});

describe('intraday runs: daily returns at each session close (empyrical convention)', () => {
  // A minute curve over 8 New York sessions (January: New York is UTC−5, so the NY date is the
  // UTC date) whose closes compound empyrical's mixed_returns from the start value 1, with
  // minute wiggles of ±3% and the overnight gaps in between. Built by hand: the closes are the
  // 16:00 points, chosen here by index, not by the code under test.
  const days = ['2025-01-06', '2025-01-07', '2025-01-08', '2025-01-09', '2025-01-10', '2025-01-13', '2025-01-14', '2025-01-15'];
  const closes = curveOf(MIXED); // [start, close day 1, …, close day 8]
  const pts: EquityPoint[] = [{ clock: '2025-01-06T14:30:00.000Z', value: 1 }];
  const closeIdx: number[] = [0];
  days.forEach((d, i) => {
    const open = closes[i]! * (i % 2 ? 1.03 : 0.97); // an overnight gap
    for (let m = 1; m <= 389; m++) {
      const t = new Date(Date.parse(`${d}T14:30:00Z`) + m * 60_000).toISOString();
      pts.push({ clock: t, value: open * (1 + 0.03 * Math.sin(m / 7)) });
    }
    pts.push({ clock: `${d}T21:00:00.000Z`, value: closes[i + 1]! });
    closeIdx.push(pts.length - 1);
  });

  it('sharpe, volatility and sortino equal empyrical test_stats.py mixed_returns figures', () => {
    const notes: string[] = [];
    const s = returnSeries(pts, 'minute', undefined, notes);
    expect(s.points).toEqual(closeIdx.map((i) => pts[i]));
    const m = curveMetrics(pts, s.periods_per_year, notes, s.points);
    expect(m.periods).toBe(8);
    expect(m.periods_per_year).toBe(252);
    expect(m.sharpe).toBeCloseTo(1.7238613961706866, 8); // empyrical test_sharpe_ratio(mixed_returns)
    expect(m.volatility).toBeCloseTo(0.9136465399704637, 8); // test_annual_volatility
    expect(m.sortino).toBeCloseTo(2.605531251673693, 8); // test_sortino
    // (1 + total)^(252/8) − 1 with total = Π(1 + r) − 1 (empyrical annual_return over the 8 returns)
    const total = MIXED.reduce((v, r) => v * (1 + r), 1) - 1;
    expect(m.total_return).toBeCloseTo(total, 12);
    expect(m.annualized_return).toBeCloseTo(Math.pow(1 + total, 252 / 8) - 1, 9);
    expect(m.worst_period).toEqual({ clock: pts[closeIdx[8]!]!.clock, return: expect.closeTo(-0.1, 12) });
    // the drawdown still reads every point: the minute lows go deeper than the closes' −10%
    let peak = -Infinity;
    let deepest = 0;
    for (const p of pts) {
      peak = Math.max(peak, p.value);
      deepest = Math.min(deepest, p.value / peak - 1);
    }
    expect(m.max_drawdown).toBeCloseTo(deepest, 12);
    expect(deepest).toBeLessThan(-0.1);
  });

  it('per step on request: every point, 252 × 390', () => {
    const s = returnSeries(pts, 'minute', 'per_step');
    const m = curveMetrics(pts, s.periods_per_year, [], s.points);
    expect(m.periods).toBe(pts.length - 1);
    const r = pts.slice(1).map((p, i) => p.value / pts[i]!.value - 1);
    const mu = r.reduce((a, b) => a + b, 0) / r.length;
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - mu) ** 2, 0) / (r.length - 1));
    expect(m.sharpe).toBeCloseTo((mu / sd) * Math.sqrt(252 * 390), 9);
  });

  it('a start value on the first session date stays first; one point per later date', () => {
    const p = [
      { clock: '2025-01-06T15:00:00.000Z', value: 100 },
      { clock: '2025-01-06T18:00:00.000Z', value: 101 },
      { clock: '2025-01-06T21:00:00.000Z', value: 102 },
      { clock: '2025-01-07T15:00:00.000Z', value: 99 },
      { clock: '2025-01-07T21:00:00.000Z', value: 98 },
    ];
    expect(returnSeries(p, 'minute', undefined).points.map((x) => x.value)).toEqual([100, 102, 98]);
  });
});

describe('drawdown start: the last peak before the valley (empyrical get_max_drawdown_underwater)', () => {
  it('a flat stretch at the high starts the drawdown at its last point', () => {
    // 100, 110, 110, 110, 99, 105: underwater = 0 at indices 0–3; the last zero before the valley (4) is 3
    const p = points([100, 110, 110, 110, 99, 105]);
    const m = curveMetrics(p, 252, []);
    expect(m.max_drawdown).toBeCloseTo(99 / 110 - 1, 12);
    expect(m.drawdown.start).toBe(p[3]!.clock);
    expect(m.drawdown.valley).toBe(p[4]!.clock);
    expect(maxDrawdown([100, 110, 110, 110, 99, 105])).toMatchObject({ peak: 3, valley: 4, recovery: null, duration_periods: 2 });
  });
});

describe('the column path (curveMetricsOf over Float64Arrays) gives the figures of the object path it replaced', () => {
  // A curve over New York's switch to daylight time (Sun 2025-03-09), with an evening point
  // (23:30 EST on Mar 7 is still Mar 7), a point at 23:59 and at 00:00 EDT.
  // Session closes by hand: 1000 (start), 1005 (Mar 7's last, 04:30Z on the 8th), 1025 (Mar 10's
  // last, 03:59Z on the 11th), 1040 (Mar 11). The expected figures are what curveMetrics over
  // EquityPoint objects printed at b8d543c (before the column path), checked by hand below.
  const pts: EquityPoint[] = [
    { clock: '2025-03-07T14:30:00.000Z', value: 1000 },
    { clock: '2025-03-07T15:00:00.000Z', value: 1010 },
    { clock: '2025-03-07T21:00:00.000Z', value: 1020 },
    { clock: '2025-03-08T04:30:00.000Z', value: 1005 },
    { clock: '2025-03-10T13:30:00.000Z', value: 990 },
    { clock: '2025-03-10T20:00:00.000Z', value: 1030 },
    { clock: '2025-03-11T03:59:00.000Z', value: 1025 },
    { clock: '2025-03-11T04:00:00.000Z', value: 1015 },
    { clock: '2025-03-11T20:00:00.000Z', value: 1040 },
  ];
  const cols = equityColumns(pts);

  it('session closes, Sharpe, volatility, drawdown and best/worst period as before, to the last bit', () => {
    const notes: string[] = [];
    const s = returnSeriesIndex(cols.clock, 'minute', undefined, notes);
    expect(Array.from(s.index!)).toEqual([0, 3, 6, 8]);
    const m = curveMetricsOf(cols, s.periods_per_year, notes, pickColumns(cols, s.index!));
    expect(m).toEqual({
      start_value: 1000,
      end_value: 1040,
      periods: 3,
      periods_per_year: 252,
      total_return: 0.040000000000000036,
      annualized_return: 25.96500474817131,
      volatility: 0.1199507998019304,
      sharpe: 27.68560184018251,
      sortino: null,
      calmar: 882.8101614378244,
      max_drawdown: -0.02941176470588236,
      drawdown: { start: '2025-03-07T21:00:00.000Z', valley: '2025-03-10T13:30:00.000Z', end: '2025-03-10T20:00:00.000Z', recovery: '2025-03-10T20:00:00.000Z', duration_periods: 3 },
      best_period: { clock: '2025-03-11T03:59:00.000Z', return: 0.01990049751243772 },
      worst_period: { clock: '2025-03-08T04:30:00.000Z', return: 0.004999999999999893 },
    });
    expect(notes).toEqual(['sortino is null: sortino is undefined: no return was negative (zero downside deviation).']);
    // by hand: returns 1005/1000 − 1, 1025/1005 − 1, 1040/1025 − 1
    const r = [1005 / 1000 - 1, 1025 / 1005 - 1, 1040 / 1025 - 1];
    const mu = (r[0]! + r[1]! + r[2]!) / 3;
    const sd = Math.sqrt(r.reduce((a, x) => a + (x - mu) ** 2, 0) / 2);
    expect(m.sharpe).toBeCloseTo((mu / sd) * Math.sqrt(252), 10);
    expect(m.max_drawdown).toBeCloseTo(990 / 1020 - 1, 14);
  });

  it('per step: every point at 252 × 390, as before', () => {
    const m = curveMetricsOf(cols, 98_280, []);
    expect(m).toMatchObject({ periods: 8, volatility: 6.256430076328195, sharpe: 79.90562445351195, sortino: 190.97935536118104 });
    expect(m.best_period).toEqual({ clock: '2025-03-10T20:00:00.000Z', return: 0.04040404040404044 });
    expect(m.worst_period).toEqual({ clock: '2025-03-10T13:30:00.000Z', return: -0.014925373134328401 });
  });

  it('exposure over the clock column as before (steps 2–7 of 8 held, by hand)', () => {
    const fills = [
      { clock: pts[1]!.clock, symbol: 'A', delta: 5 },
      { clock: pts[4]!.clock, symbol: 'B', delta: -3 },
      { clock: pts[5]!.clock, symbol: 'A', delta: -5 },
      { clock: pts[7]!.clock, symbol: 'B', delta: 3 },
    ];
    expect(exposureOf(cols.clock, fills)).toBe(0.75);
    expect(exposure(pts, fills)).toBe(0.75);
  });

  it('a step from a value ≤ 0 is left out as before', () => {
    const notes: string[] = [];
    const m = curveMetricsOf(equityColumns(points([100, 0, 50, 55])), 252, notes);
    expect(m.periods).toBe(2); // 100→0 = −100%, 0→50 none, 50→55 = +10%
    expect(m.worst_period!.return).toBe(-1);
    expect(m.best_period!.return).toBeCloseTo(0.1, 14);
    expect(notes[0]).toBe('1 step(s) from a value ≤ 0 have no simple return and were left out.');
  });
});
