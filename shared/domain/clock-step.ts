// What one clock step does to a run's account, pure: resting limits fill, stops, targets,
// trailing stops and flatten_by exits fire, session closes are marked, and the circuit
// breakers (margin_call, max drawdown, loss limits) are judged. shared/trading/clock.ts
// loads the state and the bars, calls decideClockStep and persists the decision; a
// counterfactual replay can call it in memory.
//
// Conventions (CONTRACT §4, issue 8)
// - The step moves the clock from `from` to `clock`. Bars that closed in (from, clock] are
//   walked in order of their end. A level touched inside a bar fires at that bar's end,
//   stamped there and counted on that bar's New York day; a bar that opens through a level
//   fires at its open, stamped at its start.
// - The bar that starts at the clock is checked at its open in this step: a level it gaps
//   through fires now, at the open, stamped at the clock.
// - Triggered stops, targets, trailing stops and flattens are market orders: the trigger
//   price (the level, or the open when gapped) moves against the trader by slippage_bps,
//   and commission applies. A resting limit fills at its limit, or at the bar's open when
//   it opens beyond the limit, without slippage; a stop entry triggers and fills as
//   fills.ts restingOnBar says; the gates and rules judge the fill again then (on the
//   account at that moment, at the fill price, timing rules at the bar's start).
// - When one bar touches a stop and a target, the stop wins; an attached stop is checked
//   before the rules' stops, then the attached target, then the rules' targets.
// - flatten_by acts at the earlier of its time and the session's last minute (half days
//   close at 13:00, so by 12:59). A step whose clock reaches that deadline inside the
//   session flattens at the price at the clock; a step that jumps past the whole session
//   (a day replay) flattens at the session's closing price, stamped at the close.
// - A risk-reducing fill is never refused for cash; a step that leaves a debit halts the
//   model with reason margin_call. Else the breakers judge the value at the clock against
//   the peak and the day-start value (the value at the previous session's close); the
//   daily loss limits are also judged at each session close the step passes, when the value
//   fell during the step (a breach standing at its start was judged then, and a person's
//   resume over it accepts that day's loss).
import { barEnd, sessionFor, type SessionKind } from './calendar.js';
import type { AppliedFill } from './ledger.js';
import { barRange, commissionCents, fillPrice, restingOnBar } from './fills.js';
import { checkOrder, type Rejection } from './gates.js';
import { breakerReason, filledState, breakerText, marginCallReason, type BookPosition, type DecideModel, type FillTerms, type OrderRequestShape, type OrderState } from './decide.js';
import { afterFirstTarget, firstTargetQuantity, liveTarget, mergePlan, planOf, planOfPosition, trailingLevel, trailingMark, type ExitPlan, type OrderBracket } from './exits.js';
import { formatPct, formatPrice, priceTicks } from './money.js';
import { nyLocal, nyToUtc } from './ny-time.js';
import { exitSignals, lossLimitBreaches, portfolioValueCents, ruleAppliesTo } from './rules/engine.js';
import { ruleParams } from './rules/schema.js';
import type { Bar, OrderType, RuleRecord, Side, Timespan } from './types.js';

export interface ClockPosition extends BookPosition, Partial<Omit<ExitPlan, 'stop' | 'target'>> {
  /** Highest / lowest price since entry before this step (trailing stops); null: none yet. */
  highWater: number | null;
  lowWater: number | null;
  /** Exit levels attached by the opening order or set_exits, dollars (the rest of the plan: exits.ts). */
  stop: number | null;
  target: number | null;
}

export interface RestingOrder extends OrderBracket {
  order_id: number;
  side: Side;
  symbol: string;
  quantity: number;
  /** Absent: limit. */
  order_type?: OrderType;
  /** null for a stop. */
  limit_price: number | null;
  /** stop and stop_limit: the trigger, dollars. */
  stop_price?: number | null;
  /** A stop-limit whose stop already traded: it rests as a limit. */
  triggered?: boolean;
  stop_loss: number | null;
  take_profit: number | null;
}

