// Orders, fills and positions: the rows one order transaction writes together.
import type { Q } from '../db/database.js';
import type { Rejection } from '../domain/gates.js';
import { centsToDecimal, toCents } from '../domain/money.js';
import type { BookedFill, OrderRecordFields, OrderRequestShape, OrderStatus } from '../domain/decide.js';
import type { ExitPlan, OrderBracket } from '../domain/exits.js';
import { notFound } from '../mcp/errors.js';
import { iso, num, numOrNull } from './rows.js';

/** The terms a change moves (stop_loss / take_profit: an approval's edit; stop_price null: not a stop entry, or a change kept before stop entries). */
export interface OrderTerms {
  limit_price: number | null;
  stop_price: number | null;
  quantity: number;
  stop_loss?: number | null;
  take_profit?: number | null;
}

/**
 * One change of an order's terms, as the order row keeps it (changes, oldest first). Times UTC
 * ISO. kind: absent for modify_order; 'downsize' when placing cut it (downsize: true; before
 * holds the quantity asked); 'approval' when the approver's edits changed it.
 */
export interface OrderChange {
  kind?: 'downsize' | 'approval';
  /** Wall clock. */
  at: string;
  /** Run clock. */
  clock: string;
  key_prefix: string;
  before: OrderTerms;
  after: OrderTerms;
  reasoning: string | null;
}

/** Terms as stored, with the fields an older row lacks as null. */
const terms = (t: Partial<OrderTerms> & { quantity: number }): OrderTerms => ({ ...t, limit_price: t.limit_price ?? null, stop_price: t.stop_price ?? null });

/** An order row with its fill (dollars), as the order tools return it. Times UTC ISO. */
export interface OrderRow extends OrderRecordFields {
  /** null: refused while the model had no running run. */
  run_id: number | null;
  model_id: number;
  client_order_id: string | null;
  reasoning: string | null;
  source: string;
  expires_at: string | null;
  decision_note: string | null;
  take_profit_2: number | null;
  first_target_fraction: number | null;
  breakeven_after_first_target: boolean;
  trailing_stop_pct: number | null;
  /** modify_order's history, oldest first. */
  changes: OrderChange[];
  /** When a stop entry's stop traded (UTC ISO); null: not yet, or not a stop entry. */
  triggered_at: string | null;
  fill: { price: number; commission: number; slippage: number; cash_change: number; realized_pnl: number; clock: string } | null;
}

// A pending approval past expires_at reads as expired everywhere, even before a write marks it.
const EFFECTIVE_STATUS = (sql: Q) =>
  sql`(case when o.status = 'pending_approval' and o.expires_at <= clock_timestamp() then 'expired' else o.status end)`;

/** Why a pending approval expired (its row's decision_note), from its expires_at. */
const APPROVAL_TIMED_OUT = (sql: Q, o: string) =>
  sql`'Approval timed out: nobody approved or rejected it by ' || to_char(${sql.unsafe(o)}.expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '.'`;

const ORDER_SELECT = (sql: Q) => sql`
  select o.*, ${EFFECTIVE_STATUS(sql)} as effective_status,
         (case when o.status = 'pending_approval' and o.expires_at <= clock_timestamp() then ${APPROVAL_TIMED_OUT(sql, 'o')} else o.decision_note end) as effective_note, f.price as f_price, f.commission as f_commission, f.slippage as f_slippage,
         f.cash_change as f_cash_change, f.realized_pnl as f_realized, f.clock as f_clock
  from orders o left join fills f on f.order_id = o.id`;

function toOrder(r: Record<string, any>): OrderRow {
  return {
    order_id: r.id,
    run_id: r.run_id,
    model_id: r.model_id,
    client_order_id: r.client_order_id ?? null,
    side: r.side,
    symbol: r.symbol,
    quantity: r.quantity,
    order_type: r.order_type,
    limit_price: numOrNull(r.limit_price),
    stop_price: numOrNull(r.stop_price),
    triggered_at: iso(r.triggered_at),
    stop_loss: numOrNull(r.stop_loss),
    take_profit: numOrNull(r.take_profit),
    ...bracketFromRow(r),
    changes: ((r.changes ?? []) as OrderChange[]).map((c) => ({ ...c, before: terms(c.before), after: terms(c.after) })),
    status: r.effective_status ?? r.status,
    rejections: r.rejections ?? [],
    reasoning: r.reasoning ?? null,
    source: r.source,
    clock: iso(r.clock)!,
    created_at: iso(r.created_at)!,
    expires_at: iso(r.expires_at),
    decided_by: r.decided_by ?? null,
    decision_note: r.effective_note ?? r.decision_note ?? null,
    fill:
      r.f_price === null || r.f_price === undefined
        ? null
        : {
            price: num(r.f_price),
            commission: num(r.f_commission),
            slippage: num(r.f_slippage),
            cash_change: num(r.f_cash_change),
            realized_pnl: num(r.f_realized),
            clock: iso(r.f_clock)!,
          },
  };
}

