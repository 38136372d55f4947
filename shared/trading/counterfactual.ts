// replay_with_rules: a run's recorded agent orders re-submitted in memory under other rules,
// read as load → decide → keep in memory. The decisions are the live path's own pure
// functions (domain/decide.ts decideOrder, domain/clock-step.ts decideClockStep); the prices
// and bars are the stored ones, read through a private market that never calls a provider;
// nothing is written.
import { barEnd, sessionFor } from '../domain/calendar.js';
import { applyCorporateActions, lotActionOf, type CorporateAction } from '../domain/corporate-actions.js';
import type { LotAction } from '../domain/round-trips.js';
import { decideClockStep, modifiedRequest } from '../domain/clock-step.js';
import {
  actionsInput,
  agentScript,
  applyActionsResult,
  applyExitChange,
  applyModification,
  applyOrderDecision,
  applyStepDecision,
  approverRejection,
  dayStartValueCents,
  intentOf,
  newBook,
  notePlaced,
  orderState,
  ordersInLastMinute,
  markPoint,
  recordPoint,
  type ReplayBook,
  type ReplayFill,
  compareOutcome,
  type ChangedOrder,
  type RecordedOrder,
  upperBound,
} from '../domain/counterfactual.js';
import { decideOrder, type DecideModel } from '../domain/decide.js';
import { isLossStreakHalt } from '../domain/rules/engine.js';
import { isMarketOpen } from '../domain/gates.js';
import { notionalCents, toCents } from '../domain/money.js';
import { nyLocal } from '../domain/ny-time.js';
import { fillNotionalCents } from '../domain/round-trips.js';
import type { Bar, RuleRecord, Timespan } from '../domain/types.js';
import type { EquityPoint } from '../domain/metrics.js';
import { memoryCache } from '../cache.js';
import type { Deps } from '../deps.js';
import type { Q } from '../db/database.js';
import { importedSpans } from '../market/bars-store.js';
import { loadStepMarket, stepTimespan, type ClosedBetween } from './clock.js';
import { actionKey, loadDueActions } from './corporate-actions.js';
import { createMarket, type Market, type Quote } from '../market/market.js';
import { loadEquityCurve, loadRunFills, runMetrics, type RunFill, type RunMetrics } from '../store/analyst.js';
import { loadClockMarks, loadExitChanges, loadRecordedOrders, loadStateChanges, snapshotModel, snapshotRules } from '../store/counterfactual.js';
import type { RunRow } from '../store/runs.js';
import { dividendCash, valueAtCents } from './clock.js';

/** Setting overrides a counterfactual may make (CONTRACT §5). */
export interface ReplaySettings {
  allow_short?: boolean;
  commission_per_share?: number;
  slippage_bps?: number;
  max_drawdown_halt_pct?: number;
}

export interface ReplayOutput {
  book: ReplayBook;
  orders: RecordedOrder[];
  /** Which recorded orders were cut to the holding. */
  cut: Set<number>;
  /** The counterfactual curve, one point per clock step (dollars). */
  points: EquityPoint[];
  /** The recorded curve (dollars). */
  originalPoints: EquityPoint[];
  /** The counterfactual fills shaped as the analyst's loader returns recorded ones. */
  fills: RunFill[];
  /** The splits and dividends applied in memory, as the analyst's loader returns recorded ones. */
  actions: LotAction[];
  /** The run was still running: replayed up to its clock. */
  partial: boolean;
  asOf: string;
  model: DecideModel;
  rules: RuleRecord[];
}

/**
 * A market over the stored bars only: no provider is configured, and blocks are kept in a
 * private in-process cache so each is read from the database once per replay.
 */
export function storedMarket(deps: Pick<Deps, 'sql' | 'config'>): Market {
  return createMarket({
    sql: deps.sql,
    cache: memoryCache(),
    config: { POLYGON_API_KEY: undefined, POLYGON_BASE_URL: deps.config.POLYGON_BASE_URL, POLYGON_REQUESTS_PER_MINUTE: deps.config.POLYGON_REQUESTS_PER_MINUTE },
    polygon: null,
  });
}

