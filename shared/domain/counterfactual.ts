// A run replayed under other rules, in memory: the book, how one order decision and one
// clock step change it, and how outcomes compare. Pure: the decisions themselves are
// decide.ts's decideOrder and clock-step.ts's decideClockStep (the functions the live order
// path and the clock call); this module only keeps their results in memory instead of
// writing them, mirroring what the live persist step writes (shared/trading/orders.ts,
// shared/trading/clock.ts, shared/store/runs.ts recordEquity).
//
// Decisions
// - A recorded agent order is an intent: side, symbol, quantity, type, limit, attached
//   stop/target. close_position's order closes whatever the counterfactual holds in the
//   symbol then (with nothing held it is sent as recorded and refused). A closing order (sell, cover) for more than the counterfactual holds on the
//   same side is cut to the holding and reported as changed; with nothing held it is
//   submitted as recorded, so the gates refuse it with their own sentence.
// - Approvals, approver rejections, cancellations and manual halts and resumes are replayed
//   at the run clock they happened at: the latest run clock recorded (orders, fills,
//   reasoning, equity points) at or before the decision's wall time, or the fill's clock
//   when the approval filled the order then (a live run's clock is the wall clock, later
//   than its last mark; an approved order that rested and filled later on the clock is
//   approved at the earlier run clock, not at its fill). Expiry is by the wall clock, so an order pending in both runs ends as it ended in
//   the original. A circuit breaker's halt is not replayed: the counterfactual trips its own.
// - The order-rate throttle counts the counterfactual agent orders placed (wall clock) in the
//   minute before, as the live path counts the model's orders.
// - Money is integer cents; prices dollars with 4 dp (money.ts).
import type { ClockPosition, ClockStepDecision, RestingOrder } from './clock-step.js';
import type { ActionsInput, ActionsResult } from './corporate-actions.js';
import { bySymbol, insertBySymbol, type BookPosition, type BookedFill, type DecideModel, type OrderDecision, type OrderRecordFields, type OrderRequestShape, type OrderState, type OrderStatus } from './decide.js';
import type { Rejection } from './gates.js';
import { mergePlan, planChanges, planOf, planOfPosition, planProblems, type ExitChanges } from './exits.js';
import { notionalCents } from './money.js';
import { nyLocal, nyToUtc, utcIso } from './ny-time.js';
import { portfolioValueCents } from './rules/engine.js';
import type { RuleRecord, Side } from './types.js';

/** An agent order as the run recorded it, with its outcome. Times UTC ISO. */
export interface RecordedOrder extends OrderRecordFields {
  fill: { price: number; quantity: number; clock: string } | null;
  decided_at: string | null;
  /** close_position's order: replayed as a close of whatever the counterfactual holds then. */
  closes_position?: boolean;
  /** The quantity the run decided on (the row's: after a downsize, a modification or an approval's edit); absent: quantity. */
  decided_quantity?: number;
  /** An approver's edits (approve_order with quantity, stop_loss, take_profit): the terms approved. */
  approval_edit?: { quantity: number; stop_loss: number | null; take_profit: number | null };
  /** modify_order's changes (wall and run clock, ms; the new terms); the fields above are the terms at placement. */
  modifications?: Array<{ wall: number; clock: number; limit_price: number | null; stop_price?: number | null; quantity: number }>;
}

/** What the agent or a person did, in the order it happened: the replay's script. */
export type AgentEvent =
  | { kind: 'order'; at: number; wall: number; order: RecordedOrder }
  | { kind: 'approve' | 'approver_reject' | 'cancel'; at: number; wall: number; order_id: number; by: string; edit?: RecordedOrder['approval_edit'] }
  | { kind: 'state'; at: number; wall: number; state: 'active' | 'reducing' | 'halted'; reason: string | null }
  | { kind: 'exits'; at: number; wall: number; symbol: string; changes: ExitChanges }
  | { kind: 'modify'; at: number; wall: number; order_id: number; limit_price: number | null; stop_price: number | null; quantity: number };

/** A set_exits the run recorded: its wall time, run clock and the fields given. */
export interface RecordedExitChange {
  wall: number;
  clock: number;
  symbol: string;
  changes: ExitChanges;
}

