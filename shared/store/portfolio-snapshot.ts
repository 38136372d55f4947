// The account a rules check runs against, at a clock: the run's cash, its positions
// marked at the clock (with their exact cost basis), day-start and peak values, and its
// trade counts. The day-start value is the account's value at the previous New York
// session's close (day_marks, written by the clock step); a run younger than that starts
// its first day at its initial cash. Shared by the
// rules server's check_order and the trade server's order path. Inside a transaction pass
// it as `sql`: prices are read through it too (the embedded database has one connection).
import type { Q } from '../db/database.js';
import { toCents } from '../domain/money.js';
import { nyLocal, nyToUtc } from '../domain/ny-time.js';
import type { PortfolioSnapshot } from '../domain/types.js';
import type { BookPosition } from '../domain/decide.js';
import type { Market } from '../market/market.js';
import { TRADES_TODAY } from './orders.js';
import { iso, num } from './rows.js';

export interface SnapshotRun {
  run_id: number;
  cash: number;
  initial_cash: number;
  peak_value: number;
}

/** A snapshot whose positions carry their exact cost basis. */
export interface BookSnapshot extends PortfolioSnapshot {
  positions: BookPosition[];
}

/** With no running run the portfolio is the model's initial cash and nothing else. */
export async function loadPortfolioSnapshot(
  sql: Q,
  run: SnapshotRun | null,
  initialCash: number,
  market: Market,
  clock: Date,
): Promise<BookSnapshot> {
  if (!run) {
    const cash = toCents(initialCash);
    return { cashCents: cash, positions: [], dayStartValueCents: cash, peakValueCents: cash, tradesToday: 0, tradesInRun: 0 };
  }
  const dayStart = nyToUtc(nyLocal(clock).date, '00:00');
  const rows = await sql`
    select symbol, quantity, avg_cost, cost_basis from positions
    where run_id = ${run.run_id} and quantity <> 0 order by symbol`;
  const positions: BookPosition[] = [];
  for (const r of rows) {
    const quote = await market.priceAt(r.symbol, clock, sql);
    // Unpriced at the clock (no bar yet): mark at cost rather than refuse the whole check.
    positions.push({ symbol: r.symbol, quantity: r.quantity, avgCost: num(r.avg_cost), costCents: toCents(r.cost_basis), price: quote?.price ?? num(r.avg_cost) });
  }
  const [counts] = await sql`
    select
      coalesce(
        (select close_value from day_marks where run_id = ${run.run_id} and day < ${nyLocal(clock).date}::date order by day desc limit 1),
        (select total_value from equity_snapshots
          where run_id = ${run.run_id} and clock <= ${dayStart} order by clock desc limit 1)) as day_start_value,
      t.trades_in_run, t.loss_streak, t.last_loss_at, ${TRADES_TODAY(sql, sql`${nyLocal(clock).date}::date`, 't')} as trades_today
    from runs t where t.id = ${run.run_id}`;
  const dayStartValue = counts!.day_start_value;
  return {
    cashCents: toCents(run.cash),
    positions,
    dayStartValueCents: dayStartValue === null || dayStartValue === undefined ? toCents(run.initial_cash) : toCents(dayStartValue),
    peakValueCents: toCents(run.peak_value),
    tradesToday: counts!.trades_today,
    tradesInRun: counts!.trades_in_run,
    lossStreak: counts!.loss_streak,
    lastLossAt: iso(counts!.last_loss_at),
  };
}
