// Threat detectors over a run's facts (pure: no I/O). Each event has a severity from the one
// threshold table below, the run-clock time, its evidence (order ids and figures) and a
// recommendation, usually a rule shaped as create_rule takes it (so suggest_rules and an
// agent can create it as is). The event key makes storage idempotent: the same facts give the
// same keys, and an escalation to a higher severity is a new event.
import type { PeakWeight } from './concentration.js';
import { maxDrawdown, type EquityPoint } from './metrics.js';
import { nyLocal } from './ny-time.js';
import type { RoundTrip, TradeFill } from './round-trips.js';

export const THREAT_TYPES = [
  'overtrading',
  'consecutive_losses',
  'revenge_trading',
  'concentration',
  'drawdown',
  'rule_violation_attempts',
  'circuit_breaker',
] as const;
export type ThreatType = (typeof THREAT_TYPES)[number];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * THE threshold table: the smallest value at which each severity starts (low, medium, high,
 * critical); below `low` there is no event. Units:
 * - concentration: the largest single-position weight at any equity point, |position value| / portfolio value (fraction);
 * - drawdown: max drawdown depth, 1 − equity / running max (fraction);
 * - overtrading: agent orders in one New York trading day;
 * - consecutive_losses: losing FIFO round trips in a row (a zero P&L counts as a loss, CONTRACT §5);
 * - revenge_trading: new entry order notional / entry notional of the trade just lost (ratio; 1.01 = at least 1% larger);
 * - rule_violation_attempts: agent orders a rule refused in the run.
 * A circuit breaker halt is always critical.
 */
export const THREAT_THRESHOLDS: Record<Exclude<ThreatType, 'circuit_breaker'>, readonly [number, number, number, number]> = {
  concentration: [0.25, 0.4, 0.6, 0.8],
  drawdown: [0.05, 0.1, 0.2, 0.3],
  overtrading: [10, 20, 40, 80],
  consecutive_losses: [3, 4, 6, 8],
  revenge_trading: [1.01, 1.5, 2, 3],
  rule_violation_attempts: [1, 3, 5, 10],
};

/** How soon after a realized loss a larger order counts as revenge: 60 minutes (minute runs) or 3 calendar days (daily runs). */
export const REVENGE_WINDOW_MS = { minute: 60 * 60_000, day: 3 * 86_400_000 } as const;

/** The severity of `value` under `type`'s thresholds, or null below the lowest. */
export function severityOf(type: Exclude<ThreatType, 'circuit_breaker'>, value: number): Severity | null {
  const t = THREAT_THRESHOLDS[type];
  let s: Severity | null = null;
  // a tolerance of 1e-9 so a figure exactly at a threshold (0.9 − 1 in floating point) reaches it
  for (let i = 0; i < 4; i++) if (value + 1e-9 >= t[i]!) s = SEVERITIES[i]!;
  return s;
}

/** A rule exactly as create_rule takes it, without model_id. */
export interface RulePayload {
  rule_name: string;
  rule_category: 'position_sizing' | 'risk' | 'timing' | 'screening' | 'stop_loss';
  rule_description: string;
  enforcement_params: Record<string, number>;
  created_by: 'ai_suggested';
}

export interface Recommendation {
  text: string;
  rule: RulePayload | null;
}

export interface ThreatEvent {
  /** Unique per event: type, run, subject and severity; storing it twice stores it once. */
  key: string;
  type: ThreatType;
  severity: Severity;
  run_id: number;
  /** Run-clock instant (UTC ISO) the event happened at (its peak or its last order). */
  clock: string;
  /** One sentence with the figures. */
  message: string;
  evidence: { order_ids: number[]; figures: Record<string, number | string | null> };
  recommendation: Recommendation;
}

/** An order attempt of the run as recorded (any status). */
export interface OrderFact {
  order_id: number;
  clock: string;
  side: 'buy' | 'sell' | 'short' | 'cover';
  symbol: string;
  quantity: number;
  status: string;
  /** 'agent' or the exit that placed it. */
  source: string;
  /** Fill price if filled, else the limit price, else null (dollars). */
  price: number | null;
  rejections: { source: string; code: string; rule_name?: string; message: string }[];
}

/** A position open at the run's clock, marked at the last price (dollars; quantity negative for a short). */
export interface Mark {
  symbol: string;
  quantity: number;
  price: number;
}