/** A (wall clock, run clock) pair recorded by the run: an order, a fill or a reasoning entry. */
export interface ClockMark {
  wall: number;
  clock: number;
}

/** The run clock at wall time `wall`: the latest mark at or before it (or `fallback`). */
export function runClockAt(marks: readonly ClockMark[], wall: number, fallback: number): number {
  let best: ClockMark | null = null;
  for (const m of marks) if (m.wall <= wall && (!best || m.wall > best.wall || (m.wall === best.wall && m.clock > best.clock))) best = m;
  return best ? Math.max(best.clock, fallback) : fallback;
}

/**
 * The run clock of a person's decision on `o` at wall time `wall` (module notes): the fill's
 * clock when the decision filled the order (a replay run: the fill is at the run clock then; a
 * live run, whose run clock is the wall clock: the fill within 5 s of the decision), else the
 * latest run clock recorded by then.
 */
function decisionClock(o: RecordedOrder, marks: readonly ClockMark[], wall: number, at: number): number {
  const marked = runClockAt(marks, wall, at);
  if (!o.fill) return marked;
  const filled = Date.parse(o.fill.clock);
  const live = Math.abs(at - Date.parse(o.created_at)) < 5_000;
  return (live ? filled <= wall + 5_000 : filled <= marked) ? filled : marked;
}

/**
 * The script of a run: each agent order at its clock, and each approval, approver rejection,
 * cancellation and manual halt or resume at the run clock it happened at (see the module
 * notes), sorted by run clock then wall clock.
 */
export function agentScript(
  orders: readonly RecordedOrder[],
  marks: readonly ClockMark[],
  states: ReadonlyArray<{ wall: number; state: 'active' | 'reducing' | 'halted'; reason: string | null }> = [],
  start = 0,
  exits: readonly RecordedExitChange[] = [],
): AgentEvent[] {
  const out: AgentEvent[] = [];
  for (const x of exits) out.push({ kind: 'exits', at: x.clock, wall: x.wall, symbol: x.symbol, changes: x.changes });
  for (const c of states) out.push({ kind: 'state', at: runClockAt(marks, c.wall, start), wall: c.wall, state: c.state, reason: c.reason });
  for (const o of orders) {
    const at = Date.parse(o.clock);
    out.push({ kind: 'order', at, wall: Date.parse(o.created_at), order: o });
    for (const m of o.modifications ?? []) out.push({ kind: 'modify', at: m.clock, wall: m.wall, order_id: o.order_id, limit_price: m.limit_price, stop_price: m.stop_price ?? null, quantity: m.quantity });
    // Expiry (after 15 minutes, or with the run's end) is no person's decision.
    if (!o.decided_at || !o.decided_by || o.status === 'expired' || o.decided_by === 'expiry') continue;
    const wall = Date.parse(o.decided_at);
    const when = decisionClock(o, marks, wall, at);
    if (o.status === 'cancelled') out.push({ kind: 'cancel', at: when, wall, order_id: o.order_id, by: o.decided_by });
    else if (o.rejections.some((r) => r.code === 'REJECTED_BY_APPROVER')) out.push({ kind: 'approver_reject', at: when, wall, order_id: o.order_id, by: o.decided_by });
    else out.push({ kind: 'approve', at: when, wall, order_id: o.order_id, by: o.decided_by, edit: o.approval_edit });
  }
  return out.sort((a, b) => a.at - b.at || a.wall - b.wall || (a.kind === 'order' ? 0 : 1) - (b.kind === 'order' ? 0 : 1));
}

/** A fill of the counterfactual, as the fills table would hold it. */
export interface ReplayFill extends BookedFill {
  seq: number;
  /** The recorded order it filled, or null for an exit the clock made. */
  order_id: number | null;
  /** UTC ISO. */
  clock: string;
  /** 'agent', 'limit', 'stop_loss', 'take_profit' or the exit rule's name. */
  source: string;
  reason: string | null;
}

/** The counterfactual outcome of one recorded order. */
export interface Outcome {
  status: OrderStatus;
  /** The quantity sent (a closing order may have been cut to the holding). */
  quantity: number;
  fill_price: number | null;
  rejections: Rejection[];
}

