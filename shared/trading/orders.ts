// The order path: one order is one transaction, read as load → decide → persist. The
// model row is locked first (so two orders of one model, or two calls with one
// client_order_id, run one after the other), then the run's account row; the pure
// decideOrder (domain/decide.ts) judges the order on that locked state, and the order,
// fill, position, cash, halt and reasoning are written together or not at all.
import type { AuthContext } from '../auth/keys.js';
import { settleAll, type Tx } from '../db/database.js';
import { decideOrder, type AccountAfter, type BookPosition, type DecideModel, type DecideOptions, type OrderState } from '../domain/decide.js';
import { isMarketOpen, type Rejection } from '../domain/gates.js';
import { bracketShapeProblem, planOf, type OrderBracket } from '../domain/exits.js';
import { modifiedRequest, type RestingOrder } from '../domain/clock-step.js';
import { accountFigures, type AppliedFill } from '../domain/ledger.js';
import { formatPrice, fromCents, notionalCents, priceTicks, roundPrice, toCents } from '../domain/money.js';
import { portfolioValueCents } from '../domain/rules/engine.js';
import type { Downsized } from '../domain/sizing.js';
import type { OrderType, Side } from '../domain/types.js';
import type { Deps } from '../deps.js';
import { notFound, ToolError } from '../mcp/errors.js';
import { getOwnedModel, type Model } from '../store/models.js';
import {
  expirePending,
  getOrder,
  getOwnedOrderForUpdate,
  insertFill,
  ownedOrderModel,
  readPosition,
  ordersLastMinute,
  setAccount,
  setModelState,
  setOrderStatus,
  writePosition,
  type OrderChange,
  type OrderRow,
} from '../store/orders.js';
import { insertOrderWithFill, readOrderBook, type OrderBook } from '../store/order-book.js';
import { loadPortfolioSnapshot, type BookSnapshot } from '../store/portfolio-snapshot.js';
import { loadActiveRules } from '../store/rules.js';
import { getRunningRun, readAccount, startRun, type RunRow } from '../store/runs.js';
import { num } from '../store/rows.js';
import { recordBreakerThreats } from '../store/threats.js';


export interface OrderRequest extends OrderBracket {
  model_id: number;
  side: Side;
  symbol: string;
  quantity: number;
  order_type: OrderType;
  limit_price?: number;
  /** stop and stop_limit: the trigger, dollars. */
  stop_price?: number;
  reasoning?: string;
  client_order_id?: string;
}

export interface OrderResult {
  order_id: number;
  status: OrderRow['status'];
  side: Side;
  symbol: string;
  quantity: number;
  order_type: OrderType;
  limit_price: number | null;
  stop_price: number | null;
  fill_price: number | null;
  commission: number | null;
  slippage: number | null;
  rejections: Rejection[];
  portfolio_after: { cash: number; position_quantity: number; total_value: number; buying_power: number };
  /** null: refused while the model had no running run (no run was started for it). */
  run_id: number | null;
  /** This order started a live run (the model had none running). */
  started_run: boolean;
  clock: string;
  /** True when a client_order_id seen before returned the first result. */
  replayed: boolean;
  /** Set when the order tripped a circuit breaker and the model is now halted. */
  halted_reason: string | null;
  /** A pending approval's terms for the person deciding (null otherwise, and on a replayed result). */
  pending: PendingTerms | null;
  /** Set when a downsize: true rule cut the order to the quantity it allows (the quantity above is the cut one). */
  downsized?: Downsized | null;
  /** The bracket an opening order (buy, short) carries when not refused: its stop and first target, dollars; absent when unset. */
  stop_loss?: number;
  take_profit?: number;
}

/** An order's stop_loss / take_profit for its result (bracketed opening orders that were not refused), as numeric(18,4) stores them. */
function bracketEcho(side: Side, status: OrderRow['status'], levels: { stop_loss?: number | null; take_profit?: number | null }): Pick<OrderResult, 'stop_loss' | 'take_profit'> {
  if ((side !== 'buy' && side !== 'short') || status === 'rejected' || status === 'cancelled' || status === 'expired') return {};
  return {
    ...(levels.stop_loss == null ? {} : { stop_loss: roundPrice(levels.stop_loss) }),
    ...(levels.take_profit == null ? {} : { take_profit: roundPrice(levels.take_profit) }),
  };
}

/** What a pending order risks, as its approval request states it (dollars; fraction of equity). */
export interface PendingTerms {
  notional: number;
  /** quantity × |estimated fill − stop_loss|; null without a stop_loss. */
  risk_to_stop: number | null;
  risk_fraction_of_equity: number | null;
  expires_at: string;
}

