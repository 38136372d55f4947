// replay_with_rules: a run's recorded agent orders re-submitted in memory under other rules,
// read as load → decide → keep in memory. The decisions are the live path's own pure
// functions (domain/decide.ts decideOrder, domain/clock-step.ts decideClockStep); the prices
// and bars are the stored ones, read through a private market that never calls a provider;
// nothing is written.
import { barEnd, sessionFor } from '../domain/calendar.js';
import { actionsDue, applyCorporateActions, effectiveAt, lotActionOf, type CorporateAction } from '../domain/corporate-actions.js';
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
  type AgentEvent,
  type ReplayFill,
  compareOutcome,
  type ChangedOrder,
  type RecordedOrder,
  bookValueCents,
  upperBound,
} from '../domain/counterfactual.js';
import { decideOrder, type DecideModel } from '../domain/decide.js';
import { isLossStreakHalt } from '../domain/rules/engine.js';
import { isMarketOpen, type Rejection } from '../domain/gates.js';
import { notionalCents, toCents } from '../domain/money.js';
import { nyLocal, utcIso } from '../domain/ny-time.js';
import { fillNotionalCents } from '../domain/round-trips.js';
import type { Bar, RuleRecord, Timespan } from '../domain/types.js';
import type { EquityColumns, EquityPoint } from '../domain/metrics.js';
import type { Split } from '../market/polygon.js';
import { memoryCache } from '../cache.js';
import type { Deps } from '../deps.js';
import type { Q } from '../db/database.js';
import { importedSpans } from '../market/bars-store.js';
import { sessionClosesIn, splitsOf, stepMarketOf, stepQuote, stepTimespan, type StepMarketSource } from './clock.js';
import { actionKey, loadDueActions } from './corporate-actions.js';
import { createMarket, type Market } from '../market/market.js';
import { loadEquityColumns, loadRunFills, runMetrics, type RunFill, type RunMetrics } from '../store/analyst.js';
import { loadClockMarks, loadExitChanges, loadRecordedOrders, loadStateChanges, snapshotModel, snapshotRules } from '../store/counterfactual.js';
import type { RunRow } from '../store/runs.js';
import { dividendCash } from './clock.js';

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
  /** The same as columns (epoch ms, dollars). */
  originalCurve: EquityColumns;
  /** The run's own fills (loadRunFills). */
  recordedFills: RunFill[];
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
 * re-submitted in their recorded order. Read as load → replay: every record and every bar and
 * price the replay can ask for is read first (preloadMarket), then one synchronous loop steps
 * the book through the pure decisions, so its cost is the bars' read plus arithmetic.
 */
export async function replayRun(deps: Deps, run: RunRow, rules: RuleRecord[] | null, settings: ReplaySettings = {}, tape?: RunTape): Promise<ReplayOutput> {
  return replayLoaded(run, await loadReplay(deps, run, rules, settings, tape));
}

/** What a replay reads before its loop (replayRun's load step): the run's tape and the model and rules to replay under. */
export interface ReplayInput extends RunTape {
  model: DecideModel;
  rules: RuleRecord[];
}

/**
 * What every replay of a run reads, whatever its rules and settings: the run's records (orders,
 * clock marks, state and exit changes as the agent script), its recorded curve and fills, and
 * its preloaded market. Read once when many replays share a run (suggest_rules' candidates);
 * the replay loop only reads it.
 */
export interface RunTape {
  orders: RecordedOrder[];
  originalCurve: EquityColumns;
  /** The clock steps (epoch ms). */
  steps: number[];
  script: AgentEvent[];
  market: PreloadedMarket;
  /** The run's own fills as loadRunFills returns them. */
  recordedFills: RunFill[];
}

/** A run's tape (RunTape): every record and every bar and price a replay of it can ask for. */
export async function loadRunTape(deps: Deps, run: RunRow): Promise<RunTape> {
  const sql = deps.sql;
  const [orders, marks, originalCurve, states, exitChanges, recordedFills] = await Promise.all([
    loadRecordedOrders(sql, run.run_id),
    loadClockMarks(sql, run.run_id),
    loadEquityColumns(sql, run),
    loadStateChanges(sql, run.run_id),
    loadExitChanges(sql, run.run_id),
    loadRunFills(sql, run.run_id),
  ]);
  const steps = Array.from(originalCurve.clock);
  if (!steps.length) steps.push(Date.parse(run.started_at));
  const script = agentScript(orders, marks, states, steps[0]!, exitChanges);
  const symbols = [...new Set([...run.symbols, ...orders.map((o) => o.symbol), ...exitChanges.map((x) => x.symbol)])];
  const market = await preloadMarket(sql, storedMarket(deps), symbols, run.timespan ?? 'minute', steps, script.map((e) => e.at));
  return { orders, originalCurve, steps, script, market, recordedFills };
}