/** The account of a run held in memory while it is replayed. */
export interface ReplayBook {
  model: DecideModel;
  rules: RuleRecord[];
  session: 'regular' | 'extended';
  initialCents: number;
  cashCents: number;
  realizedPnlCents: number;
  positions: Map<string, ClockPosition>;
  resting: Map<number, RestingOrder>;
  /** Orders waiting for approval, with the request to decide again at approval. */
  pending: Map<number, OrderRequestShape>;
  peakValueCents: number;
  /** Value at each New York session close passed (YYYY-MM-DD → cents). */
  dayMarks: Map<string, number>;
  /** The equity curve as recordEquity would have written it. */
  equity: Array<{ clock: number; valueCents: number }>;
  tradesByDay: Map<string, number>;
  /** Losing round trips in a row and the run clock (UTC ISO) of the latest (decide.ts lossStreakAfter). */
  lossStreak: number;
  lastLossAt: string | null;
  fills: ReplayFill[];
  outcomes: Map<number, Outcome>;
  /** Wall times of counterfactual agent orders not refused by the throttle (the throttle's window). */
  placedWalls: number[];
  halts: Array<{ clock: string; reason: string }>;
  /** Concentration and cash at the equity points (for suggest_rules' evidence). */
  exposure: ExposureStats;
}

export interface ExposureStats {
  /** Highest |position value| / account value at a point, its symbol and clock. */
  maxWeight: number;
  maxWeightSymbol: string | null;
  maxWeightClock: string | null;
  /** Lowest cash / account value at a point and its clock. */
  minCashPct: number;
  minCashClock: string | null;
  /** Points at which cash was under 2% of the account value. */
  lowCashPoints: number;
  points: number;
}

export function newBook(model: DecideModel, rules: RuleRecord[], initialCents: number, session: 'regular' | 'extended'): ReplayBook {
  return {
    model,
    rules,
    session,
    initialCents,
    cashCents: initialCents,
    realizedPnlCents: 0,
    positions: new Map(),
    resting: new Map(),
    pending: new Map(),
    peakValueCents: initialCents,
    dayMarks: new Map(),
    equity: [],
    tradesByDay: new Map(),
    lossStreak: 0,
    lastLossAt: null,
    fills: [],
    outcomes: new Map(),
    placedWalls: [],
    halts: [],
    exposure: { maxWeight: 0, maxWeightSymbol: null, maxWeightClock: null, minCashPct: 1, minCashClock: null, lowCashPoints: 0, points: 0 },
  };
}

const sortBySymbol = <T extends { symbol: string }>(xs: T[]) => xs.sort(bySymbol);

/** Held positions marked by `priceOf` (null: unpriced, carried at its average cost, as markAccount does). */
export function markedPositions(book: ReplayBook, priceOf: (symbol: string) => number | null): ClockPosition[] {
  return sortBySymbol([...book.positions.values()].map((p) => ({ ...p, price: priceOf(p.symbol) ?? p.avgCost })));
}

/** cash + Σ quantity × price, as markAccount values the account (unpriced: average cost). */
export function bookValueCents(book: ReplayBook, priceOf: (symbol: string) => number | null): number {
  let total = book.cashCents;
  for (const p of book.positions.values()) total += notionalCents(p.quantity, priceOf(p.symbol) ?? p.avgCost);
  return total;
}

/**
 * The day-start value at `clock`, as loadPortfolioSnapshot reads it: the latest session-close
 * mark before the clock's New York date, else the last equity point at or before that date's
 * midnight, else the initial cash.
 */
export function dayStartValueCents(book: ReplayBook, clock: Date): number {
  const date = nyLocal(clock).date;
  let best: string | null = null;
  for (const d of book.dayMarks.keys()) if (d < date && (best === null || d > best)) best = d;
  if (best !== null) return book.dayMarks.get(best)!;
  const midnight = nyMidnight(date);
  for (let i = book.equity.length - 1; i >= 0; i--) if (book.equity[i]!.clock <= midnight) return book.equity[i]!.valueCents;
  return book.initialCents;
}

// New York midnight of the last date asked (every step and order of a day asks it).
let midnightOf = '';
let midnightMs = 0;
function nyMidnight(date: string): number {
  if (date !== midnightOf) {
    midnightMs = nyToUtc(date, '00:00').getTime();
    midnightOf = date;
  }
  return midnightMs;
}