export interface ThreatFacts {
  run_id: number;
  timespan: 'day' | 'minute' | null;
  initial_cash: number;
  /** Equity points in time order, the first being the starting value. */
  equity: EquityPoint[];
  /** Fills in execution order. */
  fills: TradeFill[];
  /** Order attempts in id (placement) order. */
  orders: OrderFact[];
  round_trips: RoundTrip[];
  marks: Mark[];
  /** The run's clock (as of). */
  as_of: string;
  /** Each held symbol's highest weight at the equity points, marked to market, highest first (domain/concentration.ts). */
  concentration: PeakWeight[];
  /** A circuit breaker that halted the model during this run, or null. */
  breaker: { reason: string; clock: string } | null;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const money = (x: number) => `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const keyOf = (type: ThreatType, runId: number, subject: string | number, severity: Severity) => `${type}:${runId}:${subject}:${severity}`;
const isEntry = (side: string) => side === 'buy' || side === 'short';

/** Every threat event in the run's facts, in clock order. Same facts, same events (and keys). */
export function detectThreats(f: ThreatFacts): ThreatEvent[] {
  const out = [
    ...concentration(f),
    ...drawdown(f),
    ...overtrading(f),
    ...consecutiveLosses(f),
    ...revengeTrading(f),
    ...ruleViolations(f),
    ...circuitBreaker(f),
  ];
  return out.sort((a, b) => a.clock.localeCompare(b.clock) || a.key.localeCompare(b.key));
}

function concentration(f: ThreatFacts): ThreatEvent[] {
  const out: ThreatEvent[] = [];
  for (const p of f.concentration) {
    const symbol = p.symbol;
    const severity = severityOf('concentration', p.weight);
    if (!severity) continue;
    const orderIds = f.fills.filter((x) => x.symbol === symbol && isEntry(x.side) && x.clock <= p.clock).map((x) => x.order_id).slice(-10);
    out.push({
      key: keyOf('concentration', f.run_id, symbol, severity),
      type: 'concentration',
      severity,
      run_id: f.run_id,
      clock: p.clock,
      message: `${symbol} reached ${pct(p.weight)} of a ${money(p.portfolio_value)} portfolio at ${p.clock}.`,
      evidence: { order_ids: orderIds, figures: { symbol, weight: round(p.weight, 4), portfolio_value: p.portfolio_value } },
      recommendation: {
        text: `Cap any one position at 20% of the portfolio (it reached ${pct(p.weight)}).`,
        rule: { rule_name: 'Max 20% per position', rule_category: 'position_sizing', rule_description: 'No single position above 20% of portfolio value.', enforcement_params: { max_position_pct: 0.2 }, created_by: 'ai_suggested' },
      },
    });
  }
  return out;
}

function drawdown(f: ThreatFacts): ThreatEvent[] {
  if (f.equity.length < 2) return [];
  const dd = maxDrawdown(f.equity.map((p) => p.value));
  if (dd.valley === null || dd.peak === null) return [];
  const depth = -dd.max_drawdown;
  const severity = severityOf('drawdown', depth);
  if (!severity) return [];
  const peak = f.equity[dd.peak]!;
  const valley = f.equity[dd.valley]!;
  const limit = Math.max(0.05, Math.floor(depth * 50) / 100); // half the depth seen, in whole percent, at least 5%
  return [
    {
      key: keyOf('drawdown', f.run_id, peak.clock, severity),
      type: 'drawdown',
      severity,
      run_id: f.run_id,
      clock: valley.clock,
      message: `Equity fell ${pct(depth)} from ${money(peak.value)} (${peak.clock}) to ${money(valley.value)} (${valley.clock})${dd.recovery === null ? ', not recovered' : ''}.`,
      evidence: {
        order_ids: f.fills.filter((x) => x.clock >= peak.clock && x.clock <= valley.clock).map((x) => x.order_id).slice(0, 10),
        figures: { max_drawdown: round(depth, 4), peak_value: peak.value, peak_clock: peak.clock, valley_value: valley.value, valley_clock: valley.clock, duration_periods: dd.duration_periods, recovered: dd.recovery === null ? 'no' : 'yes' },
      },
      recommendation: {
        text: `Halt the model at a ${pct(limit)} drawdown (this run fell ${pct(depth)}).`,
        rule: { rule_name: `Max drawdown ${Math.round(limit * 100)}%`, rule_category: 'risk', rule_description: `Halt trading when equity is ${Math.round(limit * 100)}% below its peak.`, enforcement_params: { max_drawdown_pct: limit }, created_by: 'ai_suggested' },
      },
    },
  ];
}

function overtrading(f: ThreatFacts): ThreatEvent[] {
  const byDay = new Map<string, OrderFact[]>();
  for (const o of f.orders) {
    if (o.source !== 'agent') continue;
    const d = nyLocal(new Date(o.clock)).date;
    if (!byDay.has(d)) byDay.set(d, []);
    byDay.get(d)!.push(o);
  }
  const out: ThreatEvent[] = [];
  for (const [day, orders] of byDay) {
    const severity = severityOf('overtrading', orders.length);
    if (!severity) continue;
    const cap = Math.max(5, Math.floor(orders.length / 2));
    out.push({
      key: keyOf('overtrading', f.run_id, day, severity),
      type: 'overtrading',
      severity,
      run_id: f.run_id,
      clock: orders[orders.length - 1]!.clock,
      message: `${orders.length} agent orders on ${day} (New York day).`,
      evidence: { order_ids: orders.map((o) => o.order_id).slice(0, 10), figures: { day, orders: orders.length } },
      recommendation: {
        text: `Cap trades at ${cap} per day.`,
        rule: { rule_name: `Max ${cap} trades per day`, rule_category: 'risk', rule_description: `At most ${cap} trades per New York day.`, enforcement_params: { max_trades_per_day: cap }, created_by: 'ai_suggested' },
      },
    });
  }
  return out;
}

/** Runs of losing round trips (P&L ≤ 0) in exit order: [start index, length]. */
export function lossStreaks(trips: readonly { pnl_cents: number }[]): { start: number; length: number }[] {
  const out: { start: number; length: number }[] = [];
  let start = -1;
  for (let i = 0; i <= trips.length; i++) {
    const losing = i < trips.length && trips[i]!.pnl_cents <= 0;
    if (losing && start < 0) start = i;
    if (!losing && start >= 0) {
      out.push({ start, length: i - start });
      start = -1;
    }
  }
  return out;
}

const byExit = (trips: readonly RoundTrip[]) => [...trips].sort((a, b) => a.exit_time.localeCompare(b.exit_time) || (a.exit_fill_id ?? 0) - (b.exit_fill_id ?? 0));

function consecutiveLosses(f: ThreatFacts): ThreatEvent[] {
  const trips = byExit(f.round_trips);
  const out: ThreatEvent[] = [];
  for (const s of lossStreaks(trips)) {
    const severity = severityOf('consecutive_losses', s.length);
    if (!severity) continue;
    const streak = trips.slice(s.start, s.start + s.length);
    const loss = streak.reduce((a, t) => a + t.pnl_cents, 0) / 100;
    out.push({
      key: keyOf('consecutive_losses', f.run_id, streak[0]!.exit_fill_id ?? `lieu${streak[0]!.entry_fill_id}`, severity),
      type: 'consecutive_losses',
      severity,
      run_id: f.run_id,
      clock: streak[streak.length - 1]!.exit_time,
      message: `${s.length} losing round trips in a row, ${money(loss)} in total.`,
      evidence: { order_ids: [...new Set(streak.map((t) => t.exit_order_id).filter((id) => id !== null))].slice(0, 10), figures: { losses_in_a_row: s.length, total_pnl: loss } },
      recommendation: {
        text: 'Stop for the day after a 2% loss.',
        rule: { rule_name: 'Daily loss limit 2%', rule_category: 'risk', rule_description: 'Halt for the day when the day P&L reaches −2% of portfolio value.', enforcement_params: { daily_loss_limit_pct: 0.02 }, created_by: 'ai_suggested' },
      },
    });
  }
  return out;
}

function revengeTrading(f: ThreatFacts): ThreatEvent[] {
  const windowMs = REVENGE_WINDOW_MS[f.timespan ?? 'minute'];
  // A loss is per exit order: the lots it closed, their net P&L and entry notional.
  const losses = new Map<number, { clock: string; pnl: number; entry: number }>();
  for (const t of f.round_trips) {
    if (t.exit_order_id === null) continue; // paid in lieu by a split: no exit of the agent's
    const l = losses.get(t.exit_order_id) ?? { clock: t.exit_time, pnl: 0, entry: 0 };
    l.pnl += t.pnl_cents;
    l.entry += t.entry_notional_cents;
    losses.set(t.exit_order_id, l);
  }
  const out: ThreatEvent[] = [];
  for (const [exitOrder, l] of losses) {
    if (l.pnl >= 0 || l.entry <= 0) continue;
    const end = Date.parse(l.clock) + windowMs;
    // the agent's next entry order after the loss (any status: an attempt shows the intent)
    let worst: { o: OrderFact; ratio: number } | null = null;
    for (const o of f.orders) {
      if (o.source !== 'agent' || !isEntry(o.side) || o.price === null || o.order_id <= exitOrder) continue;
      const t = Date.parse(o.clock);
      if (t < Date.parse(l.clock)) continue;
      if (t <= end) worst = { o, ratio: (o.quantity * o.price * 100) / l.entry };
      break;
    }
    if (!worst) continue;
    const severity = severityOf('revenge_trading', worst.ratio);
    if (!severity) continue;
    const cap = Math.round(l.entry / 100);
    out.push({
      key: keyOf('revenge_trading', f.run_id, exitOrder, severity),
      type: 'revenge_trading',
      severity,
      run_id: f.run_id,
      clock: worst.o.clock,
      message: `After a ${money(l.pnl / 100)} loss (order ${exitOrder}, ${l.clock}) the agent ordered ${worst.o.quantity} ${worst.o.symbol} worth ${money(worst.o.quantity * worst.o.price!)}, ${worst.ratio.toFixed(2)}× the losing trade (order ${worst.o.order_id}, ${worst.o.clock}).`,
      evidence: {
        order_ids: [exitOrder, worst.o.order_id],
        figures: { loss: l.pnl / 100, losing_entry_notional: l.entry / 100, new_order_notional: round(worst.o.quantity * worst.o.price!, 2), size_ratio: round(worst.ratio, 4), status: worst.o.status },
      },
      recommendation: {
        text: `Cap any one order at ${money(cap)}, the size of the trade that lost.`,
        rule: { rule_name: `Max order $${cap}`, rule_category: 'position_sizing', rule_description: `No single order above $${cap}.`, enforcement_params: { max_order_value: cap }, created_by: 'ai_suggested' },
      },
    });
  }
  return out;
}

function ruleViolations(f: ThreatFacts): ThreatEvent[] {
  const refused = f.orders.filter((o) => o.source === 'agent' && o.status === 'rejected' && o.rejections.some((r) => r.source === 'rule'));
  const severity = severityOf('rule_violation_attempts', refused.length);
  if (!severity) return [];
  const byRule: Record<string, number> = {};
  for (const o of refused) for (const r of o.rejections) if (r.source === 'rule') byRule[r.rule_name ?? r.code] = (byRule[r.rule_name ?? r.code] ?? 0) + 1;
  const top = Object.entries(byRule).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return [
    {
      key: keyOf('rule_violation_attempts', f.run_id, 'run', severity),
      type: 'rule_violation_attempts',
      severity,
      run_id: f.run_id,
      clock: refused[refused.length - 1]!.clock,
      message: `${refused.length} agent order(s) refused by rules: ${top.slice(0, 3).map(([n, c]) => `'${n}' ×${c}`).join(', ')}.`,
      evidence: { order_ids: refused.map((o) => o.order_id).slice(-10), figures: { attempts: refused.length, ...Object.fromEntries(top.slice(0, 5).map(([n, c]) => [`rule:${n}`, c])) } },
      recommendation: { text: 'Call check_order before placing an order, and size orders inside the rules it names.', rule: null },
    },
  ];
}

function circuitBreaker(f: ThreatFacts): ThreatEvent[] {
  if (!f.breaker) return [];
  return [
    {
      // keyed by the reason: the halt hook and a later detection (which only sees the reason) agree
      key: keyOf('circuit_breaker', f.run_id, f.breaker.reason, 'critical'),
      type: 'circuit_breaker',
      severity: 'critical',
      run_id: f.run_id,
      clock: f.breaker.clock,
      message: f.breaker.reason,
      evidence: { order_ids: [], figures: { reason: f.breaker.reason } },
      recommendation: {
        text: 'Exit losing positions earlier: a 5% stop-loss on every position.',
        rule: { rule_name: 'Stop loss 5%', rule_category: 'stop_loss', rule_description: 'Exit a position 5% against its entry.', enforcement_params: { stop_loss_pct: 0.05 }, created_by: 'ai_suggested' },
      },
    },
  ];
}

function round(x: number, dp: number): number {
  const k = 10 ** dp;
  return Math.round(x * k) / k;
}