/** The pending order's notional and risk to its stop at the estimate the checks judged. */
export function pendingTerms(state: OrderState, req: OrderRequest, price: number, expires: Date): PendingTerms {
  const equity = portfolioValueCents(state);
  const risk = req.stop_loss == null ? null : notionalCents(req.quantity, Math.abs(Number(priceTicks(price) - priceTicks(req.stop_loss)) / 10_000));
  return {
    notional: fromCents(notionalCents(req.quantity, price)),
    risk_to_stop: risk === null ? null : fromCents(risk),
    risk_fraction_of_equity: risk === null || equity <= 0 ? null : Math.round((risk / equity) * 1e6) / 1e6,
    expires_at: expires.toISOString(),
  };
}

function runClock(run: RunRow | null): Date {
  return run?.kind === 'replay' ? new Date(run.clock) : new Date();
}

/** The model's settings as the pure decision reads them. */
export function decideModel(model: Model): DecideModel {
  return {
    allow_short: model.allow_short,
    allowed_symbols: model.allowed_symbols,
    state: model.state,
    state_reason: model.state_reason,
    execution_mode: model.execution_mode,
    require_approval: model.require_approval,
    commission_per_share: model.commission_per_share,
    slippage_bps: model.slippage_bps,
    max_drawdown_halt_pct: model.max_drawdown_halt_pct,
    max_orders_per_minute: model.max_orders_per_minute,
    short_margin_pct: model.short_margin_pct,
  };
}

/**
 * Load: everything decideOrder reads, on the locked account at the run's clock. With no
 * running run the account is the model's initial cash (a live run starts only if the order
 * is not refused).
 */
export async function loadOrderState(
  tx: Tx,
  deps: Deps,
  model: Model,
  run: RunRow | null,
  symbol: string,
  opts: { throttle: boolean },
): Promise<OrderState> {
  const clock = runClock(run);
  const quote = await deps.market.priceAt(symbol, clock, tx);
  const known = quote !== null || (await deps.market.isKnown(symbol, tx));
  const snapshot = await loadPortfolioSnapshot(tx, run, run?.initial_cash ?? model.initial_cash, deps.market, clock);
  return {
    ...snapshot,
    realizedPnlCents: run ? toCents(run.realized_pnl) : 0,
    model: decideModel(model),
    rules: await loadActiveRules(tx, model.model_id),
    clock,
    marketOpen: isMarketOpen(clock, run?.session ?? 'regular'),
    symbolKnown: known,
    marketPrice: quote?.price ?? null,
    ordersLastMinute: opts.throttle ? await ordersLastMinute(tx, model.model_id) : 0,
  };
}

export interface FillDone {
  price: number;
  commissionCents: number;
  slippagePerShare: number;
}

/**
 * Persist: one decided fill on the run's account — cash, realized P&L, position (with the
 * exit levels of an opening order), the fill row and the order's status — exactly as the
 * pure decision computed it.
 */
export async function persistFill(
  tx: Tx,
  runId: number,
  order: OrderBracket & { order_id: number; side: Side; symbol: string; quantity: number },
  fill: FillDone,
  applied: AppliedFill,
  clock: Date,
): Promise<void> {
  const opening = order.side === 'buy' || order.side === 'short';
  // Issued without awaiting in between: one round trip, executed in this order.
  await settleAll([
    setAccount(tx, runId, applied.cashCents, applied.realizedPnlCents),
    writePosition(tx, runId, order.symbol, applied.position, clock, opening ? order : {}),
    insertFill(tx, {
      order_id: order.order_id,
      run_id: runId,
      symbol: order.symbol,
      side: order.side,
      quantity: order.quantity,
      price: fill.price,
      commissionCents: fill.commissionCents,
      slippagePerShare: fill.slippagePerShare,
      cashChangeCents: applied.cashChangeCents,
      realizedCents: applied.realizedCents,
      clock,
    }),
    setOrderStatus(tx, order.order_id, 'filled'),
  ]);
}

/** Locked: only a key with `approve` resumes the model. `reason` is the full halt reason; the threat history records it. */
export async function haltModel(tx: Tx, deps: Deps, modelId: number, reason: string): Promise<void> {
  await setModelState(tx, modelId, 'halted', reason, true);
  await recordBreakerThreats(tx, deps.market, modelId, reason);
}

/** The rules' view of a run's account at `clock`, read on the current (locked) rows. */
export async function accountSnapshot(tx: Tx, deps: Deps, runId: number, clock: Date): Promise<BookSnapshot> {
  const acct = await readAccount(tx, runId);
  return loadPortfolioSnapshot(tx, acct, acct.initial_cash, deps.market, clock);
}