/** The state decideOrder reads, from the book at `clock`. */
export function orderState(
  book: ReplayBook,
  clock: Date,
  facts: { marketOpen: boolean; symbolKnown: boolean; marketPrice: number | null; ordersLastMinute: number; priceOf: (symbol: string) => number | null },
  model: DecideModel = book.model,
): OrderState {
  // By symbol, each inserted in its place (the order a stable sort of the map's gives; no sort per order)
  const positions: BookPosition[] = [];
  for (const { symbol, quantity, avgCost, costCents } of book.positions.values()) {
    insertBySymbol(positions, { symbol, quantity, avgCost, costCents, price: facts.priceOf(symbol) ?? avgCost });
  }
  return {
    cashCents: book.cashCents,
    positions,
    dayStartValueCents: dayStartValueCents(book, clock),
    peakValueCents: book.peakValueCents,
    tradesToday: book.tradesByDay.get(nyLocal(clock).date) ?? 0,
    tradesInRun: book.fills.length,
    lossStreak: book.lossStreak,
    lastLossAt: book.lastLossAt,
    realizedPnlCents: book.realizedPnlCents,
    model,
    rules: book.rules,
    clock,
    marketOpen: facts.marketOpen,
    symbolKnown: facts.symbolKnown,
    marketPrice: facts.marketPrice,
    ordersLastMinute: facts.ordersLastMinute,
  };
}

/** Counterfactual agent orders placed in the minute before `wall` (the live throttle's count). */
export function ordersInLastMinute(book: ReplayBook, wall: number): number {
  return upperBound(book.placedWalls, wall) - upperBound(book.placedWalls, wall - 60_000);
}

/** Notes an agent order placed at `wall` for the throttle (kept sorted). */
export function notePlaced(book: ReplayBook, wall: number): void {
  const xs = book.placedWalls;
  if (!xs.length || xs[xs.length - 1]! <= wall) xs.push(wall);
  else xs.splice(upperBound(xs, wall), 0, wall);
}

/** Index of the first element > x in an ascending array (binary search). */
export function upperBound(xs: ArrayLike<number>, x: number): number {
  let a = 0;
  let b = xs.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (xs[m]! <= x) a = m + 1;
    else b = m;
  }
  return a;
}

const isOversized = (r: Rejection) => r.code === 'OVERSELL' || r.code === 'OVERCOVER';

/**
 * The intent of a recorded order as it is sent in the counterfactual: a sell or cover larger
 * than the same-side holding is cut to the holding (`cut` says so), unless the original run
 * refused it as larger than its own holding (OVERSELL / OVERCOVER).
 */
export function intentOf(order: RecordedOrder, heldQuantity: number): { req: OrderRequestShape; cut: boolean } {
  if (order.closes_position && heldQuantity !== 0) {
    // close_position closes the whole position held at its clock, as the live path sized it.
    const side = heldQuantity > 0 ? 'sell' : 'cover';
    const req = { side, symbol: order.symbol, quantity: Math.abs(heldQuantity), order_type: 'market', limit_price: null, stop_loss: null, take_profit: null } as const;
    return { req, cut: req.quantity !== order.quantity || side !== order.side };
  }
  let quantity = order.quantity;
  // An order the original refused as larger than its holding was not an intent to close: it is sent as recorded.
  const oversized = order.rejections.some(isOversized);
  if (!oversized && order.side === 'sell' && heldQuantity > 0 && quantity > heldQuantity) quantity = heldQuantity;
  if (!oversized && order.side === 'cover' && heldQuantity < 0 && quantity > -heldQuantity) quantity = -heldQuantity;
  return {
    req: {
      side: order.side,
      symbol: order.symbol,
      quantity,
      order_type: order.order_type,
      limit_price: order.limit_price,
      stop_price: order.stop_price,
      stop_loss: order.stop_loss,
      take_profit: order.take_profit,
      take_profit_2: order.take_profit_2,
      first_target_fraction: order.first_target_fraction,
      breakeven_after_first_target: order.breakeven_after_first_target,
      trailing_stop_pct: order.trailing_stop_pct,
    },
    cut: quantity !== order.quantity,
  };
}

function halt(book: ReplayBook, reason: string, clock: Date): void {
  if (book.model.state === 'halted') return;
  book.model = { ...book.model, state: 'halted', state_reason: reason };
  book.halts.push({ clock: clock.toISOString(), reason });
}

