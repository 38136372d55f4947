// What happens to a run's account when its clock moves to a new instant, read as
// load → decideClockStep (domain/clock-step.ts, pure) → persist: resting limit orders
// fill, stop-loss, take-profit, trailing and flatten_by exits fire, session closes are
// marked, pending approvals expire, circuit breakers halt. Resting stop entries trigger
// (orders.triggered_at) and fill. advance_run and the live ticker
// call this once per step, inside their transaction, before the equity point. The database
// sees two round trips: the step's state read at once (store/clock-book.ts) and every write
// pipelined; the market's bars and prices come from its cache (the database only when cold).
import { settleAll, type Q, type Tx } from '../db/database.js';
import { sessionFor, addDays } from '../domain/calendar.js';
import { decideClockStep, type ClockStepDecision, type StepBars, type StepMarket } from '../domain/clock-step.js';
import { effectiveAt, type ActionEvent } from '../domain/corporate-actions.js';
import { centsToDecimal, notionalCents } from '../domain/money.js';
import { nyLocal } from '../domain/ny-time.js';
import type { Rejection } from '../domain/gates.js';
import type { Bar, Timespan } from '../domain/types.js';
import type { Deps } from '../deps.js';
import type { Market } from '../market/market.js';
import { applySplits, type Split } from '../market/polygon.js';
import type { MarkedAccount } from '../store/accounts.js';
import { readClockBook, type ClockBook, type ClockBookKnown } from '../store/clock-book.js';
import { insertOrderWithFill } from '../store/order-book.js';
import { setAccount, setOrderStatus, setOrderTriggered, setPositionPlan, setWaterMarks, writePosition } from '../store/orders.js';
import type { RunRow } from '../store/runs.js';
import { decideModel, haltModel, persistFill } from './orders.js';
import { applyCorporateActionsStep } from './corporate-actions.js';
import { stepTimespan } from '../market/finest-timespan.js';

export interface ClockEvent {
  order_id: number;
  symbol: string;
  side: string;
  quantity: number;
  price: number;
  /** What fired: 'limit', 'stop' or 'stop_limit' (a resting entry), 'stop_loss', 'take_profit', or the exit rule's name. */
  trigger: string;
  reason: string;
  /** When it filled (UTC ISO): a bar's end, a gapped bar's open, the clock, or a session close. */
  time: string;
}

/** A resting order the checks refused when the clock reached its limit. */
export interface ClockRefusalEvent {
  order_id: number;
  symbol: string;
  side: string;
  quantity: number;
  time: string;
  rejections: Rejection[];
  reason: string;
}

export interface ClockStepResult {
  events: ClockEvent[];
  refused: ClockRefusalEvent[];
  halted_reason: string | null;
}

export { stepTimespan };

/** Bars of `symbol` that closed in (from, clock], ascending (market.barsClosedBetween, or a tape of them). */
export type ClosedBetween = (symbol: string, timespan: Timespan, from: Date, clock: Date) => Promise<Bar[]>;

/** A price at an instant and whether it is the open of a bar starting then (quoteAt's basis open_at_clock). */
export interface StepQuote {
  price: number;
  openAtClock: boolean;
}

/** What stepMarketOf reads, answered synchronously (the live step loads it first; the counterfactual preloads a run's). */
export interface StepMarketSource {
  timespan(symbol: string): Timespan | null;
  /** Bars of `symbol` on `timespan` that closed in (from, clock], ascending (with their start and end times when the source keeps them: StepBars). */
  closedBetween(symbol: string, timespan: Timespan, from: Date, clock: Date): Omit<StepBars, 'timespan'>;
  quote(symbol: string, at: Date): StepQuote | null;
  splits(symbol: string): Split[];
}