async function resultFor(tx: Tx, deps: Deps, orderId: number, replayed: boolean, haltedReason: string | null, startedRun = false): Promise<OrderResult> {
  const order = await getOrder(tx, orderId);
  let after: OrderResult['portfolio_after'];
  if (order.run_id === null) {
    // Refused with no running run: the account is the model's initial cash, untouched.
    const [m] = await tx`select initial_cash, short_margin_pct from models where id = ${order.model_id}`;
    const cash = num(m!.initial_cash);
    after = { cash, position_quantity: 0, total_value: cash, buying_power: cash };
  } else {
    const acct = await readAccount(tx, order.run_id);
    const pos = await readPosition(tx, order.run_id, order.symbol);
    const snapshot = await accountSnapshot(tx, deps, order.run_id, acct.clock);
    const [m] = await tx`select short_margin_pct from models where id = ${order.model_id}`;
    const figures = accountFigures(snapshot.cashCents, snapshot.positions, num(m!.short_margin_pct));
    after = {
      cash: acct.cash,
      position_quantity: pos?.quantity ?? 0,
      total_value: fromCents(portfolioValueCents(snapshot)),
      buying_power: fromCents(figures.buyingPowerCents),
    };
  }
  return {
    order_id: order.order_id,
    status: order.status,
    side: order.side,
    symbol: order.symbol,
    quantity: order.quantity,
    order_type: order.order_type,
    limit_price: order.limit_price,
    stop_price: order.stop_price,
    fill_price: order.fill?.price ?? null,
    commission: order.fill?.commission ?? null,
    slippage: order.fill?.slippage ?? null,
    rejections: order.rejections,
    portfolio_after: after,
    run_id: order.run_id,
    started_run: startedRun,
    clock: order.clock,
    replayed,
    halted_reason: haltedReason,
    pending: null,
    ...bracketEcho(order.side, order.status, order),
  };
}

/**
 * A provider fetch (Polygon) must not happen while the order's transaction holds the
 * embedded database's one connection: read the price once before, so the transaction
 * finds the bars stored.
 */
export async function prefetch(deps: Deps, auth: AuthContext, req: Pick<OrderRequest, 'model_id' | 'symbol'>): Promise<void> {
  if (!deps.market.fetches) return;
  await getOwnedModel(deps.sql, auth.userId, req.model_id);
  const run = await getRunningRun(deps.sql, req.model_id);
  await deps.market.priceAt(req.symbol, runClock(run)).catch(() => null);
}

/**
 * buy / sell / short / cover: load → decideOrder → persist. With no running run, a live
 * run starts only when the order is not refused (its result says started_run); a refused
 * order is stored without a run.
 */