/** The bracket columns of an order row beyond stop_loss and take_profit (migration 017). */
export function bracketFromRow(r: Record<string, any>) {
  return {
    take_profit_2: numOrNull(r.take_profit_2),
    first_target_fraction: numOrNull(r.first_target_fraction),
    breakeven_after_first_target: r.breakeven_after_first_target === true,
    trailing_stop_pct: numOrNull(r.trailing_stop_pct),
  };
}

export interface NewOrder extends OrderRequestShape {
  run_id: number | null;
  model_id: number;
  client_order_id?: string | null;
  status: OrderStatus;
  rejections: Rejection[];
  reasoning?: string | null;
  source?: string;
  clock: Date;
  key_prefix?: string | null;
  expires_at?: Date | null;
  /** close_position's order: a close of the whole position. */
  closes_position?: boolean;
  /** Changes made as it was placed (a downsize). */
  changes?: OrderChange[];
}

export async function insertOrder(sql: Q, o: NewOrder): Promise<number> {
  const [row] = await sql`
    insert into orders ${sql({
      run_id: o.run_id,
      model_id: o.model_id,
      client_order_id: o.client_order_id ?? null,
      side: o.side,
      symbol: o.symbol,
      quantity: o.quantity,
      order_type: o.order_type,
      limit_price: o.limit_price ?? null,
      stop_price: o.stop_price ?? null,
      stop_loss: o.stop_loss ?? null,
      take_profit: o.take_profit ?? null,
      status: o.status,
      rejections: o.rejections as any,
      reasoning: o.reasoning ?? null,
      source: o.source ?? 'agent',
      clock: o.clock,
      key_prefix: o.key_prefix ?? null,
      expires_at: o.expires_at ?? null,
    } as Record<string, any>)}
    returning id`;
  return row!.id as number;
}

export async function getOrder(sql: Q, orderId: number): Promise<OrderRow> {
  const [row] = await sql`${ORDER_SELECT(sql)} where o.id = ${orderId}`;
  if (!row) throw notFound('Order', orderId);
  return toOrder(row);
}

/** The caller's order, locked; another user's order is reported as missing. */
export async function getOwnedOrderForUpdate(sql: Q, userId: number, orderId: number): Promise<OrderRow> {
  const [row] = await sql`
    select o.id from orders o join models m on m.id = o.model_id
    where o.id = ${orderId} and m.user_id = ${userId} for update of o`;
  if (!row) throw notFound('Order', orderId);
  return getOrder(sql, orderId);
}

export async function findByClientOrderId(sql: Q, modelId: number, clientOrderId: string): Promise<OrderRow | null> {
  const [row] = await sql`${ORDER_SELECT(sql)} where o.model_id = ${modelId} and o.client_order_id = ${clientOrderId}`;
  return row ? toOrder(row) : null;
}

export async function setOrderStatus(
  sql: Q,
  orderId: number,
  status: OrderStatus,
  extra: { rejections?: Rejection[]; decided_by?: string; decision_note?: string | null } = {},
): Promise<void> {
  await sql`
    update orders set status = ${status},
      rejections = coalesce(${extra.rejections ? (extra.rejections as any) : null}::jsonb, rejections),
      decided_by = coalesce(${extra.decided_by ?? null}, decided_by),
      decided_at = case when ${extra.decided_by ?? null}::text is null then decided_at else now() end,
      decision_note = coalesce(${extra.decision_note ?? null}, decision_note)
    where id = ${orderId}`;
}

/** Orders ascending by id after `afterId` (the paging convention of shared/mcp/paging.ts), at most `limit`. */
export async function listOrders(
  sql: Q,
  filter: { userId: number; modelId?: number; runId?: number; status?: OrderStatus; limit: number; afterId?: number },
) {
  const rows = await sql`
    ${ORDER_SELECT(sql)} join models m on m.id = o.model_id
    where m.user_id = ${filter.userId}
      ${filter.modelId ? sql`and o.model_id = ${filter.modelId}` : sql``}
      ${filter.runId ? sql`and o.run_id = ${filter.runId}` : sql``}
      ${filter.status ? sql`and ${EFFECTIVE_STATUS(sql)} = ${filter.status}` : sql``}
      ${filter.afterId ? sql`and o.id > ${filter.afterId}` : sql``}
    order by o.id limit ${filter.limit}`;
  return rows.map(toOrder);
}