const ORDER: Timespan[] = ['minute', 'hour', 'day'];

/**
 * Replays `run` under `rules` (null: its own frozen rule set) and setting overrides, in memory.
 * The run's clock steps are its recorded equity points; at each step the clock's exits and
 * resting limits are decided, the point is marked, then the agent's events at that clock are
 * re-submitted in their recorded order.
 */
export async function replayRun(deps: Deps, run: RunRow, rules: RuleRecord[] | null, settings: ReplaySettings = {}): Promise<ReplayOutput> {
  const sql = deps.sql;
  const market = storedMarket(deps);
  const model: DecideModel = { ...snapshotModel(run.strategy_snapshot), ...definedOnly(settings) };
  const ruleSet = rules ?? snapshotRules(run.strategy_snapshot);
  const [orders, marks, originalPoints, states, exitChanges] = await Promise.all([
    loadRecordedOrders(sql, run.run_id),
    loadClockMarks(sql, run.run_id),
    loadEquityCurve(sql, run),
    loadStateChanges(sql, run.run_id),
    loadExitChanges(sql, run.run_id),
  ]);
  const script = agentScript(orders, marks, states, Date.parse(originalPoints[0]?.clock ?? run.started_at), exitChanges);
  const book = newBook(model, ruleSet, toCents(run.initial_cash), run.session);
  const spans = new Map<string, Promise<Timespan | null>>();
  const timespanOf = (symbol: string) => {
    if (!spans.has(symbol)) spans.set(symbol, stepTimespan(market, symbol, run.timespan ?? 'minute', sql));
    return spans.get(symbol)!;
  };
  const cut = new Set<number>();

  const steps = originalPoints.map((p) => Date.parse(p.clock));
  if (!steps.length) steps.push(Date.parse(run.started_at));
  const tape = marketTape(sql, market, steps[0]!, steps.at(-1)!);
  const prices = new Map<string, number | null>();
  let pricedAt = -1;
  const priceAt = async (symbol: string, at: number) => {
    if (at !== pricedAt) {
      prices.clear();
      pricedAt = at;
    }
    if (!prices.has(symbol)) prices.set(symbol, (await tape.market.priceAt(symbol, new Date(at)))?.price ?? null);
    return prices.get(symbol)!;
  };
  const priceAll = async (at: number) => {
    for (const s of book.positions.keys()) await priceAt(s, at);
    return (s: string) => (pricedAt === at ? (prices.get(s) ?? null) : null);
  };

  // Many orders share a clock: the calendar is asked once per instant.
  const openAt = new Map<number, boolean>();
  const marketOpen = (at: number) => {
    let open = openAt.get(at);
    if (open === undefined) openAt.set(at, (open = isMarketOpen(new Date(at), book.session)));
    return open;
  };

  recordPoint(book, steps[0]!, book.initialCents);
  let e = 0;
  const eventsBefore = async (limit: number) => {
    while (e < script.length && script[e]!.at < limit) await runEvent(script[e++]!);
  };

  const runEvent = async (ev: (typeof script)[number]) => {
    const clock = new Date(ev.at);
    if (ev.kind === 'order') {
      const o = ev.order;
      const held = book.positions.get(o.symbol)?.quantity ?? 0;
      const { req, cut: wasCut } = intentOf(o, held);
      if (wasCut) cut.add(o.order_id);
      const quote = await priceAt(o.symbol, ev.at);
      const priceOf = await priceAll(ev.at);
      const known = quote !== null || (await market.isKnown(o.symbol, sql));
      const state = orderState(book, clock, {
        marketOpen: marketOpen(ev.at),
        symbolKnown: known,
        marketPrice: quote,
        ordersLastMinute: ordersInLastMinute(book, ev.wall),
        priceOf,
      });
      const d = decideOrder(state, req, { close: o.closes_position === true, downsize: true });
      applyOrderDecision(book, o.order_id, { ...req, quantity: d.quantity }, d, clock);
      if (!d.rejections.some((r) => r.code === 'RATE_LIMITED')) notePlaced(book, ev.wall);
      return;
    }
    if (ev.kind === 'modify') {
      // modify_order: the resting order re-judged at its new terms, as the live tool does
      const resting = book.resting.get(ev.order_id);
      if (!resting) return;
      const req = modifiedRequest(resting, { limit_price: ev.limit_price, stop_price: ev.stop_price, quantity: ev.quantity });
      const quote = await priceAt(req.symbol, ev.at);
      const state = orderState(
        book,
        clock,
        { marketOpen: marketOpen(ev.at), symbolKnown: true, marketPrice: quote, ordersLastMinute: 0, priceOf: await priceAll(ev.at) },
        { ...book.model, require_approval: false },
      );
      applyModification(book, ev.order_id, req, decideOrder(state, req), clock);
      return;
    }
    if (ev.kind === 'exits') {
      applyExitChange(book, ev.symbol, ev.changes, await priceAt(ev.symbol, ev.at));
      return;
    }
    if (ev.kind === 'state') {
      // A person halted, set reducing or resumed the model: as recorded (resuming a loss_streak halt starts a new streak, as live).
      if (ev.state === 'active' && isLossStreakHalt(book.model.state_reason)) book.lossStreak = 0;
      book.model = { ...book.model, state: ev.state, state_reason: ev.state === 'active' ? null : ev.reason };
      return;
    }
    const id = ev.order_id;
    if (ev.kind === 'cancel') {
      if (book.resting.delete(id) || book.pending.delete(id)) book.outcomes.set(id, { ...book.outcomes.get(id)!, status: 'cancelled' });
      return;
    }
    const req = book.pending.get(id);
    if (!req) return;
    book.pending.delete(id);
    if (ev.kind === 'approver_reject') {
      book.outcomes.set(id, { ...book.outcomes.get(id)!, status: 'rejected', rejections: [approverRejection(ev.by)] });
      return;
    }
    // Approval: the checks run again at the clock it happened, as approve_order runs them, at
    // the approver's edited terms (refused there: the order stays pending, as live).
    const quote = await priceAt(req.symbol, ev.at);
    const priceOf = await priceAll(ev.at);
    const state = orderState(
      book,
      clock,
      { marketOpen: marketOpen(ev.at), symbolKnown: quote !== null || (await market.isKnown(req.symbol, sql)), marketPrice: quote, ordersLastMinute: 0, priceOf },
      { ...book.model, require_approval: false },
    );
    const approved = ev.kind === 'approve' && ev.edit ? { ...req, ...ev.edit } : req;
    const d = decideOrder(state, approved);
    if (d.status === 'rejected' && approved !== req) {
      if (d.tripped) applyModification(book, id, approved, d, clock); // the breaker's halt only
      book.pending.set(id, req);
      return;
    }
    applyOrderDecision(book, id, approved, d, clock);
  };

  // Splits and dividends first at each step, as the live clock applies them (applyCorporateActionsStep).
  const applied = new Set<string>();
  const lotActions: LotAction[] = [];
  const corporateActions = async (from: Date, to: Date) => {
    const input = actionsInput(book);
    const symbols = [...new Set([...input.positions, ...input.orders].map((x) => x.symbol))];
    if (!symbols.length) return [];
    const { due, lastClose } = await loadDueActions(tape.market, symbols, from, to, () => applied, sql);
    if (!due.length) return [];
    const result = applyCorporateActions({ ...input, actions: due, from, to, lastClose });
    applyActionsResult(book, result);
    lotActions.push(...result.events.map((e) => ({ ...lotActionOf(e), fills_before: book.fills.length })));
    for (const a of due) applied.add(actionKey(a));
    return result.events;
  };

  await eventsBefore(steps[1] ?? Infinity);
  for (let i = 1; i < steps.length; i++) {
    const from = steps[i - 1]!;
    const at = steps[i]!;
    const clock = new Date(at);
    // the value when the step began, before its actions (as the live clock step)
    const fromValueCents = await valueAtCents(sql, market, book.cashCents, book.positions.values(), new Date(from));
    const events = await corporateActions(new Date(from), clock);
    const symbols = [...new Set([...book.positions.keys(), ...[...book.resting.values()].map((o) => o.symbol)])];
    const stepMarket = await loadStepMarket(sql, tape.market, timespanOf, tape.closedBetween, symbols, new Date(from), clock);
    // The step's quotes are the prices at the clock: the mark below reads them again.
    if (pricedAt !== at) {
      prices.clear();
      pricedAt = at;
    }
    for (const [s, p] of Object.entries(stepMarket.priceAtClock)) prices.set(s, p);
    const d = decideClockStep(
      {
        model: book.model,
        cashCents: book.cashCents,
        realizedPnlCents: book.realizedPnlCents,
        positions: [...book.positions.values()].map((p) => ({ ...p, price: stepMarket.priceAtClock[p.symbol] ?? p.avgCost })),
        openOrders: [...book.resting.values()].sort((a, b) => a.order_id - b.order_id),
        rules: book.rules,
        peakValueCents: book.peakValueCents,
        dayStartValueCents: dayStartValueCents(book, clock),
        fromValueCents,
        actionCash: dividendCash(events),
        tradesInRun: book.fills.length,
        lossStreak: book.lossStreak,
        lastLossAt: book.lastLossAt,
        tradesByDay: Object.fromEntries(book.tradesByDay),
        from: new Date(from),
        clock,
        session: book.session,
      },
      stepMarket,
    );
    applyStepDecision(book, d, clock);
    markPoint(book, at, await priceAll(at));
    await eventsBefore(steps[i + 1] ?? Infinity);
  }
  // end_run marks the account once more at the final clock, after the orders placed there.
  const partial = run.status === 'running';
  const last = steps.at(-1)!;
  if (!partial) markPoint(book, last, await priceAll(last));
  // Resting and pending orders end with their run; a pending one may have expired before (wall clock).
  const expire = (id: number) => book.outcomes.set(id, { ...book.outcomes.get(id)!, status: 'expired' });
  for (const [id] of book.pending) if (!partial || orders.find((x) => x.order_id === id)?.status === 'expired') expire(id);
  if (!partial) for (const [id] of book.resting) expire(id);

  return {
    book,
    orders,
    cut,
    points: book.equity.map((p) => ({ clock: new Date(p.clock).toISOString(), value: p.valueCents / 100 })),
    originalPoints,
    fills: runFills(book.fills),
    actions: lotActions,
    partial,
    asOf: new Date(partial ? Date.parse(run.clock) : last).toISOString(),
    model,
    rules: ruleSet,
  };
}

