// suggest_rules' logic, pure: detectors over a run (each finding with its evidence), the
// candidate rules of a small grid for each finding, which candidates a model already has at
// the same or a tighter level, and the choice among measured candidates.
//
// Decisions
// - Thresholds are kept here, in DETECT, so they are read in one place.
// - A candidate is kept only when its replay reduces risk (max drawdown or worst day less
//   deep) and costs no more return than it saves: (return before − return after) ≤ the larger
//   of the drawdown and worst-day improvements (fractions of the account).
// - Its score is Δ total return + Δ max drawdown (both fractions; a shallower drawdown is a
//   positive Δ); the best-scoring candidate of a finding is its suggestion; suggestions are
//   ranked by score, best first.
// - Worst day: per New York date, the last equity value against the previous date's last
//   (the first date against the first point).
import { maxDrawdown, type EquityPoint } from './metrics.js';
import { nyLocal } from './ny-time.js';
import type { RuleCategory, RuleRecord } from './types.js';

export const DETECT = {
  /** A single position above this share of the account is a concentration finding. */
  concentration: 0.25,
  /** Max drawdown deeper than this (fraction) is a drawdown finding. */
  drawdown: 0.05,
  /** A losing round trip is "large" when it lost more than this share of the starting value. */
  largeLoss: 0.01,
  /** Orders per trading day above this is a pace finding. */
  ordersPerDay: 20,
  /** Share of the total round-trip loss entered in one New York hour, with at least 3 trips. */
  lossClusterShare: 0.6,
  /** Cash under this share of the account at some point is a cash-exhausted finding. */
  lowCash: 0.02,
  /** Consecutive losing round trips. */
  lossStreak: 3,
  /** Orders refused by rules. */
  violationAttempts: 3,
} as const;

export const GRID = {
  max_position_pct: [0.1, 0.2, 0.3],
  max_drawdown_pct: [0.05, 0.1, 0.15],
  stop_loss_pct: [0.02, 0.05, 0.1],
  daily_loss_limit_pct: [0.01, 0.02, 0.03],
  min_cash_reserve_pct: [0.05, 0.1, 0.2],
} as const;

export type FindingKind =
  | 'concentration'
  | 'drawdown'
  | 'large_losses'
  | 'trading_pace'
  | 'loss_cluster'
  | 'cash_exhausted'
  | 'loss_streak'
  | 'rule_violation_attempts';

export interface Finding {
  kind: FindingKind;
  /** One sentence with the run's figures. */
  text: string;
  evidence: Record<string, unknown>;
  candidates: CandidateRule[];
}

/** A rule as create_rule takes it, without model_id. */
export interface CandidateRule {
  rule_name: string;
  rule_description: string;
  rule_category: RuleCategory;
  enforcement_params: Record<string, unknown>;
  priority: number;
}