export async function placeOrder(deps: Deps, auth: AuthContext, request: OrderRequest, opts: DecideOptions = {}): Promise<OrderResult> {
  validateShape(request);
  await prefetch(deps, auth, request);
  return deps.sql.begin(async (tx) => {
    // load: one round trip (store/order-book.ts)
    const book = await readOrderBook(tx, auth.userId, request.model_id, { clientOrderId: request.client_order_id, throttle: !opts.close, expire: true });
    if (book.seen) return resultFor(tx, deps, book.seen.order_id, true, null);
    const { model } = book;
    let run = book.run;
    const asked = opts.close ? closingRequest(book, request) : request;
    const state = await orderStateFromBook(deps, tx, book, asked.symbol);
    const d = decideOrder(state, asked, { ...opts, downsize: true });
    const req = d.downsized ? { ...asked, quantity: d.quantity } : asked;
    // persist: one round trip (a new live run first, when the order starts one)
    const startedRun = !run && d.status !== 'rejected';
    if (startedRun) run = await startRun(tx, auth.userId, model.model_id, { kind: 'live' });
    const expires = d.status === 'pending_approval' ? new Date(Date.now() + model.approval_expiry_minutes * 60_000) : null;
    const base = { ...req, model_id: model.model_id, clock: state.clock, key_prefix: auth.keyPrefix, closes_position: opts.close === true, changes: d.downsized ? [downsizeChange(asked, d.downsized, state.clock, auth.keyPrefix)] : [] };
    const writes: Promise<unknown>[] = [];
    if (d.tripped) writes.push(haltModel(tx, deps, model.model_id, d.tripped));
    const filled = d.fill && d.applied ? { fill: d.fill, applied: d.applied } : null;
    const orderId = insertOrderWithFill(
      tx,
      { ...base, run_id: run?.run_id ?? null, status: d.status, rejections: d.rejections, expires_at: expires },
      filled && { ...filled.fill, cashChangeCents: filled.applied.cashChangeCents, realizedCents: filled.applied.realizedCents },
      req.reasoning && run ? { content: req.reasoning, context: { side: req.side, symbol: req.symbol, quantity: req.quantity } } : null,
    );
    writes.push(orderId);
    if (filled) {
      writes.push(setAccount(tx, run!.run_id, filled.applied.cashCents, filled.applied.realizedPnlCents));
      const opening = req.side === 'buy' || req.side === 'short';
      writes.push(writePosition(tx, run!.run_id, req.symbol, filled.applied.position, state.clock, opening ? req : {}));
      if (d.haltReason) writes.push(haltModel(tx, deps, model.model_id, d.haltReason));
    }
    await settleAll(writes);
    const id = await orderId;
    // the result from the decision, not re-read
    const after = d.projected && filled ? d.projected : currentAccount(state, req.symbol, run === null);
    return {
      order_id: id,
      status: d.status,
      side: req.side,
      symbol: req.symbol,
      quantity: req.quantity,
      order_type: req.order_type,
      limit_price: req.limit_price === undefined ? null : roundPrice(req.limit_price), // as numeric(18,4) stores it
      stop_price: req.stop_price === undefined ? null : roundPrice(req.stop_price),
      fill_price: d.fill?.price ?? null,
      commission: d.fill ? fromCents(d.fill.commissionCents) : null,
      slippage: d.fill?.slippagePerShare ?? null,
      rejections: d.rejections,
      portfolio_after: {
        cash: fromCents(after.cashCents),
        position_quantity: after.positionQuantity,
        total_value: fromCents(after.totalValueCents),
        buying_power: fromCents(after.figures.buyingPowerCents),
      },
      run_id: run?.run_id ?? null,
      started_run: startedRun,
      clock: state.clock.toISOString(),
      replayed: false,
      halted_reason: d.haltReason ?? d.tripped,
      pending: expires ? pendingTerms(state, req, d.estimate.price, expires) : null,
      downsized: d.downsized,
      ...bracketEcho(req.side, d.status, req),
    };
  });
}

/** The order row's record of a downsize: the quantity asked → the quantity placed, and why. */
function downsizeChange(asked: OrderRequest, cut: Downsized, clock: Date, keyPrefix: string): OrderChange {
  const terms = { limit_price: asked.limit_price ?? null, stop_price: asked.stop_price ?? null };
  return {
    kind: 'downsize',
    at: new Date().toISOString(),
    clock: clock.toISOString(),
    key_prefix: keyPrefix,
    before: { ...terms, quantity: cut.from },
    after: { ...terms, quantity: cut.to },
    reasoning: cut.message,
  };
}

/** close_position's order on the locked book: a market sell of the whole long, or cover of the whole short. */
function closingRequest(book: OrderBook, req: OrderRequest): OrderRequest {
  const held = book.positions.find((p) => p.symbol === req.symbol)?.quantity ?? 0;
  if (held === 0) {
    throw new ToolError('NO_POSITION', `Model ${req.model_id} holds no ${req.symbol} position${book.run ? '' : ' (it has no running run)'}; nothing was closed.`);
  }
  return { ...req, side: held > 0 ? 'sell' : 'cover', quantity: Math.abs(held), order_type: 'market', limit_price: undefined, stop_price: undefined };
}

/**
 * close_position: a market exit of each named position (longs sold, shorts covered), each its
 * own order transaction through placeOrder's gates and ledger (decideOrder's `close`: allowed
 * while halted or reducing, not throttled, never waiting for approval). `all`: every position
 * of the running run; one that is flat by the time its order runs is skipped.
 * Throws NO_POSITION when the one named symbol is not held.
 */
export async function closePositions(
  deps: Deps,
  auth: AuthContext,
  req: { model_id: number; symbol?: string; all?: boolean; reasoning?: string },
): Promise<OrderResult[]> {
  const base = { model_id: req.model_id, side: 'sell' as const, quantity: 1, order_type: 'market' as const, reasoning: req.reasoning };
  if (req.symbol) return [await placeOrder(deps, auth, { ...base, symbol: req.symbol }, { close: true })];
  await getOwnedModel(deps.sql, auth.userId, req.model_id);
  const held = await deps.sql`
    select p.symbol from positions p join runs r on r.id = p.run_id
    where r.model_id = ${req.model_id} and r.status = 'running' and p.quantity <> 0 order by p.symbol`;
  const out: OrderResult[] = [];
  for (const { symbol } of held) {
    try {
      out.push(await placeOrder(deps, auth, { ...base, symbol }, { close: true }));
    } catch (e) {
      if (!(e instanceof ToolError && e.code === 'NO_POSITION')) throw e;
    }
  }
  return out;
}