function definedOnly(s: ReplaySettings): Partial<DecideModel> {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as Partial<DecideModel>;
}

/** The counterfactual fills shaped as loadRunFills returns recorded ones (execution order). */
export function runFills(fills: readonly ReplayFill[]): RunFill[] {
  return [...fills]
    .sort((a, b) => (a.clock < b.clock ? -1 : a.clock > b.clock ? 1 : a.seq - b.seq))
    .map((f) => ({
      fill_id: f.seq + 1,
      order_id: f.order_id ?? -(f.seq + 1),
      symbol: f.symbol,
      side: f.side,
      quantity: f.quantity,
      price: f.price,
      notional_cents: fillNotionalCents(f.side, f.cashChangeCents, f.commissionCents),
      commission_cents: f.commissionCents,
      slippage_cents: notionalCents(f.quantity, f.slippagePerShare),
      clock: f.clock,
      source: f.source,
      reasoning: f.reason,
      order_created_at: f.clock,
    }));
}

interface Tape {
  bars: Bar[];
  /** Bar starts and ends (ms), ascending. */
  starts: number[];
  ends: number[];
}

/**
 * The run's market read once up front and stepped in memory: per symbol and timespan, the bars
 * that closed over the replayed range (market.barsClosedBetween once), cut by binary search
 * for each step; and the price at a clock where a bar starts, which is that bar's open, as
 * market.priceAt reads it. Whatever the tape cannot answer exactly goes to the market as the
 * live clock asks it: Polygon bars (adjusted for splits as of each read), symbols with splits,
 * clocks outside the range, and prices between bar starts or at bars not yet closed.
 */