/**
 * The request modify_order re-judges: the resting order at its new terms; a stop-limit whose
 * stop already traded is judged as the limit it rests as.
 */
export function modifiedRequest(o: RestingOrder, terms: { limit_price: number | null; stop_price: number | null; quantity: number }): OrderRequestShape {
  return { ...o, order_type: o.triggered ? 'limit' : (o.order_type ?? 'limit'), ...terms };
}

export interface ClockStepState {
  model: DecideModel;
  cashCents: number;
  realizedPnlCents: number;
  /** Held positions; `price` is the mark at the clock (used when a symbol has no price at it). */
  positions: ClockPosition[];
  openOrders: RestingOrder[];
  rules: RuleRecord[];
  peakValueCents: number;
  /** Value at the previous session's close as known before the step. */
  dayStartValueCents: number;
  /**
   * Value when the step began (positions at their prices at `from`), or undefined: unknown.
   * A session close passed is judged against the loss limits only when the value fell below
   * it: a breach that already stood when the step began was judged then, and a person who
   * resumed trading over it has accepted that day's loss.
   */
  fromValueCents?: number;
  /**
   * Cash dividends this step's corporate actions paid (+) or charged (−), at their ex-date's
   * open: a session close the step passed before that instant did not hold them yet, so its
   * value (the next day's start) leaves them out and the ex-date's day P&L counts them.
   */
  actionCash?: Array<{ at: Date; cents: number }>;
  tradesInRun: number;
  /** Losing round trips in a row and the run clock (UTC ISO) of the latest, before the step; absent: none. */
  lossStreak?: number;
  lastLossAt?: string | null;
  /** Fills so far per New York date (YYYY-MM-DD), for the days this step touches. */
  tradesByDay: Record<string, number>;
  from: Date;
  clock: Date;
  session: SessionKind;
}

/** One symbol's bars that closed in a step, ascending, and their timespan. */
export interface StepBars {
  timespan: Timespan;
  bars: Bar[];
  /** Each bar's start and end (epoch ms, index-aligned with `bars`) when the source keeps them; absent: read from `t` and the timespan (barEnd). */
  starts?: ArrayLike<number>;
  ends?: ArrayLike<number>;
}

export interface StepMarket {
  /** Per symbol: the bars that closed in (from, clock], ascending, and their timespan. */
  bars: Record<string, StepBars>;
  /** Per symbol: the open of the bar that starts exactly at the clock, or null (no gap check). */
  openAtClock: Record<string, number | null>;
  /** Per symbol: the price at the clock (marks and flattens), or null when unpriced. */
  priceAtClock: Record<string, number | null>;
  /** Each New York session close in (from, clock], with every held symbol's price there. */
  sessionCloses: Array<{ date: string; at: Date; prices: Record<string, number | null> }>;
}

export interface ClockFill extends OrderBracket {
  /** The resting limit order that filled, or null: a new market order (an exit) to record. */
  order_id: number | null;
  side: Side;
  symbol: string;
  quantity: number;
  /** 'limit', 'stop' or 'stop_limit' (a resting order), 'stop_loss', 'take_profit', 'take_profit_2', 'trailing_stop', or the exit rule's name. */
  trigger: string;
  reason: string;
  /** The fill's time: a bar's end (touched inside), a bar's start (gapped), the clock, or a session close. */
  at: Date;
  fill: FillTerms;
  applied: AppliedFill;
  /** Exit levels of a filled opening limit order. */
  stop_loss: number | null;
  take_profit: number | null;
}

export interface ClockRefusal {
  order_id: number;
  side: Side;
  symbol: string;
  quantity: number;
  at: Date;
  rejections: Rejection[];
  reason: string;
}