/** The account as loaded (an order that did not fill leaves it unchanged). */
function currentAccount(state: OrderState, symbol: string, noRun: boolean): AccountAfter {
  const figures = accountFigures(state.cashCents, state.positions, state.model.short_margin_pct);
  if (noRun) return { cashCents: state.cashCents, positionQuantity: 0, totalValueCents: state.cashCents, figures: { ...figures, buyingPowerCents: state.cashCents } };
  return {
    cashCents: state.cashCents,
    positionQuantity: state.positions.find((p) => p.symbol === symbol)?.quantity ?? 0,
    totalValueCents: portfolioValueCents(state),
    figures,
  };
}

/**
 * The decision's state from the book read in one round trip: positions marked at the
 * clock, and the symbol's price, from the market (its cache; the database only when cold).
 */
async function orderStateFromBook(deps: Deps, tx: Tx, book: OrderBook, symbol: string): Promise<OrderState> {
  const { model, run } = book;
  const clock = runClock(run);
  const quote = await deps.market.priceAt(symbol, clock, tx);
  const known = quote !== null || (await deps.market.isKnown(symbol, tx));
  const initial = toCents(run?.initial_cash ?? model.initial_cash);
  const positions: BookPosition[] = [];
  for (const p of book.positions) {
    const q = p.symbol === symbol ? quote : await deps.market.priceAt(p.symbol, clock, tx);
    // Unpriced at the clock (no bar yet): mark at cost rather than refuse the whole check.
    positions.push({ ...p, price: q?.price ?? p.avgCost });
  }
  return {
    cashCents: run ? toCents(run.cash) : initial,
    positions,
    dayStartValueCents: run ? (book.dayStartValueCents ?? toCents(run.initial_cash)) : initial,
    peakValueCents: run ? toCents(run.peak_value) : initial,
    tradesToday: run ? book.tradesToday : 0,
    tradesInRun: run ? book.tradesInRun : 0,
    lossStreak: run ? book.lossStreak : 0,
    lastLossAt: run ? book.lastLossAt : null,
    realizedPnlCents: run ? toCents(run.realized_pnl) : 0,
    model: decideModel(model),
    rules: book.rules,
    clock,
    marketOpen: isMarketOpen(clock, run?.session ?? 'regular'),
    symbolKnown: known,
    marketPrice: quote?.price ?? null,
    ordersLastMinute: book.ordersLastMinute,
  };
}

export interface Preview {
  /** The quantity judged: the one asked, or less when a downsize: true rule cut it. */
  quantity: number;
  downsized: Downsized | null;
  would_fill: boolean;
  status_if_placed: OrderRow['status'];
  rejections: Rejection[];
  estimated_price: number | null;
  estimated_cost: number | null;
  commission: number;
  portfolio_after: { cash: number; position_quantity: number; total_value: number; buying_power: number } | null;
  clock: string;
}

/** Every check of a real order, on the same state, writing nothing (load → decideOrder). */
export async function previewOrder(deps: Deps, auth: AuthContext, req: OrderRequest): Promise<Preview> {
  validateShape(req);
  await prefetch(deps, auth, req);
  return deps.sql.begin(async (tx) => {
    const model = await getOwnedModel(tx, auth.userId, req.model_id);
    const run = await getRunningRun(tx, model.model_id);
    const d = decideOrder(await loadOrderState(tx, deps, model, run, req.symbol, { throttle: true }), req, { downsize: true });
    const priced = d.estimate.marketPrice !== null;
    return {
      quantity: d.quantity,
      downsized: d.downsized,
      would_fill: d.status === 'filled',
      status_if_placed: d.status,
      rejections: d.rejections,
      estimated_price: priced ? d.estimate.price : null,
      estimated_cost: priced ? fromCents(notionalCents(d.quantity, d.estimate.price)) : null,
      commission: fromCents(d.estimate.commissionCents),
      portfolio_after: d.projected
        ? {
            cash: fromCents(d.projected.cashCents),
            position_quantity: d.projected.positionQuantity,
            total_value: fromCents(d.projected.totalValueCents),
            buying_power: fromCents(d.projected.figures.buyingPowerCents),
          }
        : null,
      clock: runClock(run).toISOString(),
    };
  });
}

/** What an approver may change as they approve: a smaller quantity, a tighter stop_loss or take_profit (dollars). */
export interface ApprovalEdits {
  quantity?: number;
  stop_loss?: number;
  take_profit?: number;
}