function marketTape(sql: Q, market: Market, first: number, last: number) {
  const loaded = new Map<string, Tape | null>();
  const loading = new Map<string, Promise<Tape | null>>();
  // A symbol's splits and dividends, read once per replay.
  const actions = new Map<string, Promise<CorporateAction[]>>();
  const actionsOf = (symbol: string) => {
    if (!actions.has(symbol)) actions.set(symbol, market.corporateActions(symbol, sql));
    return actions.get(symbol)!;
  };
  const priceSources = new Map<string, Promise<{ simulated: boolean; finest: Timespan } | null>>();
  /** Whether the tape may price the symbol, and from which timespan (an imported symbol's finest stored one). */
  const priceSource = (symbol: string) => {
    let p = priceSources.get(symbol);
    if (!p) {
      p = (async () => {
        const source = await market.sourceOf(symbol, sql);
        if (source === 'simulated') return { simulated: true, finest: 'minute' as Timespan };
        if (source !== 'imported' || (await actionsOf(symbol)).some((a) => a.kind === 'split')) return null;
        const have = new Set((await importedSpans(sql, symbol)).map((s) => s.timespan));
        const finest = ORDER.find((ts) => have.has(ts));
        return finest ? { simulated: false, finest } : null;
      })();
      priceSources.set(symbol, p);
    }
    return p;
  };
  const tapeOf = async (symbol: string, timespan: Timespan): Promise<Tape | null> => {
    const key = `${symbol}|${timespan}`;
    if (loaded.has(key)) return loaded.get(key)!;
    let p = loading.get(key);
    if (!p) {
      p = (async () => {
        if ((await market.sourceOf(symbol, sql)) === 'polygon') return null;
        const bars = await market.barsClosedBetween(symbol, timespan, new Date(first), new Date(last), sql);
        return { bars, starts: bars.map((b) => Date.parse(b.t)), ends: bars.map((b) => barEnd(timespan, new Date(b.t)).getTime()) };
      })();
      loading.set(key, p);
    }
    const t = await p;
    loaded.set(key, t);
    return t;
  };
  const closedBetween: ClosedBetween = async (symbol, timespan, from, clock) => {
    const t = await tapeOf(symbol, timespan);
    if (!t || from.getTime() < first || clock.getTime() > last) return market.barsClosedBetween(symbol, timespan, from, clock, sql);
    return t.bars.slice(upperBound(t.ends, from.getTime()), upperBound(t.ends, clock.getTime()));
  };
  /**
   * market.priceAt's open at the clock from the tape: an imported symbol's finest stored
   * timespan, a simulated one's day bar at a regular open and minute bar otherwise (as quoteAt
   * picks them). Else the market's own answer.
   */
  const priceAt = async (symbol: string, at: Date): Promise<Quote | null> => {
    const ms = at.getTime();
    const src = ms >= first && ms <= last ? await priceSource(symbol) : null;
    if (src) {
      // quoteAt's choice: a provider's day bar at a regular open, else its minute bar; an imported symbol's finest first.
      const ts = src.simulated ? (sessionFor(nyLocal(at).date)?.open.getTime() === ms ? 'day' : 'minute') : src.finest;
      const t = await tapeOf(symbol, ts);
      if (t) {
        const i = upperBound(t.starts, ms) - 1;
        if (i >= 0 && t.starts[i] === ms) {
          return { symbol: symbol.trim().toUpperCase(), price: t.bars[i]!.o, time: at.toISOString(), source: src.simulated ? 'simulated' : 'imported', basis: 'open_at_clock' };
        }
      }
    }
    return market.priceAt(symbol, at, sql);
  };
  /** The market as the live clock's loaders read it (loadStepMarket), its prices from the tape. */
  const taped: Market = { ...market, priceAt: (symbol, at) => priceAt(symbol, at), corporateActions: (symbol) => actionsOf(symbol) };
  return { closedBetween, market: taped };
}