function countFill(book: ReplayBook, clock: Date): void {
  const day = nyLocal(clock).date;
  book.tradesByDay.set(day, (book.tradesByDay.get(day) ?? 0) + 1);
}

/**
 * Keeps one order decision in the book, as placeOrder persists it: the halt of a breaker
 * already reached, the status, the fill (cash, realized P&L, position with the exit levels
 * of an opening order, water marks kept), the halt a fill causes.
 */
export function applyOrderDecision(book: ReplayBook, orderId: number, req: OrderRequestShape, d: OrderDecision, clock: Date): Outcome {
  if (d.tripped) halt(book, d.tripped, clock);
  if (d.status === 'open') {
    book.resting.set(orderId, {
      order_id: orderId,
      side: req.side,
      symbol: req.symbol,
      quantity: req.quantity,
      order_type: req.order_type,
      limit_price: req.limit_price ?? null,
      stop_price: req.stop_price ?? null,
      triggered: false,
      stop_loss: req.stop_loss ?? null,
      take_profit: req.take_profit ?? null,
      take_profit_2: req.take_profit_2 ?? null,
      first_target_fraction: req.first_target_fraction ?? null,
      breakeven_after_first_target: req.breakeven_after_first_target ?? null,
      trailing_stop_pct: req.trailing_stop_pct ?? null,
    });
  }
  if (d.status === 'pending_approval') book.pending.set(orderId, req);
  if (d.fill && d.applied) {
    const prev = book.positions.get(req.symbol);
    const opening = req.side === 'buy' || req.side === 'short';
    book.cashCents = d.applied.cashCents;
    book.realizedPnlCents = d.applied.realizedPnlCents;
    if (d.applied.position) {
      book.positions.set(req.symbol, {
        symbol: req.symbol,
        ...d.applied.position,
        price: d.estimate.marketPrice ?? d.fill.price,
        highWater: prev?.highWater ?? null,
        lowWater: prev?.lowWater ?? null,
        ...mergePlan(prev ? planOfPosition(prev) : null, opening ? planOf(req) : {}),
      });
    } else book.positions.delete(req.symbol);
    book.fills.push({
      seq: book.fills.length,
      order_id: orderId,
      side: req.side,
      symbol: req.symbol,
      quantity: req.quantity,
      price: d.fill.price,
      commissionCents: d.fill.commissionCents,
      slippagePerShare: d.fill.slippagePerShare,
      cashChangeCents: d.applied.cashChangeCents,
      realizedCents: d.applied.realizedCents,
      clock: utcIso(clock.getTime()),
      source: 'agent',
      reason: null,
    });
    countFill(book, clock);
    book.lossStreak = d.next.lossStreak ?? 0;
    book.lastLossAt = d.next.lastLossAt ?? null;
    if (d.haltReason) halt(book, d.haltReason, clock);
  }
  const outcome: Outcome = { status: d.status, quantity: req.quantity, fill_price: d.fill?.price ?? null, rejections: d.rejections };
  book.outcomes.set(orderId, outcome);
  return outcome;
}

/**
 * Keeps one clock step's decision in the book, as onClockStep persists it: fills (exits and
 * resting limits), refused limits, water marks, session-close marks, the halt.
 */
