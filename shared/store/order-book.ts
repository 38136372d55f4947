// The order path's two trips to the database. Read: the model row locked, then everything
// the decision reads (pending expiry, a client_order_id seen before, the running run locked,
// active rules, positions, day-start value and the run's trade counters, the throttle count), sent
// pipelined in one round trip. The lock is its own statement, first: in READ COMMITTED each
// later statement takes its snapshot after the lock is granted, so it sees what the order
// before it committed (one statement with CTEs would read the old snapshot). Write: the
// order, its fill and reasoning in one statement, with the account, the position and a
// halt, pipelined in one round trip.
import { settleAll, type Tx } from '../db/database.js';
import { centsToDecimal, toCents } from '../domain/money.js';
import type { RuleRecord } from '../domain/types.js';
import { getOwnedModel, type Model } from './models.js';
import { expirePending, findByClientOrderId, ordersLastMinute, TRADES_TODAY, type NewOrder, type OrderRow } from './orders.js';
import { iso, num } from './rows.js';
import { getRunningRun, type RunRow } from './runs.js';
import { loadActiveRules } from './rules.js';

export interface OrderBook {
  model: Model;
  /** The running run, locked; null when the model has none. */
  run: RunRow | null;
  /** The order placed before with the same client_order_id, if any. */
  seen: OrderRow | null;
  rules: RuleRecord[];
  /** The running run's open positions (quantity ≠ 0), by symbol. */
  positions: { symbol: string; quantity: number; avgCost: number; costCents: number }[];
  /** Account value at the start of the clock's New York day (cents), null before the first mark. */
  dayStartValueCents: number | null;
  tradesToday: number;
  tradesInRun: number;
  /** Losing round trips in a row and the run clock of the latest (migration 023). */
  lossStreak: number;
  lastLossAt: string | null;
  /** Agent orders of the model in the last minute of wall time (0 when not asked). */
  ordersLastMinute: number;
}

/**
 * One round trip: the model locked (another user's model is not found), then the rest
 * pipelined. The run's clock is a replay run's stored clock or, for a live run, the
 * database's clock_timestamp(); the New York day is cut in SQL (America/New_York), as
 * nyToUtc(nyLocal(clock).date, '00:00') cuts it in loadPortfolioSnapshot.
 */
export async function readOrderBook(
  tx: Tx,
  userId: number,
  modelId: number,
  opts: { clientOrderId?: string; throttle: boolean; expire: boolean },
): Promise<OrderBook> {
  // Issued without awaiting in between: postgres.js sends them in one write.
  const model = getOwnedModel(tx, userId, modelId, true);
  const expired = opts.expire ? expirePending(tx, modelId) : Promise.resolve(0);
  const seen = opts.clientOrderId ? findByClientOrderId(tx, modelId, opts.clientOrderId) : Promise.resolve(null);
  const run = getRunningRun(tx, modelId, true);
  const rules = loadActiveRules(tx, modelId);
  const positions = tx`
    select p.symbol, p.quantity, p.avg_cost, p.cost_basis
    from positions p join runs r on r.id = p.run_id
    where r.model_id = ${modelId} and r.status = 'running' and p.quantity <> 0
    order by p.symbol`;
  const counts = tx`
    with r as (
      select id, case when kind = 'replay' then clock else clock_timestamp() end as at, trades_in_run, trades_day, trades_on_day, loss_streak, last_loss_at
      from runs where model_id = ${modelId} and status = 'running'),
    d as (
      select r.*, (timezone('America/New_York', at))::date as day,
             timezone('America/New_York', date_trunc('day', timezone('America/New_York', at))) as day_start
      from r)
    select
      coalesce(
        (select close_value from day_marks m where m.run_id = d.id and m.day < d.day order by m.day desc limit 1),
        (select total_value from equity_snapshots e where e.run_id = d.id and e.clock <= d.day_start order by e.clock desc limit 1)) as day_start_value,
      ${TRADES_TODAY(tx, tx`d.day`)} as trades_today,
      d.trades_in_run, d.loss_streak, d.last_loss_at
    from d`;
  const lastMinute = opts.throttle ? ordersLastMinute(tx, modelId) : Promise.resolve(0);
  await settleAll([model, expired, seen, run, rules, positions, counts, lastMinute]); // the model's not-found comes first
  const [c] = await counts;
  return {
    model: await model,
    run: await run,
    seen: await seen,
    rules: await rules,
    positions: (await positions).map((p) => ({ symbol: p.symbol, quantity: p.quantity, avgCost: num(p.avg_cost), costCents: toCents(p.cost_basis) })),
    dayStartValueCents: c?.day_start_value === null || c?.day_start_value === undefined ? null : toCents(c.day_start_value),
    tradesToday: c?.trades_today ?? 0,
    tradesInRun: c?.trades_in_run ?? 0,
    lossStreak: c?.loss_streak ?? 0,
    lastLossAt: iso(c?.last_loss_at ?? null),
    ordersLastMinute: await lastMinute,
  };
}