export interface ClockStepDecision {
  fills: ClockFill[];
  /** Resting orders the checks refused when a bar reached them. */
  refused: ClockRefusal[];
  /** Stop entries whose stop traded in the step, with when (a bar's end, or its start when gapped); a stop-limit not filled then rests as a limit. */
  triggered: Array<{ order_id: number; at: Date }>;
  /** New water marks of positions still held. */
  waterMarks: Array<{ symbol: string; high: number | null; low: number | null }>;
  /** Exit plans the step moved (a first target filled) of positions still held. */
  plans: Array<{ symbol: string; plan: ExitPlan }>;
  /** Account value at each session close passed. */
  dayMarks: Array<{ date: string; valueCents: number }>;
  /** The model halts with this reason (margin_call or a breaker), or null. */
  haltReason: string | null;
  cashCents: number;
  realizedPnlCents: number;
  positions: ClockPosition[];
  /** Value at the clock after the step. */
  valueCents: number;
  /** The loss streak after the step's fills (decide.ts lossStreakAfter). */
  lossStreak: number;
  lastLossAt: string | null;
}

interface Exit {
  price: number;
  gapped: boolean;
  trigger: string;
  reason: string;
  /** Shares to close (a first target's part); absent: the whole position. */
  quantity?: number;
  /** The plan of the rest after this exit (a first target filled). */
  after?: ExitPlan;
}

const MINUTE_MS = 60_000;

/** What one step works on: its inputs and the account as the step moves it (module functions below share it, no closures per step). */
interface Step {
  state: ClockStepState;
  market: StepMarket;
  model: DecideModel;
  cash: number;
  realized: number;
  positions: Map<string, ClockPosition>;
  open: Map<number, RestingOrder>;
  tradesByDay: Record<string, number>;
  tradesInRun: number;
  streak: { lossStreak: number; lastLossAt: string | null };
  /** Each symbol's last bar close in the step. */
  lastPrice: Map<string, number>;
  fills: ClockFill[];
  refused: ClockRefusal[];
  triggered: ClockStepDecision['triggered'];
  dayMarks: ClockStepDecision['dayMarks'];
  dayStart: number;
  stopRules: RuleRecord[];
  closeHalt: string | null;
  /** Symbols whose exit plan the step moved. */
  moved: Set<string>;
  today: { date: string; hhmm: string };
}

type SessionClose = StepMarket['sessionCloses'][number];