export function applyStepDecision(book: ReplayBook, d: ClockStepDecision, clock: Date): ReplayFill[] {
  const made: ReplayFill[] = [];
  for (const f of d.fills) {
    const fill: ReplayFill = {
      seq: book.fills.length,
      order_id: f.order_id,
      side: f.side,
      symbol: f.symbol,
      quantity: f.quantity,
      price: f.fill.price,
      commissionCents: f.fill.commissionCents,
      slippagePerShare: f.fill.slippagePerShare,
      cashChangeCents: f.applied.cashChangeCents,
      realizedCents: f.applied.realizedCents,
      clock: utcIso(f.at.getTime()),
      // A resting limit's fill belongs to the agent's order, as the fills table records it.
      source: f.order_id !== null ? 'agent' : f.trigger,
      reason: f.reason,
    };
    book.fills.push(fill);
    made.push(fill);
    countFill(book, f.at);
    if (f.order_id !== null) {
      book.resting.delete(f.order_id);
      const o = book.outcomes.get(f.order_id);
      if (o) book.outcomes.set(f.order_id, { ...o, status: 'filled', fill_price: f.fill.price });
    }
  }
  for (const t of d.triggered) {
    const o = book.resting.get(t.order_id);
    if (o) book.resting.set(t.order_id, { ...o, triggered: true });
  }
  for (const r of d.refused) {
    book.resting.delete(r.order_id);
    const o = book.outcomes.get(r.order_id);
    if (o) book.outcomes.set(r.order_id, { ...o, status: 'rejected', rejections: r.rejections });
  }
  book.cashCents = d.cashCents;
  book.realizedPnlCents = d.realizedPnlCents;
  // the decision's positions are its own copies (decideClockStep copies what it is given)
  book.positions = new Map(d.positions.map((p) => [p.symbol, p]));
  for (const m of d.dayMarks) book.dayMarks.set(m.date, m.valueCents);
  book.lossStreak = d.lossStreak;
  book.lastLossAt = d.lastLossAt;
  if (d.haltReason) halt(book, d.haltReason, clock);
  return made;
}

/** recordEquity in memory: the point at `clock` (replacing one already there) and the peak. */
export function recordPoint(book: ReplayBook, clock: number, valueCents: number): void {
  const last = book.equity.at(-1);
  if (last && last.clock === clock) last.valueCents = valueCents;
  else book.equity.push({ clock, valueCents });
  if (valueCents > book.peakValueCents) book.peakValueCents = valueCents;
}

/** The account marked at `clock` (unpriced: average cost): records the point and the exposure. */
export function markPoint(book: ReplayBook, clock: number, priceOf: (symbol: string) => number | null): number {
  const value = bookValueCents(book, priceOf);
  recordPoint(book, clock, value);
  const x = book.exposure;
  x.points++;
  if (value > 0) {
    for (const p of book.positions.values()) {
      const w = Math.abs(notionalCents(p.quantity, priceOf(p.symbol) ?? p.avgCost)) / value;
      if (w > x.maxWeight) Object.assign(x, { maxWeight: w, maxWeightSymbol: p.symbol, maxWeightClock: new Date(clock).toISOString() });
    }
    const cashPct = book.cashCents / value;
    if (cashPct < x.minCashPct) Object.assign(x, { minCashPct: cashPct, minCashClock: new Date(clock).toISOString() });
    if (cashPct < 0.02) x.lowCashPoints++;
  }
  return value;
}

/**
 * set_exits in memory, as the live tool judges it at `price`: the plan of the position held
 * then moves, or nothing happens (no position, or a plan that cannot stand there).
 */
export function applyExitChange(book: ReplayBook, symbol: string, changes: ExitChanges, price: number | null): void {
  const p = book.positions.get(symbol);
  if (!p || price === null) return;
  const plan = mergePlan(planOfPosition(p), planChanges(changes));
  if (planProblems(p.quantity > 0, plan, price, 'the price now', symbol).length) return;
  book.positions.set(symbol, { ...p, ...plan });
}

/**
 * modify_order in memory, as the live tool keeps it: refused, the resting order stays as it
 * was (a breaker reached still halts); else it rests at its new terms or fills now.
 */
export function applyModification(book: ReplayBook, orderId: number, req: OrderRequestShape, d: OrderDecision, clock: Date): void {
  if (d.tripped) halt(book, d.tripped, clock);
  if (d.status === 'rejected') return;
  const was = book.resting.get(orderId);
  book.resting.delete(orderId);
  applyOrderDecision(book, orderId, req, d, clock);
  const now = book.resting.get(orderId);
  // a triggered stop-limit stays one (the row keeps its type and stop)
  if (was?.triggered && now) book.resting.set(orderId, { ...now, order_type: was.order_type, stop_price: was.stop_price, triggered: true });
}

/** An approver's refusal, worded as approve_order words it. */
export function approverRejection(by: string): Rejection {
  return { source: 'gate', code: 'REJECTED_BY_APPROVER' as never, message: `Rejected by ${by}.` };
}

// ---- comparing outcomes ------------------------------------------------------------------------

export interface OutcomeView {
  status: OrderStatus;
  quantity: number;
  fill_price: number | null;
  reasons: string[];
}