export interface OrderFillWrite {
  price: number;
  commissionCents: number;
  slippagePerShare: number;
  cashChangeCents: number;
  realizedCents: number;
}

/**
 * The order row with its final status, its fill and the agent's reasoning, in one statement;
 * returns the order id. (Statement text is fixed: the connection prepares it once.)
 */
export async function insertOrderWithFill(
  tx: Tx,
  o: NewOrder & { run_id: number | null },
  fill: OrderFillWrite | null,
  reasoning: { content: string; context: Record<string, unknown> } | null,
): Promise<number> {
  const [row] = await tx`
    with o as (
      insert into orders (run_id, model_id, client_order_id, side, symbol, quantity, order_type, limit_price, stop_loss, take_profit,
                          status, rejections, reasoning, source, clock, key_prefix, expires_at, closes_position,
                          take_profit_2, first_target_fraction, breakeven_after_first_target, trailing_stop_pct, changes, stop_price)
      values (${o.run_id}, ${o.model_id}, ${o.client_order_id ?? null}, ${o.side}, ${o.symbol}, ${o.quantity}, ${o.order_type},
              ${o.limit_price ?? null}, ${o.stop_loss ?? null}, ${o.take_profit ?? null}, ${o.status}, ${tx.json(o.rejections as any)},
              ${o.reasoning ?? null}, ${o.source ?? 'agent'}, ${o.clock}, ${o.key_prefix ?? null}, ${o.expires_at ?? null},
              ${o.closes_position ?? false}, ${o.take_profit_2 ?? null}, ${o.first_target_fraction ?? null},
              ${o.breakeven_after_first_target === true}, ${o.trailing_stop_pct ?? null}, ${tx.json((o.changes ?? []) as any)}, ${o.stop_price ?? null})
      returning id),
    f as (
      insert into fills (order_id, run_id, symbol, side, quantity, price, commission, slippage, cash_change, realized_pnl, clock)
      select o.id, ${o.run_id}, ${o.symbol}, ${o.side}, ${o.quantity}, ${fill?.price ?? 0}::numeric,
             ${centsToDecimal(fill?.commissionCents ?? 0)}::numeric, ${fill?.slippagePerShare ?? 0}::numeric,
             ${centsToDecimal(fill?.cashChangeCents ?? 0)}::numeric, ${centsToDecimal(fill?.realizedCents ?? 0)}::numeric, ${o.clock}
      from o where ${fill !== null}::boolean),
    r as (
      insert into reasoning_log (run_id, reasoning_type, content, context, clock, key_prefix)
      select ${o.run_id}, 'decision', ${reasoning?.content ?? ''}, ${tx.json((reasoning?.context ?? {}) as any)} || jsonb_build_object('order_id', o.id), ${o.clock}, ${o.key_prefix ?? null}
      from o where ${reasoning !== null}::boolean)
    select id from o`;
  return row!.id as number;
}