/** One clock step's decision. Never throws for cash: exits always fill. */
export function decideClockStep(state: ClockStepState, market: StepMarket): ClockStepDecision {
  const model = state.model;
  const step: Step = {
    state,
    market,
    model,
    cash: state.cashCents,
    realized: state.realizedPnlCents,
    positions: new Map<string, ClockPosition>(),
    open: new Map<number, RestingOrder>(),
    tradesByDay: { ...state.tradesByDay },
    tradesInRun: state.tradesInRun,
    streak: { lossStreak: state.lossStreak ?? 0, lastLossAt: state.lastLossAt ?? null },
    lastPrice: new Map<string, number>(),
    fills: [],
    refused: [],
    triggered: [],
    dayMarks: [],
    dayStart: state.dayStartValueCents,
    stopRules: state.rules.filter((r) => r.ruleCategory === 'stop_loss'),
    closeHalt: null,
    moved: new Set<string>(),
    today: nyLocal(state.clock),
  };
  const { positions, open, today } = step;
  for (const p of state.positions) positions.set(p.symbol, { ...p });
  for (const o of state.openOrders) open.set(o.order_id, o);

  // --- the timeline: closed bars by their end, flattens and session marks at the closes ---
  // (plain records run in one loop: no closure per bar)
  if (!market.sessionCloses.length && inEndOrder(market.bars)) {
    // already in the timeline's order (one bar per symbol of a minute replay, ends from the source): no records, no sort
    for (const symbol in market.bars) {
      const { bars, starts, ends } = market.bars[symbol]!;
      for (let k = 0; k < bars.length; k++) onBar(step, symbol, bars[k]!, new Date(starts![k]!), new Date(ends![k]!));
    }
  } else timeline(step, market);

  // --- the bar that starts at the clock: levels it gaps through fire now, at the open ---
  let clockText: string | null = null;
  for (const symbol in market.openAtClock) {
    const openPrice = market.openAtClock[symbol];
    if (openPrice === null || openPrice === undefined) continue;
    const bar: Bar = { t: (clockText ??= state.clock.toISOString()), o: openPrice, h: null, l: null, c: null, v: null };
    if (open.size) for (const o of [...open.values()]) if (o.symbol === symbol) restingOn(step, o, bar, state.clock, state.clock);
    const p = positions.get(symbol);
    if (p) {
      const exit = exitOn(step, p, bar, state.clock);
      if (exit) exitAt(step, p, exit, state.clock);
      const rest = positions.get(symbol);
      const again = rest && exit?.after ? exitOn(step, rest, bar, state.clock) : null;
      if (rest && again) exitAt(step, rest, again, state.clock);
    }
  }

  // --- flatten_by reached inside the session at the clock ---
  if (positions.size) {
    const session = sessionFor(today.date);
    if (session && state.clock.getTime() < session.close.getTime()) {
      for (const p of [...positions.values()]) {
        const hit = flattenDeadline(state.rules, p.symbol, today.date);
        if (!hit || state.clock.getTime() < hit.at.getTime()) continue;
        const price = market.priceAtClock[p.symbol] ?? markOf(step, p.symbol, p.price);
        exitAt(step, p, flattenExit(p, hit, price, `it is ${today.hhmm} ET`), state.clock);
      }
    }
  }

  // --- breakers on the account at the clock ---
  const { fills, streak } = step;
  const cash = step.cash;
  const held = [...positions.values()].map((p) => ({ ...p, price: market.priceAtClock[p.symbol] ?? markOf(step, p.symbol, p.price) }));
  const valueCents = portfolioValueCents({ cashCents: cash, positions: held });
  let haltReason: string | null = null;
  if (model.state !== 'halted') {
    haltReason = step.closeHalt;
    const debitBy = fills.length ? fills[fills.length - 1] : null;
    haltReason ??=
      (fills.length && cash < 0
        ? marginCallReason(cash, debitBy ? `the clock's ${debitBy.side} of ${debitBy.quantity} ${debitBy.symbol} at ${formatPrice(debitBy.fill.price)}` : undefined)
        : null) ??
      breakerReason(
        {
          cashCents: cash,
          positions: held,
          dayStartValueCents: step.dayStart,
          peakValueCents: state.peakValueCents,
          tradesToday: step.tradesByDay[today.date] ?? 0,
          tradesInRun: step.tradesInRun,
          ...streak,
        },
        state.rules,
        model.max_drawdown_halt_pct,
      );
  }
  return {
    fills,
    refused: step.refused,
    triggered: step.triggered,
    waterMarks: [...positions.values()].map((p) => ({ symbol: p.symbol, high: p.highWater, low: p.lowWater })),
    plans: step.moved.size ? [...positions.values()].filter((p) => step.moved.has(p.symbol)).map((p) => ({ symbol: p.symbol, plan: planOfPosition(p) })) : [],
    dayMarks: step.dayMarks,
    haltReason,
    cashCents: cash,
    realizedPnlCents: step.realized,
    positions: [...positions.values()],
    valueCents,
    ...streak,
  };
}

/** Closed bars by their end, then flattens and session marks at each close (ties: bars, flattens, marks; a stable sort). */
function timeline(step: Step, market: StepMarket): void {
  const items: TimelineItem[] = [];
  for (const symbol in market.bars) {
    const { timespan, bars, starts, ends } = market.bars[symbol]!;
    for (let k = 0; k < bars.length; k++) {
      const bar = bars[k]!;
      // the source's times when it keeps them (a replay's preloaded tape): no date text parsed per bar
      const start = new Date(starts ? starts[k]! : bar.t);
      const end = ends ? new Date(ends[k]!) : barEnd(timespan, start);
      items.push({ at: end.getTime(), order: 0, symbol, bar, start, end });
    }
  }
  for (const close of market.sessionCloses) {
    const at = close.at.getTime();
    items.push({ at, order: 1, close }, { at, order: 2, close });
  }
  if (items.length > 1) items.sort((a, b) => a.at - b.at || a.order - b.order);
  for (const item of items) {
    if (item.order === 0) onBar(step, item.symbol, item.bar, item.start, item.end);
    else if (item.order === 1) flattenAtClose(step, item.close);
    else markClose(step, item.close);
  }
}