/**
 * Orders the agent placed for this model in the last minute of wall time (the throttle).
 * The throttle's own refusals do not count: a caller retrying faster than the limit still
 * gets the limit's worth of orders through each minute instead of being locked out for good.
 * On now() (the transaction's start, stable) so the index orders_agent_recent serves it
 * (migration 018): its cost does not grow with the model's history.
 */
export async function ordersLastMinute(sql: Q, modelId: number): Promise<number> {
  const [r] = await sql`
    select count(*)::int as n from orders
    where model_id = ${modelId} and source = 'agent' and created_at > now() - interval '1 minute'
      and not (rejections @> '[{"code": "RATE_LIMITED"}]'::jsonb)`;
  return r!.n as number;
}

/** Pending approvals past their time become expired; returns how many. */
export async function expirePending(sql: Q, modelId: number): Promise<number> {
  return (await expirePendingStatement(sql, modelId)).length;
}

/** expirePending's statement, returning the expired ids: also a CTE of a read that must not see them pending. */
export function expirePendingStatement(sql: Q, modelId: number) {
  return sql`
    update orders set status = 'expired', decided_at = now(), decided_by = 'expiry', decision_note = ${APPROVAL_TIMED_OUT(sql, 'orders')}
    where model_id = ${modelId} and status = 'pending_approval' and expires_at <= clock_timestamp()
    returning id`;
}

export async function openOrders(sql: Q, runId: number): Promise<OrderRow[]> {
  const rows = await sql`${ORDER_SELECT(sql)} where o.run_id = ${runId} and o.status = 'open' order by o.id`;
  return rows.map(toOrder);
}

export async function countPending(sql: Q, modelId: number): Promise<number> {
  const [r] = await sql`
    select count(*)::int as n from orders
    where model_id = ${modelId} and status = 'pending_approval' and (expires_at is null or expires_at > clock_timestamp())`;
  return r!.n as number;
}

export interface FillWrite extends BookedFill {
  order_id: number;
  run_id: number;
  clock: Date;
}

export async function insertFill(sql: Q, f: FillWrite): Promise<void> {
  await sql`
    insert into fills (order_id, run_id, symbol, side, quantity, price, commission, slippage, cash_change, realized_pnl, clock)
    values (${f.order_id}, ${f.run_id}, ${f.symbol}, ${f.side}, ${f.quantity}, ${f.price}, ${centsToDecimal(f.commissionCents)},
            ${f.slippagePerShare}, ${centsToDecimal(f.cashChangeCents)}, ${centsToDecimal(f.realizedCents)}, ${f.clock})`;
}

export async function setAccount(sql: Q, runId: number, cashCents: number, realizedCents: number): Promise<void> {
  await sql`update runs set cash = ${centsToDecimal(cashCents)}, realized_pnl = ${centsToDecimal(realizedCents)} where id = ${runId}`;
}

/**
 * The position after a fill (null: flat, the row goes). `exits`: the bracket of an opening
 * order; each field given replaces the position's, the rest stay (exits.ts mergePlan).
 */
export async function writePosition(
  sql: Q,
  runId: number,
  symbol: string,
  position: { quantity: number; costCents: number; avgCost: number } | null,
  clock: Date,
  exits: OrderBracket = {},
): Promise<void> {
  if (!position) {
    await sql`delete from positions where run_id = ${runId} and symbol = ${symbol}`;
    return;
  }
  await sql`
    insert into positions (run_id, symbol, quantity, cost_basis, avg_cost, opened_at, stop_price, target_price,
                           target_price_2, first_target_fraction, breakeven_after_first_target, trailing_stop_pct)
    values (${runId}, ${symbol}, ${position.quantity}, ${centsToDecimal(position.costCents)}, ${position.avgCost}, ${clock},
            ${exits.stop_loss ?? null}, ${exits.take_profit ?? null}, ${exits.take_profit_2 ?? null},
            ${exits.first_target_fraction ?? null}, ${exits.breakeven_after_first_target === true}, ${exits.trailing_stop_pct ?? null})
    on conflict (run_id, symbol) do update set
      quantity = excluded.quantity,
      cost_basis = excluded.cost_basis,
      avg_cost = excluded.avg_cost,
      stop_price = coalesce(excluded.stop_price, positions.stop_price),
      target_price = coalesce(excluded.target_price, positions.target_price),
      target_price_2 = coalesce(excluded.target_price_2, positions.target_price_2),
      first_target_fraction = coalesce(excluded.first_target_fraction, positions.first_target_fraction),
      breakeven_after_first_target = excluded.breakeven_after_first_target or positions.breakeven_after_first_target,
      trailing_stop_pct = coalesce(excluded.trailing_stop_pct, positions.trailing_stop_pct)`;
}