/** replayRun's load: the run's tape (read here unless given) with the model and rules to replay under. */
export async function loadReplay(deps: Deps, run: RunRow, rules: RuleRecord[] | null, settings: ReplaySettings = {}, tape?: RunTape): Promise<ReplayInput> {
  const model: DecideModel = { ...snapshotModel(run.strategy_snapshot), ...definedOnly(settings) };
  const ruleSet = rules ?? snapshotRules(run.strategy_snapshot);
  const t = tape ?? (await loadRunTape(deps, run));
  return { ...t, model, rules: ruleSet };
}

/** replayRun's replay: synchronous, no I/O, over what loadReplay read. */
export function replayLoaded(run: RunRow, input: ReplayInput): ReplayOutput {
  const { model, rules: ruleSet, orders, originalCurve, steps, script } = input;
  const replayed = replaySteps(input.market, run, model, ruleSet, steps, script);
  const { book } = replayed;
  const partial = run.status === 'running';
  const last = steps.at(-1)!;
  // Resting and pending orders end with their run; a pending one may have expired before (wall clock).
  const expire = (id: number) => book.outcomes.set(id, { ...book.outcomes.get(id)!, status: 'expired' });
  const statusOf = new Map(orders.map((o) => [o.order_id, o.status]));
  for (const [id] of book.pending) if (!partial || statusOf.get(id) === 'expired') expire(id);
  if (!partial) for (const [id] of book.resting) expire(id);

  return {
    book,
    orders,
    cut: replayed.cut,
    points: book.equity.map((p) => ({ clock: utcIso(p.clock), value: p.valueCents / 100 })),
    originalPoints: Array.from(originalCurve.clock, (t, i) => ({ clock: utcIso(t), value: originalCurve.value[i]! })),
    originalCurve,
    recordedFills: input.recordedFills,
    fills: runFills(book.fills),
    actions: replayed.lotActions,
    partial,
    asOf: new Date(partial ? Date.parse(run.clock) : last).toISOString(),
    model,
    rules: ruleSet,
  };
}

/**
 * The replay loop over a preloaded market: synchronous, no I/O. At each step the splits and
 * dividends first (as applyCorporateActionsStep), the clock's decision (decideClockStep), the
 * mark, then the agent's events before the next step (decideOrder and the book's keepers).
 */
