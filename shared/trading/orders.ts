// The order path: one order is one transaction. The model row is locked first (so two
// orders of one model, or two calls with one client_order_id, run one after the other),
// then the run's account row; gates and rules are evaluated on that locked state, and
// the order, fill, position, cash and reasoning are written together or not at all.
import type { AuthContext } from '../auth/keys.js';
import type { Tx } from '../db/database.js';
import { isMarketOpen, checkOrder, drawdownBreach, type Rejection } from '../domain/gates.js';
import { boundedByLimit, commissionCents, fillPrice, limitMarketable } from '../domain/fills.js';
import { applyFill } from '../domain/ledger.js';
import { fromCents, notionalCents, toCents } from '../domain/money.js';
import { lossLimitBreaches, portfolioValueCents } from '../domain/rules/engine.js';
import type { PortfolioSnapshot, RuleRecord, Side } from '../domain/types.js';
import type { Deps } from '../deps.js';
import { notFound, ToolError } from '../mcp/errors.js';
import { getOwnedModel, type Model } from '../store/models.js';
import {
  expirePending,
  findByClientOrderId,
  getOrder,
  getOwnedOrderForUpdate,
  insertFill,
  insertOrder,
  ownedOrderModel,
  readPosition,
  ordersLastMinute,
  setAccount,
  setModelState,
  setOrderStatus,
  writePosition,
  type OrderRow,
} from '../store/orders.js';
import { loadPortfolioSnapshot } from '../store/portfolio-snapshot.js';
import { loadActiveRules } from '../store/rules.js';
import { getRunningRun, readAccount, startRun, type RunRow } from '../store/runs.js';
import { logReasoning } from '../store/runs.js';
import { recordBreakerThreats } from '../store/threats.js';

export const APPROVAL_MINUTES = 15;

export interface OrderRequest {
  model_id: number;
  side: Side;
  symbol: string;
  quantity: number;
  order_type: 'market' | 'limit';
  limit_price?: number;
  stop_loss?: number;
  take_profit?: number;
  reasoning?: string;
  client_order_id?: string;
}

export interface OrderResult {
  order_id: number;
  status: OrderRow['status'];
  side: Side;
  symbol: string;
  quantity: number;
  order_type: 'market' | 'limit';
  limit_price: number | null;
  fill_price: number | null;
  commission: number | null;
  slippage: number | null;
  rejections: Rejection[];
  portfolio_after: { cash: number; position_quantity: number; total_value: number };
  run_id: number;
  clock: string;
  /** True when a client_order_id seen before returned the first result. */
  replayed: boolean;
  /** Set when the order tripped a circuit breaker and the model is now halted. */
  halted_reason: string | null;
}

/** Everything a check needs, read on the locked account at the clock. */
interface Evaluation {
  clock: Date;
  snapshot: PortfolioSnapshot;
  rules: RuleRecord[];
  marketPrice: number | null;
  /** Estimated fill price (slippage included), or the limit for a resting limit. */
  price: number;
  slippagePerShare: number;
  commissionCents: number;
  marketable: boolean;
  rejections: Rejection[];
  /** A circuit breaker the account had already reached before this order: the model halts. */
  tripped: string | null;
}

function runClock(run: RunRow): Date {
  return run.kind === 'replay' ? new Date(run.clock) : new Date();
}