/** Whether every symbol's bars carry their times and, read symbol after symbol, their ends never go back (the timeline's order as given). */
function inEndOrder(bars: StepMarket['bars']): boolean {
  let last = -Infinity;
  for (const symbol in bars) {
    const { ends, starts } = bars[symbol]!;
    if (!ends || !starts) return false;
    for (let k = 0; k < ends.length; k++) {
      if (ends[k]! < last) return false;
      last = ends[k]!;
    }
  }
  return true;
}

type TimelineItem =
  | { at: number; order: 0; symbol: string; bar: Bar; start: Date; end: Date }
  | { at: number; order: 1 | 2; close: SessionClose };

function markOf(step: Step, symbol: string, fallback: number): number {
  return step.lastPrice.get(symbol) ?? fallback;
}

/** The account at `at` as the order checks see it: held positions at their marks, `symbol` (if any) at `price`. */
function bookState(step: Step, at: Date, symbol: string | null, price: number): OrderState {
  const list = [...step.positions.values()].map((p) => ({ ...p, price: p.symbol === symbol ? price : markOf(step, p.symbol, p.price) }));
  return {
    cashCents: step.cash,
    realizedPnlCents: step.realized,
    positions: list,
    dayStartValueCents: step.dayStart,
    peakValueCents: step.state.peakValueCents,
    tradesToday: step.tradesByDay[nyLocal(at).date] ?? 0,
    tradesInRun: step.tradesInRun,
    ...step.streak,
    model: step.model,
    rules: step.state.rules,
    clock: at,
    marketOpen: true,
    symbolKnown: true,
    marketPrice: null,
    ordersLastMinute: 0,
  };
}

function record(
  step: Step,
  o: OrderBracket & { order_id: number | null; side: Side; symbol: string; quantity: number; stop_loss: number | null; take_profit: number | null },
  terms: FillTerms,
  at: Date,
  trigger: string,
  reason: string,
  mark: number,
): void {
  const st = bookState(step, at, null, 0);
  const { applied, state: after } = filledState(st, o, terms, mark);
  step.streak = { lossStreak: after.lossStreak ?? 0, lastLossAt: after.lastLossAt ?? null };
  step.cash = applied.cashCents;
  step.realized = applied.realizedPnlCents;
  const prev = step.positions.get(o.symbol);
  if (applied.position) {
    const plan = mergePlan(prev ? planOfPosition(prev) : null, planOf(o));
    step.positions.set(o.symbol, {
      symbol: o.symbol,
      ...applied.position,
      price: mark,
      highWater: prev?.highWater ?? null,
      lowWater: prev?.lowWater ?? null,
      ...plan,
    });
  } else step.positions.delete(o.symbol);
  const day = nyLocal(at).date;
  step.tradesByDay[day] = (step.tradesByDay[day] ?? 0) + 1;
  step.tradesInRun++;
  step.fills.push({ ...o, trigger, reason, at, fill: terms, applied });
}

/** A market exit of the whole position at `trigger`: slippage against the trader, commission. */
function exitAt(step: Step, p: ClockPosition, exit: Exit, at: Date): void {
  const model = step.model;
  const side: Side = p.quantity > 0 ? 'sell' : 'cover';
  const quantity = exit.quantity ?? Math.abs(p.quantity);
  const px = fillPrice(side, exit.price, model.slippage_bps);
  const terms: FillTerms = { price: px.price, slippagePerShare: px.slippagePerShare, commissionCents: commissionCents(quantity, model.commission_per_share) };
  const slip = px.slippagePerShare > 0 ? `; filled at ${formatPrice(px.price)} after ${model.slippage_bps} bps slippage` : '';
  record(step, { order_id: null, side, symbol: p.symbol, quantity, stop_loss: null, take_profit: null }, terms, at, exit.trigger, `${exit.reason}${slip}`, exit.price);
  const rest = step.positions.get(p.symbol);
  if (rest && exit.after) {
    Object.assign(rest, exit.after);
    step.moved.add(p.symbol);
  }
}