function replaySteps(pm: PreloadedMarket, run: RunRow, model: DecideModel, ruleSet: RuleRecord[], steps: readonly number[], script: readonly AgentEvent[]) {
  const book = newBook(model, ruleSet, toCents(run.initial_cash), run.session);
  const cut = new Set<number>();
  const priceAt = (symbol: string, at: number) => pm.price(symbol, at);
  // one pricing function per instant (many orders and the step share one)
  let pricedAt = NaN;
  let pricedOf: (s: string) => number | null = () => null;
  const priceAll = (at: number) => {
    if (at !== pricedAt) {
      pricedAt = at;
      pricedOf = (s: string) => pm.price(s, at);
    }
    return pricedOf;
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
  const eventsBefore = (limit: number) => {
    while (e < script.length && script[e]!.at < limit) runEvent(script[e++]!);
  };

  const runEvent = (ev: AgentEvent) => {
    const clock = new Date(ev.at);
    if (ev.kind === 'order') {
      const o = ev.order;
      const held = book.positions.get(o.symbol)?.quantity ?? 0;
      const { req, cut: wasCut } = intentOf(o, held);
      if (wasCut) cut.add(o.order_id);
      const quote = priceAt(o.symbol, ev.at);
      const priceOf = priceAll(ev.at);
      const known = quote !== null || pm.known(o.symbol);
      const state = orderState(book, clock, {
        marketOpen: marketOpen(ev.at),
        symbolKnown: known,
        marketPrice: quote,
        ordersLastMinute: ordersInLastMinute(book, ev.wall),
        priceOf,
      });
      const d = decideOrder(state, req, { close: o.closes_position === true, downsize: true, projected: false });
      // req is intentOf's own object: kept as it is unless downsized
      applyOrderDecision(book, o.order_id, d.quantity === req.quantity ? req : { ...req, quantity: d.quantity }, d, clock);
      if (!d.rejections.some(isRateLimited)) notePlaced(book, ev.wall);
      return;
    }
    if (ev.kind === 'modify') {
      // modify_order: the resting order re-judged at its new terms, as the live tool does
      const resting = book.resting.get(ev.order_id);
      if (!resting) return;
      const req = modifiedRequest(resting, { limit_price: ev.limit_price, stop_price: ev.stop_price, quantity: ev.quantity });
      const quote = priceAt(req.symbol, ev.at);
      const state = orderState(
        book,
        clock,
        { marketOpen: marketOpen(ev.at), symbolKnown: true, marketPrice: quote, ordersLastMinute: 0, priceOf: priceAll(ev.at) },
        { ...book.model, require_approval: false },
      );
      applyModification(book, ev.order_id, req, decideOrder(state, req, { projected: false }), clock);
      return;
    }
    if (ev.kind === 'exits') {
      applyExitChange(book, ev.symbol, ev.changes, priceAt(ev.symbol, ev.at));
      return;
    }
    if (ev.kind === 'state') {
      // A person halted, set reducing or resumed the model: as recorded (resuming a loss_streak halt starts a new streak, as live).
      if (ev.state !== 'halted' && isLossStreakHalt(book.model.state_reason)) book.lossStreak = 0;
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
    const quote = priceAt(req.symbol, ev.at);
    const state = orderState(
      book,
      clock,
      { marketOpen: marketOpen(ev.at), symbolKnown: quote !== null || pm.known(req.symbol), marketPrice: quote, ordersLastMinute: 0, priceOf: priceAll(ev.at) },
      { ...book.model, require_approval: false },
    );
    const approved = ev.kind === 'approve' && ev.edit ? { ...req, ...ev.edit } : req;
    const d = decideOrder(state, approved, { projected: false });
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
  const withActions = new Set(pm.symbols.filter((s) => pm.actions(s).length));
  const holdsAny = () => {
    for (const s of book.positions.keys()) if (withActions.has(s)) return true;
    for (const o of book.resting.values()) if (withActions.has(o.symbol)) return true;
    for (const o of book.pending.values()) if (withActions.has(o.symbol)) return true;
    return false;
  };
  const corporateActions = (from: Date, to: Date) => {
    if (!withActions.size || !holdsAny()) return [];
    const input = actionsInput(book);
    const held = [...new Set([...input.positions, ...input.orders].map((x) => x.symbol))];
    if (!held.length) return [];
    const due = actionsDue(held.flatMap((s) => pm.actions(s)).filter((a) => !applied.has(actionKey(a))), from, to);
    if (!due.length) return [];
    const lastClose: Record<string, number | null> = {};
    // the close before the symbol's first split due (as loadDueActions reads it)
    for (const a of due) if (a.kind === 'split' && !(a.symbol in lastClose)) lastClose[a.symbol] = pm.closeBefore(a);
    const result = applyCorporateActions({ ...input, actions: due, from, to, lastClose });
    applyActionsResult(book, result);
    lotActions.push(...result.events.map((ev) => ({ ...lotActionOf(ev), fills_before: book.fills.length })));
    for (const a of due) applied.add(actionKey(a));
    return result.events;
  };

  eventsBefore(steps[1] ?? Infinity);
  for (let i = 1; i < steps.length; i++) {
    const from = steps[i - 1]!;
    const at = steps[i]!;
    const clock = new Date(at);
    // the value when the step began, before its actions (as the live clock step)
    const fromValueCents = bookValueCents(book, priceAll(from));
    const events = corporateActions(new Date(from), clock);
    const symbols = [...book.positions.keys()];
    for (const o of book.resting.values()) if (!symbols.includes(o.symbol)) symbols.push(o.symbol);
    const stepMarket = stepMarketOf(pm, symbols, new Date(from), clock);
    // marked at the clock in place: the decision copies what it is given, and its copies replace these (applyStepDecision)
    for (const p of book.positions.values()) p.price = stepMarket.priceAtClock[p.symbol] ?? p.avgCost;
    const d = decideClockStep(
      {
        model: book.model,
        cashCents: book.cashCents,
        realizedPnlCents: book.realizedPnlCents,
        positions: Array.from(book.positions.values()),
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
    markPoint(book, at, priceAll(at));
    eventsBefore(steps[i + 1] ?? Infinity);
  }
  // end_run marks the account once more at the final clock, after the orders placed there.
  if (run.status !== 'running') markPoint(book, steps.at(-1)!, priceAll(steps.at(-1)!));
  return { book, cut, lotActions };
}

// runEvent's test of a decision (module level: no closure per order)
const isRateLimited = (r: Rejection) => r.code === 'RATE_LIMITED';

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

/** The market a replay reads, preloaded: answered synchronously (stepMarketOf's source, plus what orders ask). */
export interface PreloadedMarket extends StepMarketSource {
  /** The symbols it was loaded for. */
  symbols: readonly string[];
  known(symbol: string): boolean;
  /** quote's price at an instant in epoch ms (null: unpriced, or an instant the replay does not price at). */
  price(symbol: string, ms: number): number | null;
  /** The symbol's known splits and dividends. */
  actions(symbol: string): CorporateAction[];
  /** The official close of the session before a split (applyCorporateActions' lastClose). */
  closeBefore(split: CorporateAction): number | null;
}

/** A run of bars of one symbol and timespan, with their starts and ends (ms) for binary search. */
interface Tape {
  bars: Bar[];
  starts: Float64Array;
  ends: Float64Array;
}

const tapeOf = (bars: Bar[], timespan: Timespan): Tape => ({
  bars,
  starts: Float64Array.from(bars, (b) => Date.parse(b.t)),
  ends: Float64Array.from(bars, (b) => barEnd(timespan, new Date(b.t)).getTime()),
});

/**
 * Everything a replay of `symbols` over `steps` (and the script's event clocks) can ask of the
 * market, read once: per symbol its source, step timespan, splits and dividends, the bars of
 * its step timespan closed over the run (barsClosedBetween once) cut by binary search per step,
 * and its price at every clock the replay prices at: the open of the bar starting there from
 * the same kind of tape (a simulated symbol's day bar at a regular open and minute bar
 * otherwise, an imported one's finest stored timespan, as quoteAt picks them), else
 * market.priceAt's own answer read here. Polygon symbols (adjusted for splits as of each read)
 * get their bars read per step here, and imported symbols with splits their prices from the
 * market, as the live clock reads them.
 */
export async function preloadMarket(sql: Q, market: Market, symbols: readonly string[], runTimespan: 'day' | 'minute', steps: readonly number[], eventClocks: readonly number[]): Promise<PreloadedMarket> {
  const first = steps[0]!;
  const last = steps.at(-1)!;
  // every instant a price is asked at: the steps, the script's events, the session closes passed
  const at = new Set<number>([...steps, ...eventClocks]);
  for (const c of sessionClosesIn(new Date(first), new Date(last))) at.add(c.at.getTime());
  const clocks = Float64Array.from(at).sort();
  const indexOf = new Map<number, number>();
  clocks.forEach((ms, i) => indexOf.set(ms, i));
  const known = new Map<string, boolean>();
  const timespans = new Map<string, Timespan | null>();
  const actions = new Map<string, CorporateAction[]>();
  const splits = new Map<string, Split[]>();
  const tapes = new Map<string, Tape>();
  const perStep = new Map<string, Map<number, Bar[]>>();
  const prices = new Map<string, Float64Array>();
  const opens = new Map<string, Uint8Array>();
  const closes = new Map<string, number | null>();
  const loadTape = async (symbol: string, timespan: Timespan) => {
    const key = `${symbol}|${timespan}`;
    if (!tapes.has(key)) tapes.set(key, tapeOf(await market.barsClosedBetween(symbol, timespan, new Date(first), new Date(last), sql), timespan));
    return tapes.get(key)!;
  };
  for (const symbol of symbols) {
    const source = await market.sourceOf(symbol, sql);
    known.set(symbol, source !== null);
    const acts = await market.corporateActions(symbol, sql);
    actions.set(symbol, acts);
    splits.set(symbol, await splitsOf(market, symbol, sql));
    const timespan = await stepTimespan(market, symbol, runTimespan, sql);
    timespans.set(symbol, timespan);
    if (timespan && source === 'polygon') {
      const bySteps = new Map<number, Bar[]>();
      for (let i = 1; i < steps.length; i++) bySteps.set(steps[i]!, await market.barsClosedBetween(symbol, timespan, new Date(steps[i - 1]!), new Date(steps[i]!), sql));
      perStep.set(symbol, bySteps);
    } else if (timespan) await loadTape(symbol, timespan);
    // the tape that prices the symbol, when it may
    let priceTape: ((ms: number) => Timespan) | null = null;
    if (source === 'simulated') {
      await loadTape(symbol, 'day');
      await loadTape(symbol, 'minute');
      priceTape = (ms) => (sessionFor(nyLocal(new Date(ms)).date)?.open.getTime() === ms ? 'day' : 'minute');
    } else if (source === 'imported' && !acts.some((a) => a.kind === 'split')) {
      const have = new Set((await importedSpans(sql, symbol)).map((s) => s.timespan));
      const finest = ORDER.find((ts) => have.has(ts));
      if (finest) {
        await loadTape(symbol, finest);
        priceTape = () => finest;
      }
    }
    const price = new Float64Array(clocks.length).fill(NaN);
    const open = new Uint8Array(clocks.length);
    for (let i = 0; i < clocks.length; i++) {
      const ms = clocks[i]!;
      if (priceTape && ms >= first && ms <= last) {
        const t = tapes.get(`${symbol}|${priceTape(ms)}`)!;
        const j = upperBound(t.starts, ms) - 1;
        if (j >= 0 && t.starts[j] === ms) {
          price[i] = t.bars[j]!.o;
          open[i] = 1;
          continue;
        }
      }
      const q = await stepQuote(market, symbol, new Date(ms), sql);
      if (q) {
        price[i] = q.price;
        open[i] = q.openAtClock ? 1 : 0;
      }
    }
    prices.set(symbol, price);
    opens.set(symbol, open);
    for (const a of acts) {
      if (a.kind !== 'split' || effectiveAt(a).getTime() <= first || effectiveAt(a).getTime() > last) continue;
      const { lastClose } = await loadDueActions(market, [symbol], new Date(effectiveAt(a).getTime() - 1), effectiveAt(a), () => new Set(), sql);
      closes.set(actionKey(a), lastClose[symbol] ?? null);
    }
  }
  // Every symbol is asked at the same instant in turn (a step's clock, an order's): the last index found is kept.
  let lastMs = NaN;
  let lastIndex: number | undefined;
  const clockIndex = (ms: number) => {
    if (ms !== lastMs) {
      lastMs = ms;
      lastIndex = indexOf.get(ms);
    }
    return lastIndex;
  };
  // each symbol's tape of its step timespan, found without building its key
  const stepTapes = new Map<string, Tape>();
  for (const [symbol, ts] of timespans) {
    const t = ts && tapes.get(`${symbol}|${ts}`);
    if (t) stepTapes.set(symbol, t);
  }
  return {
    symbols,
    known: (s) => known.get(s) ?? false,
    timespan: (s) => timespans.get(s) ?? null,
    actions: (s) => actions.get(s) ?? [],
    splits: (s) => splits.get(s) ?? [],
    closeBefore: (a) => closes.get(actionKey(a)) ?? null,
    closedBetween(symbol, timespan, from, clock) {
      const bySteps = perStep.get(symbol);
      if (bySteps) return { bars: bySteps.get(clock.getTime()) ?? [] };
      const t = timespan === timespans.get(symbol) ? stepTapes.get(symbol) : tapes.get(`${symbol}|${timespan}`);
      if (!t) return { bars: [] };
      const a = upperBound(t.ends, from.getTime());
      const b = upperBound(t.ends, clock.getTime());
      return { bars: t.bars.slice(a, b), starts: t.starts.subarray(a, b), ends: t.ends.subarray(a, b) };
    },
    quote(symbol, when) {
      const price = prices.get(symbol);
      const i = clockIndex(when.getTime());
      if (!price || i === undefined || Number.isNaN(price[i]!)) return null;
      return { price: price[i]!, openAtClock: opens.get(symbol)![i] === 1 };
    },
    price(symbol, ms) {
      const price = prices.get(symbol);
      const i = clockIndex(ms);
      if (!price || i === undefined) return null;
      const p = price[i]!;
      return Number.isNaN(p) ? null : p;
    },
  };
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
 * `reuse.original` reuses metrics already computed for this run, `reuse.tape` its tape
 * (loadRunTape) already read: a caller replaying one run many times reads it once.
 */
export async function counterfactual(
  deps: Deps,
  run: RunRow,
  rules: RuleRecord[] | null,
  settings: ReplaySettings = {},
  reuse: { original?: RunMetrics; tape?: RunTape } = {},
): Promise<Counterfactual> {
  const replay = await replayRun(deps, run, rules, settings, reuse.tape);
  const { recordedFills } = replay;
  const base = reuse.original ?? (await runMetrics(deps, run, { curve: replay.originalCurve, fills: recordedFills }));
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