const hasEdits = (e: ApprovalEdits | undefined): e is ApprovalEdits =>
  !!e && (e.quantity !== undefined || e.stop_loss !== undefined || e.take_profit !== undefined);

/**
 * The sentence refusing an approval edit, or null when it is allowed: quantity down only;
 * stop_loss and take_profit only on opening orders, tighter only (a long's stop higher, its
 * target lower; mirrored for a short) and on their side of the expected fill `fill`.
 */
export function approvalEditProblem(order: OrderRow, edits: ApprovalEdits, fill: number): string | null {
  const tail = '; nothing was changed.';
  if (edits.quantity !== undefined && edits.quantity > order.quantity) {
    return `quantity must be between 1 and ${order.quantity} (down only from the order's ${order.quantity} shares)${tail}`;
  }
  if (edits.stop_loss === undefined && edits.take_profit === undefined) return null;
  if (order.side !== 'buy' && order.side !== 'short') {
    return `stop_loss and take_profit attach to opening orders (buy or short); order ${order.order_id} is a ${order.side}${tail}`;
  }
  const long = order.side === 'buy';
  const at = (p: number) => priceTicks(p);
  // a long's stop sits below the fill and only rises; its target above and only falls (a short: mirrored)
  const check = (field: 'stop_loss' | 'take_profit', level: number | undefined, old: number | null, below: boolean): string | null => {
    if (level === undefined) return null;
    const wrongSide = below ? at(level) >= at(fill) : at(level) <= at(fill);
    const looser = old !== null && (below ? at(level) < at(old) : at(level) > at(old));
    if (!wrongSide && !looser) return null;
    const bound = old === null ? '' : `at ${below ? 'least' : 'most'} the order's ${formatPrice(old)} (tighter only) and `;
    return `${field} must be ${bound}${below ? 'below' : 'above'} the expected fill ${formatPrice(fill)} for a ${long ? 'long' : 'short'}${tail}`;
  };
  return check('stop_loss', edits.stop_loss, order.stop_loss, long) ?? check('take_profit', edits.take_profit, order.take_profit, !long);
}

/**
 * approve_order / reject_order, and the answer of a person asked through elicitation. An
 * approval may carry edits (ApprovalEdits): bad ones throw one sentence; edits the checks refuse
 * at current prices leave the order pending and unchanged (the result carries the rejections);
 * accepted ones change the order's row (its changes keep kind 'approval', before → after) and it
 * fills or rests at the new terms.
 */
export async function decideApproval(
  deps: Deps,
  auth: AuthContext,
  orderId: number,
  decision: 'approve' | 'reject',
  note: string | null,
  decidedBy: string,
  edits?: ApprovalEdits,
): Promise<OrderResult> {
  // Expiry commits on its own: a refusal below rolls its transaction back, and an expired
  // order must read as expired afterwards too.
  const modelId = await deps.sql.begin(async (tx) => {
    const id = await ownedOrderModel(tx, auth.userId, orderId);
    if (id !== null) await expirePending(tx, id);
    return id;
  });
  if (modelId === null) throw notFound('Order', orderId);
  return deps.sql.begin(async (tx) => {
    const model = await getOwnedModel(tx, auth.userId, modelId, true);
    await expirePending(tx, model.model_id);
    const order = await getOwnedOrderForUpdate(tx, auth.userId, orderId);
    if (order.status !== 'pending_approval') {
      throw new ToolError('NOT_PENDING', `Order ${orderId} is ${order.status}, not pending approval; nothing was changed.`);
    }
    if (decision === 'reject') {
      const rejection: Rejection = { source: 'gate', code: 'REJECTED_BY_APPROVER' as never, message: `Rejected by ${decidedBy}${note ? `: ${note}` : '.'}` };
      await setOrderStatus(tx, orderId, 'rejected', { rejections: [rejection], decided_by: decidedBy, decision_note: note });
      return resultFor(tx, deps, orderId, false, null);
    }
    const run = await getRunningRun(tx, model.model_id, true);
    if (!run || run.run_id !== order.run_id) {
      const rejection: Rejection = { source: 'gate', code: 'RUN_ENDED' as never, message: `Run ${order.run_id} has ended; the order can no longer fill.` };
      await setOrderStatus(tx, orderId, 'rejected', { rejections: [rejection], decided_by: decidedBy, decision_note: note });
      return resultFor(tx, deps, orderId, false, null);
    }
    // Checks run again on current prices: the approval is of the order, not of old numbers.
    const state = await loadOrderState(tx, deps, { ...model, require_approval: false }, run, order.symbol, { throttle: false });
    let terms: OrderRow = order;
    if (hasEdits(edits)) {
      const problem = approvalEditProblem(order, edits, decideOrder(state, order).estimate.price);
      if (problem) throw new ToolError('BAD_INPUT', problem);
      terms = { ...order, quantity: edits.quantity ?? order.quantity, stop_loss: edits.stop_loss ?? order.stop_loss, take_profit: edits.take_profit ?? order.take_profit };
    }
    const d = decideOrder(state, terms);
    if (d.tripped) await haltModel(tx, deps, model.model_id, d.tripped);
    if (d.status === 'rejected' && terms !== order) {
      // a refused edit: the order stays pending as it was
      return { ...(await resultFor(tx, deps, orderId, false, d.tripped)), rejections: d.rejections };
    }
    if (d.status === 'rejected') {
      await setOrderStatus(tx, orderId, 'rejected', { rejections: d.rejections, decided_by: decidedBy, decision_note: note });
      return resultFor(tx, deps, orderId, false, d.tripped);
    }
    if (terms !== order) {
      const view = (o: OrderRow) => ({ limit_price: o.limit_price, stop_price: o.stop_price, quantity: o.quantity, stop_loss: o.stop_loss, take_profit: o.take_profit });
      const change: OrderChange = { kind: 'approval', at: new Date().toISOString(), clock: state.clock.toISOString(), key_prefix: auth.keyPrefix, before: view(order), after: view(terms), reasoning: note };
      await tx`
        update orders set quantity = ${terms.quantity}, stop_loss = ${terms.stop_loss}, take_profit = ${terms.take_profit}, changes = changes || ${tx.json([change] as any)}
        where id = ${order.order_id}`;
    }
    await setOrderStatus(tx, orderId, d.status === 'filled' ? 'filled' : 'open', { decided_by: decidedBy, decision_note: note });
    if (d.fill && d.applied) {
      await persistFill(tx, run.run_id, terms, d.fill, d.applied, state.clock);
      if (d.haltReason) await haltModel(tx, deps, model.model_id, d.haltReason);
    }
    return resultFor(tx, deps, orderId, false, d.haltReason);
  });
}