export interface ChangedOrder {
  order_id: number;
  clock: string;
  side: Side;
  symbol: string;
  /** What changed: status, fill_price, quantity, reasons. */
  changes: Array<'status' | 'fill_price' | 'quantity' | 'reasons'>;
  original: OutcomeView;
  counterfactual: OutcomeView;
}

const reasonCodes = (rs: readonly Rejection[]) => rs.map((r) => (r.source === 'rule' ? `${r.code}:${r.rule_name}` : r.code)).sort().join('|');

/** The recorded outcome and the counterfactual one side by side, or null when they agree. */
export function compareOutcome(order: RecordedOrder, cf: Outcome): ChangedOrder | null {
  const original: OutcomeView = {
    status: order.status,
    quantity: order.fill?.quantity ?? order.decided_quantity ?? order.quantity,
    fill_price: order.fill?.price ?? null,
    reasons: order.rejections.map((r) => r.message),
  };
  const counterfactual: OutcomeView = { status: cf.status, quantity: cf.quantity, fill_price: cf.fill_price, reasons: cf.rejections.map((r) => r.message) };
  const changes: ChangedOrder['changes'] = [];
  if (original.status !== counterfactual.status) changes.push('status');
  if (original.fill_price !== counterfactual.fill_price) changes.push('fill_price');
  if (original.quantity !== counterfactual.quantity) changes.push('quantity');
  if (reasonCodes(order.rejections) !== reasonCodes(cf.rejections)) changes.push('reasons');
  if (!changes.length) return null;
  return { order_id: order.order_id, clock: order.clock, side: order.side, symbol: order.symbol, changes, original, counterfactual };
}

// ---- shaping -------------------------------------------------------------------------------------

/**
 * At most `max` points of a curve, first and last kept: the point of largest and smallest
 * value in each of max/2 equal buckets (min/max per bucket keeps the drawdown's depth).
 */
export function downsample<T>(points: readonly T[], max: number, value: (p: T) => number): T[] {
  if (points.length <= max) return [...points];
  const inner = points.length - 2;
  const buckets = Math.max(1, Math.floor((max - 2) / 2));
  const keep = new Set<number>([0, points.length - 1]);
  for (let b = 0; b < buckets; b++) {
    const lo = 1 + Math.floor((b * inner) / buckets);
    const hi = 1 + Math.floor(((b + 1) * inner) / buckets);
    let mi = -1;
    let ma = -1;
    for (let i = lo; i < hi; i++) {
      if (mi < 0 || value(points[i]!) < value(points[mi]!)) mi = i;
      if (ma < 0 || value(points[i]!) > value(points[ma]!)) ma = i;
    }
    if (mi >= 0) keep.add(mi);
    if (ma >= 0) keep.add(ma);
  }
  return [...keep].sort((a, b) => a - b).map((i) => points[i]!);
}

/** Value of the book's positions and cash for a quick summary: cash, positions, total (cents). */
export function bookTotals(book: ReplayBook, priceOf: (symbol: string) => number | null) {
  const positions = markedPositions(book, priceOf);
  const totalCents = portfolioValueCents({ cashCents: book.cashCents, positions });
  return { cashCents: book.cashCents, positions, totalCents };
}

// ---- alternative rules ----------------------------------------------------------------------------

/** A rule as create_rule takes it, without model_id (enforcement_params not yet checked). */
export interface RuleInput {
  rule_name: string;
  rule_description?: string;
  rule_category: RuleRecord['ruleCategory'];
  enforcement_params: Record<string, unknown>;
  applies_to_symbols?: string[] | null;
  exclude_symbols?: string[] | null;
  priority?: number;
  is_active?: boolean;
}

/**
 * An alternative rule set as the engine reads it, or the first problem as one sentence naming
 * the rule's index and field: create_rule's sentence for enforcement_params, prefixed
 * "rules[i] ('name'): ". Inactive rules are kept (they never act). Rule ids are "alt-<i>".
 */