/** The New York session closes in (from, clock]. */
export function sessionClosesIn(from: Date, clock: Date): { date: string; at: Date }[] {
  const out: { date: string; at: Date }[] = [];
  const last = nyLocal(clock).date;
  for (let d = nyLocal(from).date; d <= last; d = addDays(d, 1)) {
    const session = sessionFor(d);
    if (session && session.close > from && session.close <= clock) out.push({ date: d, at: session.close });
    if (d === last) break;
  }
  return out;
}

/**
 * What one clock step reads of the market for `symbols`: per symbol the bars that closed in
 * (from, clock] on its timespan, the price at the clock and the open of the bar starting at
 * the clock; the prices at each session close the step passes, on the clock's share basis (a
 * split the step passes after a close has changed the shares held). Pure over `src`.
 */
export function stepMarketOf(src: StepMarketSource, symbols: readonly string[], from: Date, clock: Date): StepMarket {
  const out: StepMarket = { bars: {}, openAtClock: {}, priceAtClock: {}, sessionCloses: [] };
  for (const symbol of symbols) {
    const timespan = src.timespan(symbol);
    if (timespan) {
      const closed = src.closedBetween(symbol, timespan, from, clock);
      out.bars[symbol] = { timespan, bars: closed.bars, starts: closed.starts, ends: closed.ends };
    }
    const quote = src.quote(symbol, clock);
    out.priceAtClock[symbol] = quote?.price ?? null;
    out.openAtClock[symbol] = quote && quote.openAtClock ? quote.price : null;
  }
  for (const { date, at } of sessionClosesIn(from, clock)) {
    const prices: Record<string, number | null> = {};
    for (const symbol of symbols) {
      const price = src.quote(symbol, at)?.price ?? null;
      prices[symbol] = price === null ? null : applySplits([{ t: at.toISOString(), o: price, h: null, l: null, c: null, v: null }], src.splits(symbol), clock)[0]!.o;
    }
    out.sessionCloses.push({ date, at, prices });
  }
  return out;
}

/** market.priceAt as a StepQuote (open_at_clock: the open of the bar starting at `at`). */
export async function stepQuote(market: Market, symbol: string, at: Date, q?: Q): Promise<StepQuote | null> {
  // priceAt's basis is quoteAt's (an open at the clock is of the bar starting at the clock), without its last-bar search.
  const quote = await market.priceAt(symbol, at, q);
  return quote ? { price: quote.price, openAtClock: quote.basis === 'open_at_clock' } : null;
}

/** A symbol's splits as applySplits reads them. */
export async function splitsOf(market: Market, symbol: string, q?: Q): Promise<Split[]> {
  return (await market.corporateActions(symbol, q)).flatMap((a) => (a.kind === 'split' ? [{ executionDate: a.date, splitFrom: a.splitFrom, splitTo: a.splitTo }] : []));
}

/**
 * What one clock step reads of the market for `symbols` (stepMarketOf), loaded from the market
 * (its cache; the database through `q` when cold): load, then the pure assembly.
 */
export async function loadStepMarket(
  q: Q,
  market: Market,
  timespanOf: (symbol: string) => Promise<Timespan | null>,
  closedBetween: ClosedBetween,
  symbols: string[],
  from: Date,
  clock: Date,
): Promise<StepMarket> {
  const timespans = new Map<string, Timespan | null>();
  const bars = new Map<string, Bar[]>();
  const quotes = new Map<string, StepQuote | null>();
  const splits = new Map<string, Split[]>();
  const closes = sessionClosesIn(from, clock);
  for (const symbol of symbols) {
    const timespan = await timespanOf(symbol);
    timespans.set(symbol, timespan);
    if (timespan) bars.set(symbol, await closedBetween(symbol, timespan, from, clock));
    quotes.set(`${symbol}|${clock.getTime()}`, await stepQuote(market, symbol, clock, q));
    for (const c of closes) quotes.set(`${symbol}|${c.at.getTime()}`, await stepQuote(market, symbol, c.at, q));
    if (closes.length) splits.set(symbol, await splitsOf(market, symbol, q));
  }
  return stepMarketOf(
    {
      timespan: (s) => timespans.get(s) ?? null,
      closedBetween: (s) => ({ bars: bars.get(s) ?? [] }),
      quote: (s, at) => quotes.get(`${s}|${at.getTime()}`) ?? null,
      splits: (s) => splits.get(s) ?? [],
    },
    symbols,
    from,
    clock,
  );
}

