// A clock step's one read of the database (shared/trading/clock.ts): the model, its active
// rules, the run's account, positions with their exit levels and water marks, resting and
// pending orders (pending approvals past their time expired first), the day-start value
// and the fill counts, sent pipelined in one round trip. The caller holds the model and run
// locks, so every statement sees the rows as the step will change them.
import { settleAll, type Tx } from '../db/database.js';
import { toCents } from '../domain/money.js';
import { nyLocal, nyToUtc } from '../domain/ny-time.js';
import type { OrderType, RuleRecord, Side } from '../domain/types.js';
import type { StoredPosition } from './accounts.js';
import { getModelById, type Model } from './models.js';
import { expirePendingStatement, planFromRow } from './orders.js';
import type { ExitPlan, OrderBracket } from '../domain/exits.js';
import { iso, num, numOrNull } from './rows.js';
import { loadActiveRules } from './rules.js';

/** A held position with its exit plan (exits.ts). */
export interface ClockBookPosition extends StoredPosition, ExitPlan {}

export interface ClockBookOrder extends OrderBracket {
  order_id: number;
  status: 'open' | 'pending_approval';
  side: Side;
  symbol: string;
  quantity: number;
  order_type: OrderType;
  limit_price: number | null;
  stop_price: number | null;
  /** A stop entry whose stop already traded. */
  triggered: boolean;
  stop_loss: number | null;
  take_profit: number | null;
}

export interface ClockBook {
  model: Model;
  rules: RuleRecord[];
  cashCents: number;
  realizedPnlCents: number;
  peakValueCents: number;
  /** Positions with quantity ≠ 0, by symbol. */
  positions: ClockBookPosition[];
  /** Open and pending-approval orders, by id. */
  orders: ClockBookOrder[];
  /**
   * The value at the close before `clock`'s New York day (day_marks, else the latest equity
   * point at or before that day's midnight), else the initial cash; as loadPortfolioSnapshot.
   */
  dayStartValueCents: number;
  /** Fills at or before `clock`. */
  tradesInRun: number;
  /** Losing round trips in a row and the run clock of the latest (migration 023). */
  lossStreak: number;
  lastLossAt: string | null;
  /** Fills per New York date (YYYY-MM-DD) from the start of `from`'s New York day. */
  tradesByDay: Record<string, number>;
}

/** What the caller already read under the same locks (advance_run's first step): not read again. */
export interface ClockBookKnown {
  model?: Model;
  account?: { cash: number; realized_pnl: number; peak_value: number; initial_cash: number };
}

/** One round trip (see the file comment). `from` is the run's clock before the step, `clock` after it. */
export async function readClockBook(tx: Tx, run: { run_id: number; model_id: number }, from: Date, clock: Date, known: ClockBookKnown = {}): Promise<ClockBook> {
  const runId = run.run_id;
  const dayStart = nyToUtc(nyLocal(clock).date, '00:00');
  const dayFrom = nyToUtc(nyLocal(from).date, '00:00');
  // Issued without awaiting in between: postgres.js sends them in one write.
  const model = known.model ? Promise.resolve(known.model) : getModelById(tx, run.model_id);
  const rules = loadActiveRules(tx, run.model_id);
  const account = known.account ? Promise.resolve([known.account]) : tx`select cash, realized_pnl, peak_value, initial_cash from runs where id = ${runId}`;
  const positions = tx`
    select symbol, quantity, cost_basis, avg_cost, high_water, low_water, stop_price, target_price,
           target_price_2, first_target_fraction, breakeven_after_first_target, trailing_stop_pct, first_target_filled
    from positions where run_id = ${runId} and quantity <> 0 order by symbol`;
  // pending approvals past their time expire first (a CTE: the select excludes them)
  const orders = tx`
    with expired as (${expirePendingStatement(tx, run.model_id)})
    select id, status, side, symbol, quantity, order_type, limit_price, stop_price, triggered_at, stop_loss, take_profit,
           take_profit_2, first_target_fraction, breakeven_after_first_target, trailing_stop_pct from orders
    where run_id = ${runId} and status in ('open', 'pending_approval') and id not in (select id from expired) order by id`;
  const counts = tx`
    select
      coalesce(
        (select close_value from day_marks where run_id = ${runId} and day < ${nyLocal(clock).date}::date order by day desc limit 1),
        (select total_value from equity_snapshots where run_id = ${runId} and clock <= ${dayStart} order by clock desc limit 1)) as day_start_value,
      (select trades_in_run from runs where id = ${runId}) as trades_in_run,
      (select loss_streak from runs where id = ${runId}) as loss_streak,
      (select last_loss_at from runs where id = ${runId}) as last_loss_at,
      (select coalesce(json_object_agg(day, n), '{}') from (
        select to_char(clock at time zone 'America/New_York', 'YYYY-MM-DD') as day, count(*)::int as n
        from fills where run_id = ${runId} and clock >= ${dayFrom} group by 1) d) as by_day`;
  await settleAll([model, rules, account, positions, orders, counts]);
  const [a] = await account;
  const [c] = await counts;
  return {
    model: await model,
    rules: await rules,
    cashCents: toCents(a!.cash),
    realizedPnlCents: toCents(a!.realized_pnl),
    peakValueCents: toCents(a!.peak_value),
    positions: (await positions).map((r) => ({
      symbol: r.symbol,
      quantity: r.quantity,
      costCents: toCents(r.cost_basis),
      avgCost: num(r.avg_cost),
      highWater: numOrNull(r.high_water),
      lowWater: numOrNull(r.low_water),
      ...planFromRow(r),
    })),
    orders: (await orders).map((r) => ({
      order_id: r.id,
      status: r.status,
      side: r.side,
      symbol: r.symbol,
      quantity: r.quantity,
      order_type: r.order_type,
      limit_price: numOrNull(r.limit_price),
      stop_price: numOrNull(r.stop_price),
      triggered: r.triggered_at !== null && r.triggered_at !== undefined,
      stop_loss: numOrNull(r.stop_loss),
      take_profit: numOrNull(r.take_profit),
      take_profit_2: numOrNull(r.take_profit_2),
      first_target_fraction: numOrNull(r.first_target_fraction),
      breakeven_after_first_target: r.breakeven_after_first_target === true,
      trailing_stop_pct: numOrNull(r.trailing_stop_pct),
    })),
    dayStartValueCents: c!.day_start_value === null || c!.day_start_value === undefined ? toCents(a!.initial_cash) : toCents(c!.day_start_value),
    tradesInRun: c!.trades_in_run,
    lossStreak: c!.loss_streak,
    lastLossAt: iso(c!.last_loss_at),
    tradesByDay: c!.by_day as Record<string, number>,
  };
}