/** A resting order meets a bar (fills.ts restingOnBar): a limit fills, a stop entry triggers and fills, or a stop-limit rests as a limit. */
function restingOn(step: Step, o: RestingOrder, bar: Bar, barStart: Date, end: Date): void {
  const model = step.model;
  const hit = restingOnBar(o, bar, model.slippage_bps);
  if (hit === null) return;
  const type = o.order_type ?? 'limit';
  const what =
    type === 'limit' || o.triggered
      ? `Limit ${formatPrice(o.limit_price!)}`
      : `${type === 'stop' ? 'Stop' : 'Stop-limit'} ${formatPrice(o.stop_price!)}${type === 'stop_limit' ? ` (limit ${formatPrice(o.limit_price!)})` : ''}`;
  if (hit.stop) step.triggered.push({ order_id: o.order_id, at: hit.stop.gapped ? barStart : end });
  if (!hit.fill) {
    step.open.set(o.order_id, { ...o, triggered: true });
    return;
  }
  step.open.delete(o.order_id);
  const { price, slippagePerShare, market } = hit;
  const at = hit.gapped ? barStart : end;
  const st = bookState(step, at, o.symbol, market);
  const commission = commissionCents(o.quantity, model.commission_per_share);
  // The gates and rules judge the fill again on the account as it is now.
  const check = checkOrder({
    order: { side: o.side, symbol: o.symbol, quantity: o.quantity, price, stopLoss: o.stop_loss ?? undefined },
    orderType: type,
    model,
    portfolio: st,
    rules: step.state.rules,
    commissionCents: commission,
    symbolKnown: true,
    priced: true,
    marketOpen: true,
    ordersLastMinute: 0,
    maxOrdersPerMinute: model.max_orders_per_minute,
    clock: barStart,
    marketPrice: market,
    shortMarginPct: model.short_margin_pct,
  });
  const reached = `${what} ${hit.stop ? (hit.stop.gapped ? 'gapped through at the open of' : 'traded in') : 'reached by'} the bar at ${bar.t}`;
  if (check.rejections.length) {
    step.refused.push({
      order_id: o.order_id,
      side: o.side,
      symbol: o.symbol,
      quantity: o.quantity,
      at,
      rejections: check.rejections,
      reason: `${reached} but refused then: ${check.rejections.map((r) => r.message).join(' ')}`,
    });
    return;
  }
  const slip = slippagePerShare > 0 ? ` after ${model.slippage_bps} bps slippage` : '';
  record(step, o, { price, slippagePerShare, commissionCents: commission }, at, hit.stop ? type : 'limit', `${reached}; filled at ${formatPrice(price)}${slip}.`, market);
}