/**
 * Cents: cash plus the positions at their prices at `at` (average cost when unpriced). The
 * value when a step begins: a session close judges the loss limits on what the step lost.
 */
export async function valueAtCents(q: Q, market: Market, cashCents: number, positions: Iterable<{ symbol: string; quantity: number; avgCost: number }>, at: Date): Promise<number> {
  let value = cashCents;
  for (const p of positions) value += notionalCents(p.quantity, (await market.priceAt(p.symbol, at, q))?.price ?? p.avgCost);
  return value;
}

/** The account after a step, marked at the clock as markAccount marks it (unpriced: average cost, flagged). */
function markedAfter(d: ClockStepDecision, market: StepMarket): MarkedAccount {
  const positions = d.positions.map((p) => {
    const price = market.priceAtClock[p.symbol] ?? null;
    return { symbol: p.symbol, quantity: p.quantity, costCents: p.costCents, avgCost: p.avgCost, highWater: p.highWater, lowWater: p.lowWater, price: price ?? p.avgCost, priced: price !== null };
  });
  const positionsCents = positions.reduce((s, p) => s + notionalCents(p.quantity, p.price), 0);
  return { cashCents: d.cashCents, positionsCents, totalCents: d.cashCents + positionsCents, positions };
}

export interface ClockStepOptions {
  /** Rows the caller read under the same locks, current as of this step (not read again). */
  known?: ClockBookKnown;
  /**
   * Writes to pipeline with the step's own, given the account after the step marked at the
   * clock (advance_run: the run's clock and its equity point). Issued without awaiting.
   */
  alsoWrite?: (account: MarkedAccount) => Promise<unknown>[];
}