async function evaluate(
  tx: Tx,
  deps: Deps,
  model: Model,
  run: RunRow,
  req: Pick<OrderRequest, 'side' | 'symbol' | 'quantity' | 'order_type' | 'limit_price'>,
  opts: { throttle: boolean },
): Promise<Evaluation> {
  const clock = runClock(run);
  const quote = await deps.market.priceAt(req.symbol, clock, tx);
  const known = quote !== null || (await deps.market.isKnown(req.symbol, tx));
  const snapshot = await loadPortfolioSnapshot(tx, run, run.initial_cash, deps.market, clock);
  const rules = await loadActiveRules(tx, model.model_id);
  // Prices move between clock steps (a live run has none): a breaker already reached halts
  // the model before this order is judged, so no order fills past it.
  const tripped = model.state === 'halted' ? null : breakerReason(snapshot, rules, model.max_drawdown_halt_pct);
  const gated = tripped ? { ...model, state: 'halted' as const, state_reason: breakerText(tripped) } : model;
  const commission = commissionCents(req.quantity, model.commission_per_share);
  let price = req.limit_price ?? 0;
  let slippagePerShare = 0;
  let marketable = req.order_type === 'market';
  if (quote) {
    const est = fillPrice(req.side, quote.price, model.slippage_bps);
    if (req.order_type === 'market') {
      price = est.price;
      slippagePerShare = est.slippagePerShare;
    } else {
      marketable = limitMarketable(req.side, req.limit_price!, quote.price);
      price = marketable ? boundedByLimit(req.side, est.price, req.limit_price!) : req.limit_price!;
      slippagePerShare = marketable ? Math.abs(price - quote.price) : 0;
    }
  }
  const check = checkOrder({
    order: { side: req.side, symbol: req.symbol, quantity: req.quantity, price },
    orderType: req.order_type,
    model: gated,
    portfolio: snapshot,
    rules,
    commissionCents: commission,
    symbolKnown: known,
    priced: quote !== null,
    marketOpen: isMarketOpen(clock, run.session),
    ordersLastMinute: opts.throttle ? await ordersLastMinute(tx, model.model_id) : 0,
    maxOrdersPerMinute: model.max_orders_per_minute,
    clock,
  });
  return {
    clock,
    snapshot,
    rules,
    marketPrice: quote?.price ?? null,
    price,
    slippagePerShare,
    commissionCents: commission,
    marketable,
    rejections: check.rejections,
    tripped,
  };
}

/** What an evaluated order becomes: the one decision placeOrder acts on and preview reports. */
function statusFor(ev: Evaluation, model: Model): OrderRow['status'] {
  if (ev.rejections.length) return 'rejected';
  if (model.execution_mode === 'validation') return 'validated';
  if (model.require_approval) return 'pending_approval';
  return ev.marketable ? 'filled' : 'open';
}

/** The model's running run, or a new live run when there is none (CONTRACT §1). */
async function runFor(tx: Tx, auth: AuthContext, model: Model): Promise<RunRow> {
  return (await getRunningRun(tx, model.model_id, true)) ?? startRun(tx, auth.userId, model.model_id, { kind: 'live' });
}

export interface FillDone {
  price: number;
  commissionCents: number;
  slippagePerShare: number;
}

/** Applies one fill to the run's account: cash, realized P&L, position, fill row, order status. */
export async function executeFill(
  tx: Tx,
  run: { run_id: number },
  order: { order_id: number; side: Side; symbol: string; quantity: number; stop_loss?: number | null; take_profit?: number | null },
  fill: FillDone,
  clock: Date,
): Promise<void> {
  const acct = await readAccount(tx, run.run_id);
  const applied = applyFill(
    { cashCents: toCents(acct.cash), realizedPnlCents: toCents(acct.realized_pnl) },
    await readPosition(tx, run.run_id, order.symbol),
    { side: order.side, quantity: order.quantity, price: fill.price, commissionCents: fill.commissionCents },
  );
  await setAccount(tx, run.run_id, applied.cashCents, applied.realizedPnlCents);
  const opening = order.side === 'buy' || order.side === 'short';
  await writePosition(tx, run.run_id, order.symbol, applied.position, clock, opening ? { stop_price: order.stop_loss, target_price: order.take_profit } : {});
  await insertFill(tx, {
    order_id: order.order_id,
    run_id: run.run_id,
    symbol: order.symbol,
    side: order.side,
    quantity: order.quantity,
    price: fill.price,
    commissionCents: fill.commissionCents,
    slippagePerShare: fill.slippagePerShare,
    cashChangeCents: applied.cashChangeCents,
    realizedCents: applied.realizedCents,
    clock,
  });
  await setOrderStatus(tx, order.order_id, 'filled');
}

/**
 * Circuit breakers after the account changed: the model's max_drawdown_halt_pct and the
 * rules' loss limits halt the model (locked: only an `approve` key resumes it).
 */
export async function checkBreakers(tx: Tx, deps: Deps, model: Model, run: { run_id: number }, clock: Date, rules: RuleRecord[]): Promise<string | null> {
  if (model.state === 'halted') return null;
  const reason = breakerReason(await accountSnapshot(tx, deps, run.run_id, clock), rules, model.max_drawdown_halt_pct);
  if (reason) await haltByBreaker(tx, deps, model.model_id, reason);
  return reason;
}