export function alternativeRules(
  rules: readonly RuleInput[],
  parse: (category: RuleRecord['ruleCategory'], params: unknown) => { ok: true; params: unknown } | { ok: false; error: string },
): { ok: true; rules: RuleRecord[] } | { ok: false; error: string } {
  const out: RuleRecord[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    const parsed = parse(r.rule_category, r.enforcement_params);
    if (!parsed.ok) return { ok: false, error: `rules[${i}] ('${r.rule_name}'): ${parsed.error}` };
    const key = r.rule_name.trim();
    if (seen.has(key)) return { ok: false, error: `rules[${i}] ('${r.rule_name}'): rule_name repeats rules[${seen.get(key)}]; rule names are unique per model.` };
    seen.set(key, i);
    out.push({
      ruleId: `alt-${i}`,
      ruleName: r.rule_name.trim(),
      ruleCategory: r.rule_category,
      enforcementParams: parsed.params as Record<string, unknown>,
      appliesToSymbols: r.applies_to_symbols ?? null,
      excludeSymbols: r.exclude_symbols ?? null,
      priority: r.priority ?? 5,
      isActive: r.is_active ?? true,
    });
  }
  return { ok: true, rules: out.sort((a, b) => b.priority - a.priority || (a.ruleName < b.ruleName ? -1 : a.ruleName > b.ruleName ? 1 : 0)) };
}

// ---- corporate actions ----------------------------------------------------------------------------

/** The book's positions, resting and pending orders as applyCorporateActions reads them. */
export function actionsInput(book: ReplayBook): Pick<ActionsInput, 'account' | 'positions' | 'orders'> {
  return {
    account: { cashCents: book.cashCents, realizedPnlCents: book.realizedPnlCents },
    positions: [...book.positions.values()].map((p) => ({
      symbol: p.symbol,
      quantity: p.quantity,
      costCents: p.costCents,
      highWater: p.highWater,
      lowWater: p.lowWater,
      stopPrice: p.stop,
      targetPrice: p.target,
      target2Price: p.target2 ?? null,
    })),
    orders: [
      ...[...book.resting.values()].map((o) => ({ orderId: o.order_id, symbol: o.symbol, quantity: o.quantity, limitPrice: o.limit_price, stopPrice: o.stop_price ?? null, stopLoss: o.stop_loss, takeProfit: o.take_profit })),
      ...[...book.pending].map(([id, o]) => ({ orderId: id, symbol: o.symbol, quantity: o.quantity, limitPrice: o.limit_price ?? null, stopPrice: o.stop_price ?? null, stopLoss: o.stop_loss ?? null, takeProfit: o.take_profit ?? null })),
    ].sort((a, b) => a.orderId - b.orderId),
  };
}

/** Keeps applyCorporateActions' result in the book, as applyCorporateActionsStep persists it. */
export function applyActionsResult(book: ReplayBook, r: ActionsResult): void {
  book.cashCents = r.account.cashCents;
  book.realizedPnlCents = r.account.realizedPnlCents;
  const touched = new Set(r.events.map((e) => e.symbol));
  for (const p of r.positions) {
    if (!touched.has(p.symbol)) continue;
    const prev = book.positions.get(p.symbol);
    if (p.quantity === 0) book.positions.delete(p.symbol);
    else {
      book.positions.set(p.symbol, {
        symbol: p.symbol,
        quantity: p.quantity,
        costCents: p.costCents,
        avgCost: p.avgCost,
        price: prev?.price ?? p.avgCost,
        highWater: p.highWater,
        lowWater: p.lowWater,
        ...(prev ? planOfPosition(prev) : {}),
        stop: p.stopPrice,
        target: p.targetPrice,
        target2: p.target2Price ?? null,
      });
    }
  }
  for (const o of r.orders) {
    if (o.quantity === 0) {
      book.resting.delete(o.orderId);
      book.pending.delete(o.orderId);
      const out = book.outcomes.get(o.orderId);
      if (out) book.outcomes.set(o.orderId, { ...out, status: 'cancelled' });
      continue;
    }
    const rest = book.resting.get(o.orderId);
    if (rest) book.resting.set(o.orderId, { ...rest, quantity: o.quantity, limit_price: o.limitPrice, stop_price: o.stopPrice ?? null, stop_loss: o.stopLoss, take_profit: o.takeProfit });
    const pend = book.pending.get(o.orderId);
    if (pend) book.pending.set(o.orderId, { ...pend, quantity: o.quantity, limit_price: o.limitPrice, stop_price: o.stopPrice ?? null, stop_loss: o.stopLoss, take_profit: o.takeProfit });
  }
}