/** An order's result as it stands now, for a call that answers about an order it did not just place (marked replayed). */
export function currentOrderResult(deps: Deps, auth: AuthContext, orderId: number): Promise<OrderResult> {
  return deps.sql.begin(async (tx) => {
    await getOwnedOrderForUpdate(tx, auth.userId, orderId);
    return resultFor(tx, deps, orderId, true, null);
  });
}

/** A resting order row as the clock and modifiedRequest read it. */
function restingOf(o: OrderRow): RestingOrder {
  return { ...o, triggered: o.triggered_at !== null };
}

/**
 * Why a modification does not fit the resting order, one phrase naming the field and what is
 * allowed, or null: limit_price for limit and stop-limit orders, stop_price for a stop entry
 * whose stop has not traded, quantity down only.
 */
function modificationProblem(o: OrderRow, req: { limit_price?: number; stop_price?: number; quantity?: number }): string | null {
  if (req.quantity !== undefined && req.quantity >= o.quantity) {
    return `quantity must be between 1 and ${o.quantity - 1} (down only from the order's ${o.quantity} shares)`;
  }
  if (req.limit_price !== undefined && o.order_type === 'stop') {
    return `limit_price is for limit and stop_limit orders; order ${o.order_id} is a stop order (change stop_price)`;
  }
  if (req.stop_price !== undefined && o.order_type !== 'stop' && o.order_type !== 'stop_limit') {
    return `stop_price is for stop and stop_limit orders; order ${o.order_id} is a ${o.order_type} order`;
  }
  if (req.stop_price !== undefined && o.triggered_at !== null) {
    return `stop_price can no longer change: order ${o.order_id}'s stop traded at ${o.triggered_at} and it rests as a limit (change limit_price)`;
  }
  return null;
}

/**
 * modify_order: a resting (open) order changes in place, re-judged by decideOrder at its new
 * terms on the locked account at the clock (as an approval is): refused, the order stays as
 * it was and the rejections are returned; marketable now, it fills; else it rests with the
 * new terms. A stop entry's new stop_price must rest on the far side of the market (BAD_STOP);
 * a stop-limit whose stop traded is judged as the limit it rests as. The row keeps the change
 * (orders.changes). Bad input throws one sentence.
 */