/** The first circuit breaker the account has reached, or null. */
function breakerReason(snapshot: PortfolioSnapshot, rules: RuleRecord[], maxDrawdownHaltPct: number): string | null {
  return drawdownBreach(portfolioValueCents(snapshot), snapshot.peakValueCents, maxDrawdownHaltPct) ?? lossLimitBreaches(snapshot, rules)[0]?.message ?? null;
}

const breakerText = (reason: string) => `Circuit breaker: ${reason}`;

/** Locked: only a key with `approve` resumes the model. */
async function haltByBreaker(tx: Tx, deps: Deps, modelId: number, reason: string): Promise<void> {
  await setModelState(tx, modelId, 'halted', breakerText(reason), true);
  await recordBreakerThreats(tx, deps.market, modelId, breakerText(reason));
}

/** The rules' view of a run's account at `clock`, read on the current (locked) rows. */
export async function accountSnapshot(tx: Tx, deps: Deps, runId: number, clock: Date): Promise<PortfolioSnapshot> {
  const acct = await readAccount(tx, runId);
  return loadPortfolioSnapshot(tx, acct, acct.initial_cash, deps.market, clock);
}

async function resultFor(tx: Tx, deps: Deps, orderId: number, replayed: boolean, haltedReason: string | null): Promise<OrderResult> {
  const order = await getOrder(tx, orderId);
  const acct = await readAccount(tx, order.run_id);
  const pos = await readPosition(tx, order.run_id, order.symbol);
  const snapshot = await accountSnapshot(tx, deps, order.run_id, acct.clock);
  return {
    order_id: order.order_id,
    status: order.status,
    side: order.side,
    symbol: order.symbol,
    quantity: order.quantity,
    order_type: order.order_type,
    limit_price: order.limit_price,
    fill_price: order.fill?.price ?? null,
    commission: order.fill?.commission ?? null,
    slippage: order.fill?.slippage ?? null,
    rejections: order.rejections,
    portfolio_after: { cash: acct.cash, position_quantity: pos?.quantity ?? 0, total_value: fromCents(portfolioValueCents(snapshot)) },
    run_id: order.run_id,
    clock: order.clock,
    replayed,
    halted_reason: haltedReason,
  };
}

/**
 * A provider fetch (Polygon) must not happen while the order's transaction holds the
 * embedded database's one connection: read the price once before, so the transaction
 * finds the bars stored.
 */
async function prefetch(deps: Deps, auth: AuthContext, req: Pick<OrderRequest, 'model_id' | 'symbol'>): Promise<void> {
  if (!deps.market.fetches) return;
  await getOwnedModel(deps.sql, auth.userId, req.model_id);
  const run = await getRunningRun(deps.sql, req.model_id);
  await deps.market.priceAt(req.symbol, run ? runClock(run) : new Date()).catch(() => null);
}

/** buy / sell / short / cover. */
export async function placeOrder(deps: Deps, auth: AuthContext, req: OrderRequest): Promise<OrderResult> {
  validateShape(req);
  await prefetch(deps, auth, req);
  return deps.sql.begin(async (tx) => {
    const model = await getOwnedModel(tx, auth.userId, req.model_id, true);
    if (req.client_order_id) {
      const seen = await findByClientOrderId(tx, model.model_id, req.client_order_id);
      if (seen) return resultFor(tx, deps, seen.order_id, true, null);
    }
    await expirePending(tx, model.model_id);
    const run = await runFor(tx, auth, model);
    const ev = await evaluate(tx, deps, model, run, req, { throttle: true });
    const base = { ...req, run_id: run.run_id, clock: ev.clock, key_prefix: auth.keyPrefix };
    let haltedReason: string | null = ev.tripped;
    if (ev.tripped) await haltByBreaker(tx, deps, model.model_id, ev.tripped);
    const status = statusFor(ev, model);
    const expires = status === 'pending_approval' ? new Date(Date.now() + APPROVAL_MINUTES * 60_000) : null;
    const orderId = await insertOrder(tx, { ...base, status, rejections: ev.rejections, expires_at: expires });
    if (status === 'filled') {
      await executeFill(tx, run, { ...base, order_id: orderId }, ev, ev.clock);
      haltedReason = await checkBreakers(tx, deps, model, run, ev.clock, ev.rules);
    }
    if (req.reasoning) {
      await logReasoning(tx, run.run_id, 'decision', req.reasoning, { order_id: orderId, side: req.side, symbol: req.symbol, quantity: req.quantity }, ev.clock);
    }
    return resultFor(tx, deps, orderId, false, haltedReason);
  });
}