export async function onClockStep(tx: Tx, deps: Deps, run: RunRow, clock: Date, opts: ClockStepOptions = {}): Promise<ClockStepResult & { account: MarkedAccount }> {
  const from = new Date(run.clock);
  // load: one round trip; splits and dividends first (the step's bars and levels are on
  // the new basis): when one applies, its writes go first and the state is read again.
  let book = await readClockBook(tx, run, from, clock, opts.known);
  // the value when the step began: the account before this step's actions, at the prices then
  const fromValueCents = await valueAtCents(tx, deps.market, book.cashCents, book.positions, from);
  const actions = await applyCorporateActionsStep(tx, deps, run, clock, actionsState(book));
  if (actions.length) book = await readClockBook(tx, run, from, clock);
  const resting = book.orders.filter((o) => o.status === 'open' && o.order_type !== 'market');
  const symbols = [...new Set([...book.positions.map((p) => p.symbol), ...resting.map((o) => o.symbol)])];
  const runTimespan = run.timespan ?? 'minute';
  const market = await loadStepMarket(
    tx,
    deps.market,
    (symbol) => stepTimespan(deps.market, symbol, runTimespan, tx),
    (symbol, timespan, a, b) => deps.market.barsClosedBetween(symbol, timespan, a, b, tx),
    symbols,
    from,
    clock,
  );
  // decide
  const d = decideClockStep(
    {
      model: decideModel(book.model),
      cashCents: book.cashCents,
      realizedPnlCents: book.realizedPnlCents,
      positions: book.positions.map((p) => ({ ...p, price: market.priceAtClock[p.symbol] ?? p.avgCost })),
      openOrders: resting,
      rules: book.rules,
      peakValueCents: book.peakValueCents,
      dayStartValueCents: book.dayStartValueCents,
      fromValueCents,
      actionCash: dividendCash(actions),
      tradesInRun: book.tradesInRun,
      lossStreak: book.lossStreak,
      lastLossAt: book.lastLossAt,
      tradesByDay: book.tradesByDay,
      from,
      clock,
      session: run.session,
    },
    market,
  );
  const account = markedAfter(d, market);
  // persist: one round trip, in the order the decision made them
  const writes: Promise<unknown>[] = [];
  const orderIds: Promise<number>[] = [];
  for (const f of d.fills) {
    if (f.order_id === null) {
      // an exit the clock placed: the market order and its fill in one statement
      const id = insertOrderWithFill(
        tx,
        { run_id: run.run_id, model_id: run.model_id, side: f.side, symbol: f.symbol, quantity: f.quantity, order_type: 'market', status: 'filled', rejections: [], reasoning: f.reason, source: f.trigger, clock: f.at },
        { ...f.fill, cashChangeCents: f.applied.cashChangeCents, realizedCents: f.applied.realizedCents },
        null,
      );
      orderIds.push(id);
      // an exit only closes: no exit levels to attach
      writes.push(id, setAccount(tx, run.run_id, f.applied.cashCents, f.applied.realizedPnlCents), writePosition(tx, run.run_id, f.symbol, f.applied.position, f.at));
    } else {
      orderIds.push(Promise.resolve(f.order_id));
      writes.push(persistFill(tx, run.run_id, { ...f, order_id: f.order_id }, f.fill, f.applied, f.at));
    }
  }
  for (const r of d.refused) writes.push(setOrderStatus(tx, r.order_id, 'rejected', { rejections: r.rejections }));
  for (const x of d.triggered) writes.push(setOrderTriggered(tx, x.order_id, x.at));
  for (const w of d.waterMarks) writes.push(setWaterMarks(tx, run.run_id, w.symbol, w.high, w.low));
  for (const p of d.plans) writes.push(setPositionPlan(tx, run.run_id, p.symbol, p.plan));
  for (const m of d.dayMarks) {
    writes.push(tx`
      insert into day_marks (run_id, day, close_value) values (${run.run_id}, ${m.date}, ${centsToDecimal(m.valueCents)})
      on conflict (run_id, day) do update set close_value = excluded.close_value`);
  }
  if (d.haltReason) writes.push(haltModel(tx, deps, book.model.model_id, d.haltReason));
  if (opts.alsoWrite) writes.push(...opts.alsoWrite(account));
  await settleAll(writes);
  const ids = await Promise.all(orderIds);
  return {
    events: d.fills.map((f, i) => ({ order_id: ids[i]!, symbol: f.symbol, side: f.side, quantity: f.quantity, price: f.fill.price, trigger: f.trigger, reason: f.reason, time: f.at.toISOString() })),
    refused: d.refused.map((r) => ({ order_id: r.order_id, symbol: r.symbol, side: r.side, quantity: r.quantity, time: r.at.toISOString(), rejections: r.rejections, reason: r.reason })),
    halted_reason: d.haltReason,
    account,
  };
}

/** The cash of the dividends a step applied, at their ex-date's open (decideClockStep's actionCash). */
export function dividendCash(events: readonly ActionEvent[]): { at: Date; cents: number }[] {
  return events.filter((e) => e.kind === 'dividend').map((e) => ({ at: effectiveAt(e), cents: e.cashChangeCents }));
}

/** The clock book as applyCorporateActions reads the account. */
function actionsState(book: ClockBook) {
  return {
    account: { cashCents: book.cashCents, realizedPnlCents: book.realizedPnlCents },
    positions: book.positions.map((p) => ({ symbol: p.symbol, quantity: p.quantity, costCents: p.costCents, highWater: p.highWater, lowWater: p.lowWater, stopPrice: p.stop, targetPrice: p.target, target2Price: p.target2 })),
    orders: book.orders.map((o) => ({ orderId: o.order_id, symbol: o.symbol, quantity: o.quantity, limitPrice: o.limit_price, stopPrice: o.stop_price, stopLoss: o.stop_loss, takeProfit: o.take_profit })),
  };
}