export async function modifyOrder(
  deps: Deps,
  auth: AuthContext,
  req: { order_id: number; limit_price?: number; stop_price?: number; quantity?: number; reasoning?: string },
): Promise<{ order: OrderRow; modified: boolean; rejections: Rejection[]; halted_reason: string | null }> {
  if (req.limit_price === undefined && req.quantity === undefined && req.stop_price === undefined) {
    throw new ToolError('BAD_INPUT', 'Give at least one of limit_price, stop_price or quantity (down only); nothing was changed.');
  }
  const modelId = await ownedOrderModel(deps.sql, auth.userId, req.order_id);
  if (modelId === null) throw notFound('Order', req.order_id);
  return deps.sql.begin(async (tx) => {
    const model = await getOwnedModel(tx, auth.userId, modelId, true);
    const order = await getOwnedOrderForUpdate(tx, auth.userId, req.order_id);
    if (order.status !== 'open') {
      throw new ToolError('NOT_OPEN', `Order ${req.order_id} is ${order.status}; only an open (resting) order can be modified; nothing was changed.`);
    }
    const problem = modificationProblem(order, req);
    if (problem) throw new ToolError('BAD_INPUT', `${problem}; nothing was changed.`);
    const run = await getRunningRun(tx, model.model_id, true);
    if (!run || run.run_id !== order.run_id) throw new ToolError('RUN_ENDED', `Run ${order.run_id} has ended; nothing was changed.`);
    const after = { limit_price: req.limit_price ?? order.limit_price, stop_price: req.stop_price ?? order.stop_price, quantity: req.quantity ?? order.quantity };
    const terms = { ...order, ...modifiedRequest(restingOf(order), after) };
    const state = await loadOrderState(tx, deps, { ...model, require_approval: false }, run, order.symbol, { throttle: false });
    const d = decideOrder(state, terms);
    if (d.tripped) await haltModel(tx, deps, model.model_id, d.tripped);
    if (d.status === 'rejected') return { order, modified: false, rejections: d.rejections, halted_reason: d.tripped };
    const change: OrderChange = {
      at: new Date().toISOString(),
      clock: state.clock.toISOString(),
      key_prefix: auth.keyPrefix,
      before: { limit_price: order.limit_price, stop_price: order.stop_price, quantity: order.quantity },
      after,
      reasoning: req.reasoning ?? null,
    };
    await tx`
      update orders set limit_price = ${after.limit_price}, stop_price = ${after.stop_price}, quantity = ${after.quantity}, changes = changes || ${tx.json([change] as any)}
      where id = ${order.order_id}`;
    if (d.fill && d.applied) {
      await persistFill(tx, run.run_id, terms, d.fill, d.applied, state.clock);
      if (d.haltReason) await haltModel(tx, deps, model.model_id, d.haltReason);
    }
    return { order: await getOrder(tx, order.order_id), modified: true, rejections: [], halted_reason: d.haltReason ?? d.tripped };
  });
}

export async function cancelOrder(deps: Deps, auth: AuthContext, orderId: number): Promise<OrderRow> {
  return deps.sql.begin(async (tx) => {
    const order = await getOwnedOrderForUpdate(tx, auth.userId, orderId);
    if (order.status !== 'open' && order.status !== 'pending_approval') {
      throw new ToolError('NOT_CANCELLABLE', `Order ${orderId} is ${order.status}; only open or pending orders can be cancelled.`);
    }
    await setOrderStatus(tx, orderId, 'cancelled', { decided_by: auth.keyPrefix });
    return getOrder(tx, orderId);
  });
}

function validateShape(req: OrderRequest): void {
  const type = req.order_type;
  if ((type === 'limit' || type === 'stop_limit') && req.limit_price === undefined) {
    throw new ToolError('BAD_ORDER', `A ${type} order needs limit_price (dollars per share).`);
  }
  if ((type === 'market' || type === 'stop') && req.limit_price !== undefined) {
    throw new ToolError('BAD_ORDER', 'limit_price is only for order_type limit or stop_limit.');
  }
  if ((type === 'stop' || type === 'stop_limit') && req.stop_price === undefined) {
    throw new ToolError('BAD_ORDER', `A ${type} order needs stop_price (the trigger, dollars per share).`);
  }
  if ((type === 'market' || type === 'limit') && req.stop_price !== undefined) {
    throw new ToolError('BAD_ORDER', 'stop_price is only for order_type stop or stop_limit (a bracket\'s exit is stop_loss).');
  }
  const bracket = planOf(req);
  if (Object.keys(bracket).length && (req.side === 'sell' || req.side === 'cover')) {
    throw new ToolError('BAD_ORDER', 'stop_loss, take_profit, take_profit_2, first_target_fraction, breakeven_after_first_target and trailing_stop_pct attach to opening orders (buy or short).');
  }
  const problem = bracketShapeProblem(req.side === 'buy', bracket);
  if (problem) throw new ToolError('BAD_ORDER', problem);
}