/** The whole exit plan of a held position (set_exits, a first target that filled). */
export async function setPositionPlan(sql: Q, runId: number, symbol: string, plan: ExitPlan): Promise<void> {
  await sql`
    update positions set stop_price = ${plan.stop}, target_price = ${plan.target}, target_price_2 = ${plan.target2},
      first_target_fraction = ${plan.firstTargetFraction}, breakeven_after_first_target = ${plan.breakeven},
      trailing_stop_pct = ${plan.trailingPct}, first_target_filled = ${plan.firstTargetFilled}
    where run_id = ${runId} and symbol = ${symbol}`;
}

/** A position row's exit plan (stop_price … first_target_filled, migrations 003 and 017). */
export function planFromRow(r: Record<string, any>): ExitPlan {
  return {
    stop: numOrNull(r.stop_price),
    target: numOrNull(r.target_price),
    target2: numOrNull(r.target_price_2),
    firstTargetFraction: numOrNull(r.first_target_fraction),
    breakeven: r.breakeven_after_first_target === true,
    trailingPct: numOrNull(r.trailing_stop_pct),
    firstTargetFilled: r.first_target_filled === true,
  };
}

/** One position of a run with its exact cost basis, or null when flat. */
export async function readPosition(sql: Q, runId: number, symbol: string): Promise<{ quantity: number; costCents: number; avgCost: number } | null> {
  const [r] = await sql`select quantity, avg_cost, cost_basis from positions where run_id = ${runId} and symbol = ${symbol}`;
  return r && r.quantity !== 0 ? { quantity: r.quantity, costCents: toCents(r.cost_basis), avgCost: num(r.avg_cost) } : null;
}

/** The model of an order the user owns, or null (another user's order is missing). */
export async function ownedOrderModel(sql: Q, userId: number, orderId: number): Promise<number | null> {
  const [r] = await sql`select o.model_id from orders o join models m on m.id = o.model_id where o.id = ${orderId} and m.user_id = ${userId}`;
  return r ? (r.model_id as number) : null;
}

/** A stop entry's stop traded at `at` (run clock). */
export async function setOrderTriggered(sql: Q, orderId: number, at: Date): Promise<void> {
  await sql`update orders set triggered_at = ${at} where id = ${orderId} and triggered_at is null`;
}

export async function setWaterMarks(sql: Q, runId: number, symbol: string, high: number | null, low: number | null): Promise<void> {
  await sql`update positions set high_water = ${high}, low_water = ${low} where run_id = ${runId} and symbol = ${symbol}`;
}

/** The exit plan of each held position of a run, by symbol. */
export async function positionPlans(sql: Q, runId: number): Promise<Map<string, ExitPlan>> {
  const rows = await sql`select * from positions where run_id = ${runId}`;
  return new Map(rows.map((r) => [r.symbol as string, planFromRow(r)]));
}

/**
 * Fills of the run on the New York day `day` (an SQL date), from the run's own counters
 * (runs.trades_day, runs.trades_on_day, kept by a trigger on fills: migration 018) so the
 * rules' max_trades_per_day reads one row, not the run's fills. Use where the runs row is
 * in scope as `t` or `d`: `prefix` names it.
 */
export const TRADES_TODAY = (sql: Q, day: ReturnType<Q['unsafe']>, prefix = 'd') =>
  sql`(case when ${sql.unsafe(prefix)}.trades_day = ${day} then ${sql.unsafe(prefix)}.trades_on_day else 0 end)`;

export async function setModelState(sql: Q, modelId: number, state: 'active' | 'reducing' | 'halted', reason: string | null, locked: boolean): Promise<void> {
  await sql`update models set state = ${state}, state_reason = ${reason}, state_locked = ${locked}, updated_at = now() where id = ${modelId}`;
}

export async function modelStateLocked(sql: Q, modelId: number): Promise<boolean> {
  const [r] = await sql`select state_locked from models where id = ${modelId}`;
  return r?.state_locked === true;
}