export interface Preview {
  would_fill: boolean;
  status_if_placed: OrderRow['status'];
  rejections: Rejection[];
  estimated_price: number | null;
  estimated_cost: number | null;
  commission: number;
  portfolio_after: { cash: number; position_quantity: number; total_value: number } | null;
  clock: string;
}

/** Every check of a real order, on the same state, writing nothing. */
export async function previewOrder(deps: Deps, auth: AuthContext, req: OrderRequest): Promise<Preview> {
  validateShape(req);
  await prefetch(deps, auth, req);
  // Rolled back at the end: a preview never writes, not even a new live run.
  const rollback = new Error('preview rollback');
  let preview: Preview | undefined;
  await deps.sql
    .begin(async (tx) => {
      const model = await getOwnedModel(tx, auth.userId, req.model_id, true);
      const run = await runFor(tx, auth, model);
      const ev = await evaluate(tx, deps, model, run, req, { throttle: true });
      const status = statusFor(ev, model);
      const pass = status !== 'rejected';
      let after: Preview['portfolio_after'] = null;
      if (pass && ev.marketPrice !== null) {
        const held = await readPosition(tx, run.run_id, req.symbol);
        const applied = applyFill({ cashCents: ev.snapshot.cashCents, realizedPnlCents: 0 }, held, {
          side: req.side,
          quantity: req.quantity,
          price: ev.price,
          commissionCents: ev.commissionCents,
        });
        const positions = ev.snapshot.positions.filter((p) => p.symbol !== req.symbol);
        if (applied.position) positions.push({ symbol: req.symbol, quantity: applied.position.quantity, avgCost: applied.position.avgCost, price: ev.marketPrice });
        after = {
          cash: fromCents(applied.cashCents),
          position_quantity: applied.position?.quantity ?? 0,
          total_value: fromCents(portfolioValueCents({ cashCents: applied.cashCents, positions })),
        };
      }
      preview = {
        would_fill: status === 'filled',
        status_if_placed: status,
        rejections: ev.rejections,
        estimated_price: ev.marketPrice === null ? null : ev.price,
        estimated_cost: ev.marketPrice === null ? null : fromCents(notionalCents(req.quantity, ev.price)),
        commission: fromCents(ev.commissionCents),
        portfolio_after: after,
        clock: ev.clock.toISOString(),
      };
      throw rollback;
    })
    .catch((err) => {
      if (err !== rollback) throw err;
    });
  return preview!;
}

/** approve_order / reject_order, and the answer of a person asked through elicitation. */
export async function decideOrder(
  deps: Deps,
  auth: AuthContext,
  orderId: number,
  decision: 'approve' | 'reject',
  note: string | null,
  decidedBy: string,
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
    const ev = await evaluate(tx, deps, model, run, { ...order, limit_price: order.limit_price ?? undefined }, { throttle: false });
    if (ev.tripped) await haltByBreaker(tx, deps, model.model_id, ev.tripped);
    if (ev.rejections.length) {
      await setOrderStatus(tx, orderId, 'rejected', { rejections: ev.rejections, decided_by: decidedBy, decision_note: note });
      return resultFor(tx, deps, orderId, false, ev.tripped);
    }
    await setOrderStatus(tx, orderId, ev.marketable ? 'filled' : 'open', { decided_by: decidedBy, decision_note: note });
    let halted: string | null = null;
    if (ev.marketable) {
      await executeFill(tx, run, order, ev, ev.clock);
      halted = await checkBreakers(tx, deps, model, run, ev.clock, ev.rules);
    }
    return resultFor(tx, deps, orderId, false, halted);
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
  if (req.order_type === 'limit' && req.limit_price === undefined) {
    throw new ToolError('BAD_ORDER', 'A limit order needs limit_price.');
  }
  if (req.order_type === 'market' && req.limit_price !== undefined) {
    throw new ToolError('BAD_ORDER', 'limit_price is only for order_type limit.');
  }
  if ((req.stop_loss !== undefined || req.take_profit !== undefined) && (req.side === 'sell' || req.side === 'cover')) {
    throw new ToolError('BAD_ORDER', 'stop_loss and take_profit attach to opening orders (buy or short).');
  }
}