function exitOn(step: Step, p: ClockPosition, bar: Bar, barStart: Date): Exit | null {
  const long = p.quantity > 0;
  const attachedStop = p.stop !== null ? levelHit(bar, p.stop, long ? 'below' : 'above') : null;
  if (attachedStop) {
    return {
      ...attachedStop,
      trigger: 'stop_loss',
      reason: `Stop loss at ${formatPrice(p.stop!)} on ${p.symbol} ${attachedStop.gapped ? 'gapped through at the open' : 'touched'} in the bar at ${bar.t}; exit at ${formatPrice(attachedStop.price)}.`,
    };
  }
  const plan = planOfPosition(p);
  if (plan.trailingPct !== null) {
    const mark = trailingMark(p, bar.o);
    const lvl = trailingLevel(long, plan.trailingPct, mark);
    const hit = levelHit(bar, lvl, long ? 'below' : 'above');
    if (hit) {
      return {
        ...hit,
        trigger: 'trailing_stop',
        reason: `Trailing stop ${formatPct(plan.trailingPct)} ${long ? 'below the high' : 'above the low'} of ${formatPrice(mark)} is ${formatPrice(lvl)} on ${p.symbol}; ${hit.gapped ? 'the bar gapped through it at the open' : 'touched'} in the bar at ${bar.t}; exit at ${formatPrice(hit.price)}.`,
      };
    }
  }
  const high = p.highWater ?? p.avgCost;
  const low = p.lowWater ?? p.avgCost;
  const [signal] = exitSignals({
    position: { symbol: p.symbol, quantity: p.quantity, avgCost: p.avgCost, price: bar.c ?? bar.o, highWater: high, lowWater: low },
    bar,
    clock: barStart,
    rules: step.stopRules,
  });
  const ruleStop = signal && signal.code !== 'TAKE_PROFIT' ? signal : null;
  if (ruleStop) return { price: ruleStop.price, gapped: gappedAt(bar, ruleStop.price), trigger: ruleStop.ruleName, reason: ruleStop.reason };
  const live = liveTarget(plan);
  const attachedTarget = live ? levelHit(bar, live.level, long ? 'above' : 'below') : null;
  if (live && attachedTarget) {
    const first = live.which === 'take_profit';
    const quantity = first ? firstTargetQuantity(p.quantity, plan) : Math.abs(p.quantity);
    const part = quantity < Math.abs(p.quantity);
    return {
      ...attachedTarget,
      trigger: live.which,
      quantity,
      after: first && part ? afterFirstTarget(plan, p.avgCost) : undefined,
      reason:
        `${first ? (plan.target2 !== null || part ? 'First target' : 'Take profit') : 'Second target'} at ${formatPrice(live.level)} on ${p.symbol} ` +
        `${attachedTarget.gapped ? 'gapped through at the open' : 'reached'} in the bar at ${bar.t}; ` +
        `${part ? `closing ${quantity} of ${Math.abs(p.quantity)} shares` : 'exit'} at ${formatPrice(attachedTarget.price)}` +
        `${part && plan.breakeven ? `; the stop moves to the ${formatPrice(p.avgCost)} average entry` : ''}.`,
    };
  }
  if (signal) return { price: signal.price, gapped: gappedAt(bar, signal.price), trigger: signal.ruleName, reason: signal.reason };
  return null;
}

/** Whether a rule's exit price is the bar's open (it gapped through). */
function gappedAt(bar: Bar, price: number): boolean {
  return priceTicks(price) === priceTicks(bar.o);
}

function onBar(step: Step, symbol: string, bar: Bar, start: Date, end: Date): void {
  if (step.open.size) for (const o of [...step.open.values()]) if (o.symbol === symbol) restingOn(step, o, bar, start, end);
  const p = step.positions.get(symbol);
  if (p) {
    const exit = exitOn(step, p, bar, start);
    if (exit) exitAt(step, p, exit, exit.gapped ? start : end);
    const rest = step.positions.get(symbol);
    // after a first target: the rest meets its levels at this open only if it gapped (module notes)
    const again = rest && exit?.after && exit.gapped ? exitOn(step, rest, openOnly(bar), start) : null;
    if (rest && again) exitAt(step, rest, again, start);
    else if (rest && (!exit || exit.after)) {
      rest.highWater = Math.max(rest.highWater ?? -Infinity, bar.h ?? bar.o);
      rest.lowWater = Math.min(rest.lowWater ?? Infinity, bar.l ?? bar.o);
    }
  }
  if (bar.c !== null) step.lastPrice.set(symbol, bar.c);
}

/** flatten_by deadlines of that session the clock jumped past: market-on-close. */
function flattenAtClose(step: Step, close: SessionClose): void {
  const { state } = step;
  const session = sessionFor(close.date);
  if (!session || state.clock.getTime() < session.close.getTime()) return;
  for (const p of [...step.positions.values()]) {
    const hit = flattenDeadline(state.rules, p.symbol, close.date);
    if (!hit || hit.at.getTime() <= state.from.getTime()) continue;
    const price = close.prices[p.symbol] ?? markOf(step, p.symbol, p.price);
    exitAt(step, p, flattenExit(p, hit, price, 'the session closed'), close.at);
  }
}