/** What the detectors read of a run. Money in dollars, fractions 0–1, times UTC ISO. */
export interface RunFacts {
  points: readonly EquityPoint[];
  maxDrawdown: { depth: number; peak: string | null; valley: string | null; recovery: string | null; durationPeriods: number | null };
  exposure: { maxWeight: number; maxWeightSymbol: string | null; maxWeightClock: string | null; minCashPct: number; minCashClock: string | null; lowCashPoints: number; points: number };
  trips: ReadonlyArray<{ symbol: string; entry_time: string; exit_time: string; pnl: number; mae_pct: number | null }>;
  orders: ReadonlyArray<{ order_id: number; clock: string; status: string; rule_rejections: string[] }>;
  tradingDays: number;
  /** Minute steps: the time of day means something (a daily replay trades at the open only). */
  intraday: boolean;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const usd = (x: number) => `${x < 0 ? '−' : ''}$${Math.abs(x).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** Worst daily return of an equity curve (see the module notes), or null with fewer than 2 points. */
export function worstDay(points: readonly EquityPoint[]): { date: string; return: number } | null {
  if (points.length < 2) return null;
  const lastByDay = new Map<string, number>();
  for (const p of points) lastByDay.set(nyLocal(new Date(p.clock)).date, p.value);
  let prev = points[0]!.value;
  let worst: { date: string; return: number } | null = null;
  for (const [date, v] of lastByDay) {
    if (prev > 0) {
      const r = v / prev - 1;
      if (!worst || r < worst.return) worst = { date, return: r };
    }
    prev = v;
  }
  return worst;
}

function candidate(category: RuleCategory, params: Record<string, unknown>, name: string, description: string): CandidateRule {
  return { rule_name: name, rule_description: description, rule_category: category, enforcement_params: params, priority: 5 };
}

/** Every finding of the run, each with its candidate rules (the grid, only levels tighter than what the run did). */
export function detect(f: RunFacts): Finding[] {
  const out: Finding[] = [];
  const start = f.points[0]?.value ?? 0;
  const x = f.exposure;
  if (x.maxWeight > DETECT.concentration && x.maxWeightSymbol) {
    out.push({
      kind: 'concentration',
      text: `${x.maxWeightSymbol} reached ${pct(x.maxWeight)} of the account at ${x.maxWeightClock}.`,
      evidence: { highest_weight: round(x.maxWeight), symbol: x.maxWeightSymbol, at: x.maxWeightClock },
      candidates: GRID.max_position_pct
        .filter((v) => v < x.maxWeight)
        .map((v) => candidate('position_sizing', { max_position_pct: v }, `Max ${v * 100}% per position`, `Suggested: ${x.maxWeightSymbol} reached ${pct(x.maxWeight)} of the account; cap any one position at ${v * 100}%.`)),
    });
  }
  const dd = -f.maxDrawdown.depth;
  if (dd > DETECT.drawdown) {
    out.push({
      kind: 'drawdown',
      text: `The account fell ${pct(dd)} from its peak at ${f.maxDrawdown.peak} to ${f.maxDrawdown.valley}${f.maxDrawdown.recovery ? `, recovering at ${f.maxDrawdown.recovery}` : ' and had not recovered by the end'} (${f.maxDrawdown.durationPeriods ?? 0} steps).`,
      evidence: { max_drawdown: round(f.maxDrawdown.depth), peak: f.maxDrawdown.peak, valley: f.maxDrawdown.valley, recovery: f.maxDrawdown.recovery, duration_periods: f.maxDrawdown.durationPeriods },
      candidates: [
        ...GRID.max_drawdown_pct.filter((v) => v < dd).map((v) => candidate('risk', { max_drawdown_pct: v }, `No new risk past ${v * 100}% drawdown`, `Suggested: the run fell ${pct(dd)} from its peak; stop opening positions once ${v * 100}% down.`)),
        ...GRID.stop_loss_pct.filter((v) => v < dd).map((v) => candidate('stop_loss', { stop_loss_pct: v }, `Stop loss ${v * 100}%`, `Suggested: the run fell ${pct(dd)} from its peak; exit a position ${v * 100}% below its cost.`)),
      ],
    });
  }
  const large = f.trips.filter((t) => t.pnl < 0 && start > 0 && -t.pnl / start > DETECT.largeLoss).sort((a, b) => a.pnl - b.pnl);
  if (large.length) {
    const worstMae = Math.max(...large.map((t) => t.mae_pct ?? 0));
    out.push({
      kind: 'large_losses',
      text: `${large.length} round trip(s) lost more than ${pct(DETECT.largeLoss)} of the starting value; the worst, ${large[0]!.symbol} entered ${large[0]!.entry_time}, lost ${usd(large[0]!.pnl)}${worstMae > 0 ? `, and the deepest adverse excursion was ${pct(worstMae)}` : ''}.`,
      evidence: { count: large.length, worst: large.slice(0, 3).map((t) => ({ symbol: t.symbol, entry: t.entry_time, exit: t.exit_time, pnl: t.pnl, mae_pct: t.mae_pct === null ? null : round(t.mae_pct) })) },
      candidates: GRID.stop_loss_pct
        .filter((v) => worstMae === 0 || v < worstMae)
        .map((v) => candidate('stop_loss', { stop_loss_pct: v }, `Stop loss ${v * 100}%`, `Suggested: losing trades ran ${pct(worstMae)} against the entry; exit ${v * 100}% below cost.`)),
    });
  }
  const placed = f.orders.length;
  const perDay = f.tradingDays > 0 ? placed / f.tradingDays : placed;
  if (perDay > DETECT.ordersPerDay) {
    const byDay = new Map<string, number>();
    for (const o of f.orders) byDay.set(nyLocal(new Date(o.clock)).date, (byDay.get(nyLocal(new Date(o.clock)).date) ?? 0) + 1);
    const busiest = [...byDay].sort((a, b) => b[1] - a[1])[0]!;
    const caps = [...new Set([Math.max(1, Math.floor(perDay / 2)), DETECT.ordersPerDay])].filter((v) => v < busiest[1]);
    out.push({
      kind: 'trading_pace',
      text: `${placed} orders over ${f.tradingDays} trading day(s), ${perDay.toFixed(1)} a day; the busiest day, ${busiest[0]}, had ${busiest[1]}.`,
      evidence: { orders: placed, trading_days: f.tradingDays, per_day: round(perDay), busiest_day: busiest[0], busiest_count: busiest[1] },
      candidates: caps.map((v) => candidate('risk', { max_trades_per_day: v }, `At most ${v} trades a day`, `Suggested: the run placed ${perDay.toFixed(1)} orders a day; cap new trades at ${v} a day.`)),
    });
  }
  const losers = f.trips.filter((t) => t.pnl <= 0);
  const totalLoss = losers.reduce((s, t) => s - t.pnl, 0);
  if (f.intraday && losers.length >= 3 && totalLoss > 0) {
    const byHour = new Map<string, { loss: number; n: number }>();
    for (const t of losers) {
      const h = nyLocal(new Date(t.entry_time)).hhmm.slice(0, 2);
      const e = byHour.get(h) ?? { loss: 0, n: 0 };
      e.loss -= t.pnl;
      e.n++;
      byHour.set(h, e);
    }
    const [hour, worst] = [...byHour].sort((a, b) => b[1].loss - a[1].loss)[0]!;
    const share = worst.loss / totalLoss;
    if (share >= DETECT.lossClusterShare && worst.n >= 3) {
      const end = `${String(Number(hour) + 1).padStart(2, '0')}:00`;
      const start = hour === '09' ? '09:30' : `${hour}:00`;
      out.push({
        kind: 'loss_cluster',
        text: `${pct(share)} of the round-trip loss (${usd(-worst.loss)} over ${worst.n} trips) came from entries between ${start} and ${end} New York time.`,
        evidence: { hour_ny: hour, loss: round(worst.loss), trips: worst.n, share: round(share) },
        candidates: [candidate('timing', { blackout_windows: [{ start, end }] }, `No new positions ${start}–${end} ET`, `Suggested: ${pct(share)} of the loss came from entries ${start}–${end} ET.`)],
      });
    }
  }
  if (x.minCashPct < DETECT.lowCash && x.minCashClock) {
    out.push({
      kind: 'cash_exhausted',
      text: `Cash fell to ${pct(Math.max(0, x.minCashPct))} of the account at ${x.minCashClock}; it was under ${pct(DETECT.lowCash)} at ${x.lowCashPoints} of ${x.points} steps.`,
      evidence: { min_cash_pct: round(x.minCashPct), at: x.minCashClock, low_cash_steps: x.lowCashPoints, steps: x.points },
      candidates: GRID.min_cash_reserve_pct.map((v) => candidate('risk', { min_cash_reserve_pct: v }, `Keep ${v * 100}% cash`, `Suggested: cash ran down to ${pct(Math.max(0, x.minCashPct))}; keep at least ${v * 100}% in cash.`)),
    });
  }
  let streak = 0;
  let longest = { n: 0, end: '' };
  for (const t of [...f.trips].sort((a, b) => (a.exit_time < b.exit_time ? -1 : 1))) {
    streak = t.pnl <= 0 ? streak + 1 : 0;
    if (streak > longest.n) longest = { n: streak, end: t.exit_time };
  }
  if (longest.n >= DETECT.lossStreak) {
    out.push({
      kind: 'loss_streak',
      text: `${longest.n} losing round trips in a row, the last closed at ${longest.end}.`,
      evidence: { longest_streak: longest.n, ended: longest.end },
      candidates: GRID.daily_loss_limit_pct.map((v) => candidate('risk', { daily_loss_limit_pct: v }, `Daily loss limit ${v * 100}%`, `Suggested: ${longest.n} losses in a row; halt new risk for the day after a ${v * 100}% loss.`)),
    });
  }
  const refused = f.orders.filter((o) => o.rule_rejections.length > 0);
  if (refused.length >= DETECT.violationAttempts) {
    const byRule = new Map<string, number>();
    for (const o of refused) for (const r of o.rule_rejections) byRule.set(r, (byRule.get(r) ?? 0) + 1);
    const top = [...byRule].sort((a, b) => b[1] - a[1]).slice(0, 3);
    out.push({
      kind: 'rule_violation_attempts',
      text: `${refused.length} orders were refused by rules (${top.map(([r, n]) => `'${r}' ${n}×`).join(', ')}): the agent kept trying what its rules forbid.`,
      evidence: { refused_orders: refused.length, by_rule: Object.fromEntries(top), first_order_ids: refused.slice(0, 5).map((o) => o.order_id) },
      candidates: [],
    });
  }
  return out;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

// ---- what the model already has -----------------------------------------------------------------

type Direction = 'lower' | 'higher';
/** For each limit, which way is tighter. */
const TIGHTER: Record<string, Direction> = {
  max_position_pct: 'lower',
  max_drawdown_pct: 'lower',
  stop_loss_pct: 'lower',
  daily_loss_limit_pct: 'lower',
  min_cash_reserve_pct: 'higher',
  max_trades_per_day: 'lower',
};

/**
 * Whether an active rule of the same category already covers every symbol with the
 * candidate's limit at the same or a tighter level (a blackout window: the same window).
 */
export function alreadyHas(rules: readonly RuleRecord[], c: CandidateRule): boolean {
  const [[key, value]] = Object.entries(c.enforcement_params) as [[string, unknown]];
  return rules.some((r) => {
    if (!r.isActive || r.ruleCategory !== c.rule_category || (r.appliesToSymbols && r.appliesToSymbols.length)) return false;
    const have = r.enforcementParams[key];
    if (have === undefined) return false;
    if (key === 'blackout_windows') {
      const want = JSON.stringify(value);
      return (have as unknown[]).some((w) => JSON.stringify([w]) === want);
    }
    const dir = TIGHTER[key];
    if (!dir || typeof have !== 'number' || typeof value !== 'number') return false;
    return dir === 'lower' ? have <= value : have >= value;
  });
}

// ---- choosing among measured candidates ----------------------------------------------------------

export interface Measured {
  total_return: number | null;
  max_drawdown: number | null;
  sharpe: number | null;
  round_trips: number;
  worst_day: number | null;
}

/** What judge reads: a whole run's or one part's measures. */
export type PartMeasure = Pick<Measured, 'total_return' | 'max_drawdown' | 'worst_day'>;

/** The measures of a stretch of an equity curve (its first point the base): total return, max drawdown, worst day. */
export function measurePart(points: readonly EquityPoint[]): PartMeasure {
  if (points.length < 2 || points[0]!.value <= 0) return { total_return: null, max_drawdown: null, worst_day: null };
  return {
    total_return: points[points.length - 1]!.value / points[0]!.value - 1,
    max_drawdown: maxDrawdown(points.map((p) => p.value)).max_drawdown,
    worst_day: worstDay(points)?.return ?? null,
  };
}

/**
 * Walk-forward split of a run's curve by New York session: the first `share` of the sessions
 * (at least one, leaving at least one) choose the parameters, the rest measure them. The
 * boundary point (the last of the first part) is the base of both parts. Null with fewer than 2
 * sessions.
 */
export function walkForwardSplit(points: readonly EquityPoint[], share = 2 / 3): { boundary: string; first: { from: string; to: string; sessions: number }; rest: { from: string; to: string; sessions: number } } | null {
  const dates: string[] = [];
  const lastOf = new Map<string, string>();
  for (const p of points.slice(1)) {
    const d = nyLocal(new Date(p.clock)).date;
    if (!lastOf.has(d)) dates.push(d);
    lastOf.set(d, p.clock);
  }
  if (dates.length < 2) return null;
  const k = Math.min(dates.length - 1, Math.max(1, Math.floor(dates.length * share)));
  return {
    boundary: lastOf.get(dates[k - 1]!)!,
    first: { from: dates[0]!, to: dates[k - 1]!, sessions: k },
    rest: { from: dates[k]!, to: dates[dates.length - 1]!, sessions: dates.length - k },
  };
}

/** The points of a curve up to and including `boundary`, and those from it on. */
export function splitAt(points: readonly EquityPoint[], boundary: string): [EquityPoint[], EquityPoint[]] {
  return [points.filter((p) => p.clock <= boundary), points.filter((p) => p.clock >= boundary)];
}

/**
 * Whether a candidate stops the agent trading, and the sentence saying so: it refuses more
 * than half of the entries the agent made (filled buys and shorts), or it leaves no entry in a
 * part of the run where the agent made some. Null when it does neither.
 */
export function stopsTrading(entries: { made: number; refused: number }, trades: { first: [number, number]; rest: [number, number] } | null): string | null {
  if (entries.made > 0 && entries.refused * 2 > entries.made) return `stops the agent trading: it refuses ${entries.refused} of its ${entries.made} entries`;
  if (trades) {
    for (const part of ['first', 'rest'] as const) {
      const [original, after] = trades[part];
      if (original > 0 && after === 0) return `stops the agent trading: no entry is left in the ${part === 'first' ? 'first' : 'last'} part of the run (the agent made ${original})`;
    }
  }
  return null;
}

export interface Verdict {
  keep: boolean;
  score: number;
  /** Why it was dropped, when it was. */
  why: string | null;
}

/** Keep or drop one measured candidate against the original (see the module notes). */
export function judge(before: PartMeasure, after: PartMeasure): Verdict {
  const ddSaved = (after.max_drawdown ?? 0) - (before.max_drawdown ?? 0);
  const daySaved = after.worst_day !== null && before.worst_day !== null ? after.worst_day - before.worst_day : 0;
  const returnCost = (before.total_return ?? 0) - (after.total_return ?? 0);
  const score = -returnCost + ddSaved;
  const eps = 1e-9;
  if (ddSaved <= eps && daySaved <= eps) return { keep: false, score, why: 'it does not reduce the max drawdown or the worst day' };
  if (returnCost > Math.max(ddSaved, daySaved) + eps) {
    return { keep: false, score, why: `it costs ${pct(returnCost)} of return to save ${pct(Math.max(ddSaved, daySaved))}` };
  }
  return { keep: true, score, why: null };
}

// ---- the measured result (trading/suggest.ts builds it; the tool and the run report show it) ----

/** Before → after of one measure (fractions for returns and drawdowns, a count for round trips). */
export interface Change {
  before: number | null;
  after: number | null;
}

export interface Suggestion {
  rank: number;
  finding: FindingKind;
  /** The finding's sentence, with the run's figures. */
  text: string;
  evidence: Record<string, unknown>;
  /** A create_rule payload without model_id and created_by. */
  rule: CandidateRule;
  effect: { total_return: Change; max_drawdown: Change; sharpe: Change; round_trips: Change; worst_day: Change; score: number };
  /** The finding's candidates measured, in grid order. */
  tried: Array<{ enforcement_params: Record<string, unknown>; total_return: number | null; max_drawdown: number | null; kept: boolean; why: string | null }>;
  /** Walk-forward: parameters chosen on the first part, the effect on the rest and on the model's other finished runs; null with the reason in out_of_sample_note. */
  out_of_sample: OutOfSample | null;
  out_of_sample_note: string | null;
}

export interface OutOfSample {
  /** The candidate's parameters chosen on the first part (may differ from the in-sample pick). */
  enforcement_params: Record<string, unknown>;
  chosen_on: { from: string; to: string; sessions: number };
  measured_on: { from: string; to: string; sessions: number };
  effect: { total_return: Change; max_drawdown: Change; worst_day: Change; score: number };
  /** It cut the drawdown or worst day of the rest for no more return than it saved. */
  helped: boolean;
  why: string | null;
  /** The same rule over the model's other finished runs (each replayed under its own frozen rules plus it). */
  other_runs: Array<{ run_id: number; total_return: Change; max_drawdown: Change; helped: boolean }>;
}

/** The one line every suggestion list carries. */
export const HINDSIGHT =
  'In-sample effects are hindsight: each rule was picked and measured on the same prices. Out-of-sample (walk-forward) effects pick on the first part and measure on the rest.';

export interface SuggestResult {
  partial: boolean;
  /** Why there is no suggestion, when there is none. */
  nothingToSuggest: string | null;
  /** why_not: for a finding without a suggestion, what its candidates did (e.g. "stops the agent trading"). */
  findings: Array<{ kind: FindingKind; text: string; candidates: number; suggested: boolean; why_not: string | null }>;
  /** Ranked by effect, best first, at most `max`. */
  suggestions: Suggestion[];
  /** Candidates the model already has at the same or a tighter level, one sentence each. */
  skipped: string[];
  /** Distinct candidate rules replayed over the whole run. */
  candidatesTried: number;
  /** The walk-forward split, or null (fewer than 2 sessions). */
  walkForward: ReturnType<typeof walkForwardSplit>;
}