/** An exit the clock made (stop, target, trailing stop, flatten_by), dollars. */
export interface ExitView {
  time: string;
  symbol: string;
  side: string;
  quantity: number;
  price: number;
  trigger: string;
  reason: string | null;
  realized_pnl: number | null;
  /** The original run made the same exit (symbol, side, trigger and time). */
  in_original: boolean;
}

export interface Counterfactual {
  replay: ReplayOutput;
  original: RunMetrics;
  counterfactual: RunMetrics;
  /** Every recorded order whose outcome changed, by order id. */
  changed: ChangedOrder[];
  /** Exits of the counterfactual. */
  exits: ExitView[];
  /** Exits of the original run that the counterfactual did not make. */
  exitsRemoved: ExitView[];
}

const exitKey = (f: { symbol: string; side: string; source: string; clock: string }) => `${f.symbol}|${f.side}|${f.source}|${f.clock}`;
const isExit = (source: string) => source !== 'agent' && source !== 'limit';

/**
 * The run replayed under `rules` (null: its frozen rule set) and settings, with both runs'
 * metrics (store/analyst.ts runMetrics on the recorded and on the counterfactual curve and
 * fills), the orders whose outcome changed, and the exits made and no longer made.
 * `original` reuses metrics already computed for this run.
 */
export async function counterfactual(deps: Deps, run: RunRow, rules: RuleRecord[] | null, settings: ReplaySettings = {}, original?: RunMetrics): Promise<Counterfactual> {
  const replay = await replayRun(deps, run, rules, settings);
  const recordedFills = await loadRunFills(deps.sql, run.run_id);
  const base = original ?? (await runMetrics(deps, run, { points: replay.originalPoints, fills: recordedFills }));
  const cf = await runMetrics(deps, run, { points: replay.points, fills: replay.fills, actions: replay.actions });
  const changed: ChangedOrder[] = [];
  for (const o of replay.orders) {
    const c = compareOutcome(o, replay.book.outcomes.get(o.order_id)!);
    if (c) changed.push(c);
  }
  const originalExits = recordedFills.filter((f) => isExit(f.source));
  const originalKeys = new Set(originalExits.map(exitKey));
  const cfExits = replay.fills.filter((f) => isExit(f.source));
  const cfKeys = new Set(cfExits.map(exitKey));
  const realized = new Map(replay.book.fills.map((f) => [f.seq + 1, f.realizedCents]));
  const exits = cfExits.map((f) => ({
    time: f.clock,
    symbol: f.symbol,
    side: f.side,
    quantity: f.quantity,
    price: f.price,
    trigger: f.source,
    reason: f.reasoning,
    realized_pnl: (realized.get(f.fill_id) ?? 0) / 100,
    in_original: originalKeys.has(exitKey(f)),
  }));
  const exitsRemoved = originalExits
    .filter((f) => !cfKeys.has(exitKey(f)))
    .map((f) => ({ time: f.clock, symbol: f.symbol, side: f.side, quantity: f.quantity, price: f.price, trigger: f.source, reason: f.reasoning, realized_pnl: null, in_original: true }));
  return { replay, original: base, counterfactual: cf, changed, exits, exitsRemoved };
}