function markClose(step: Step, close: SessionClose): void {
  const { state, model } = step;
  const at = close.at.getTime();
  const notYetPaid = (state.actionCash ?? []).reduce((s, a) => (a.at.getTime() > at ? s + a.cents : s), 0);
  const value = step.cash - notYetPaid + [...step.positions.values()].reduce((s, p) => s + notional(p.quantity, close.prices[p.symbol] ?? markOf(step, p.symbol, p.price)), 0);
  step.dayMarks.push({ date: close.date, valueCents: value });
  // The day's loss limits are judged at its close too: a day replay sees no other point of it.
  const fellInStep = state.fromValueCents === undefined || value < state.fromValueCents;
  if (!step.closeHalt && model.state !== 'halted' && fellInStep) {
    const marked = [...step.positions.values()].map((p) => ({ ...p, price: close.prices[p.symbol] ?? markOf(step, p.symbol, p.price) }));
    const breach = lossLimitBreaches(
      { cashCents: step.cash - notYetPaid, positions: marked, dayStartValueCents: step.dayStart, peakValueCents: Math.max(state.peakValueCents, value), tradesToday: 0, tradesInRun: step.tradesInRun },
      state.rules,
    )[0];
    if (breach) step.closeHalt = breakerText(`${breach.message} (at the ${close.date} close)`);
  }
  if (close.date < step.today.date) step.dayStart = value;
}

/** The bar's open alone: what a gap shows before anything else trades. */
function openOnly(bar: Bar): Bar {
  return { t: bar.t, o: bar.o, h: null, l: null, c: null, v: null };
}

function notional(quantity: number, price: number): number {
  return portfolioValueCents({ cashCents: 0, positions: [{ symbol: '', quantity, avgCost: price, price }] });
}

/** Did the bar reach `level` (a long's stop: at or below; a target: at or above)? At the open when it gapped. */
function levelHit(bar: Bar, level: number, side: 'below' | 'above'): { price: number; gapped: boolean } | null {
  const lvl = priceTicks(level);
  const { open, low, high } = barRange(bar);
  if (side === 'below') {
    if (low > lvl) return null;
    return open <= lvl ? { price: bar.o, gapped: true } : { price: level, gapped: false };
  }
  if (high < lvl) return null;
  return open >= lvl ? { price: bar.o, gapped: true } : { price: level, gapped: false };
}

/**
 * The earliest flatten_by deadline on `date` among active timing rules covering `symbol`:
 * the earlier of its time and the session's last minute (a half day's 12:59). Null when
 * no rule applies or the date has no session.
 */
export function flattenDeadline(rules: RuleRecord[], symbol: string, date: string): { at: Date; hhmm: string; rule: RuleRecord } | null {
  const session = sessionFor(date);
  if (!session) return null;
  const lastMinute = session.close.getTime() - MINUTE_MS;
  let best: { at: Date; hhmm: string; rule: RuleRecord } | null = null;
  for (const rule of rules) {
    if (!rule.isActive || rule.ruleCategory !== 'timing' || !ruleAppliesTo(rule, symbol)) continue;
    const parsed = ruleParams('timing', rule.enforcementParams);
    const hhmm = parsed.ok ? parsed.params.flatten_by : undefined;
    if (hhmm === undefined) continue;
    const at = Math.min(nyToUtc(date, hhmm).getTime(), lastMinute);
    if (!best || at < best.at.getTime() || (at === best.at.getTime() && rule.priority > best.rule.priority)) {
      best = { at: new Date(at), hhmm, rule };
    }
  }
  return best;
}

function flattenExit(p: ClockPosition, hit: { at: Date; hhmm: string; rule: RuleRecord }, price: number, when: string): Exit {
  const long = p.quantity > 0;
  const due = nyLocal(hit.at).hhmm;
  const by = due === hit.hhmm ? `${hit.hhmm} ET` : `${hit.hhmm} ET (${due} ET, the half day's last minute)`;
  return {
    price,
    gapped: false,
    trigger: hit.rule.ruleName,
    reason: `Rule '${hit.rule.ruleName}': flatten by ${by} and ${when}; ${long ? 'selling' : 'covering'} ${Math.abs(p.quantity)} ${p.symbol} at ${formatPrice(price)}.`,
  };
}
