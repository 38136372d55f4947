// Splits and cash dividends on a run's account when its clock passes them: load the
// positions, resting orders and known actions; decide with the pure applyCorporateActions
// (shared/domain/corporate-actions.ts, where the conventions are); persist the account,
// positions, orders, one ledger event per action (corporate_action_events) and a
// reasoning-log entry of type 'event'. The clock step calls it first, inside its transaction.
import type { Tx } from '../db/database.js';
import { dayBarStart, prevTradingDay, sessionFor } from '../domain/calendar.js';
import { actionsDue, applyCorporateActions, type ActionEvent } from '../domain/corporate-actions.js';
import { centsToDecimal, toCents } from '../domain/money.js';
import type { Deps } from '../deps.js';
import { setOrderStatus, setAccount, setWaterMarks, writePosition } from '../store/orders.js';
import { num } from '../store/rows.js';
import { logReasoning, type RunRow } from '../store/runs.js';

const numOrNull = (v: unknown) => (v === null || v === undefined ? null : num(v as string));

/** Applies the actions effective in (run.clock, clock] to the run's account; returns what it did. */
export async function applyCorporateActionsStep(tx: Tx, deps: Deps, run: RunRow, clock: Date): Promise<ActionEvent[]> {
  const from = new Date(run.clock);
  if (!(clock > from)) return [];
  // load
  const positionRows = await tx`
    select symbol, quantity, cost_basis, high_water, low_water, stop_price, target_price
    from positions where run_id = ${run.run_id} and quantity <> 0 order by symbol`;
  const orderRows = await tx`
    select id, symbol, quantity, limit_price, stop_loss, take_profit from orders
    where run_id = ${run.run_id} and status in ('open', 'pending_approval') order by id`;
  const symbols = [...new Set([...positionRows, ...orderRows].map((r) => r.symbol as string))];
  if (symbols.length === 0) return [];
  const known = [];
  for (const symbol of symbols) known.push(...(await deps.market.corporateActions(symbol, tx)));
  if (actionsDue(known, from, clock).length === 0) return [];
  // never twice: a live run's clock may pass the same open again after a restart
  const applied = new Set(
    (await tx`select symbol, kind, action_date::text as d from corporate_action_events where run_id = ${run.run_id}`).map((r) => `${r.symbol}|${r.kind}|${r.d}`),
  );
  const due = actionsDue(known.filter((a) => !applied.has(`${a.symbol}|${a.kind}|${a.date}`)), from, clock);
  if (due.length === 0) return [];
  const lastClose: Record<string, number | null> = {};
  for (const a of due) {
    if (a.kind !== 'split' || a.symbol in lastClose) continue;
    // the official close before the split, read before the split is known (so unadjusted)
    const prevClose = sessionFor(prevTradingDay(a.date))!.close;
    const { bars } = await deps.market.barsAsOf(a.symbol, 'day', { asOf: prevClose, limit: 1 }, tx);
    lastClose[a.symbol] = bars.at(-1)?.c ?? null;
  }
  const [acct] = await tx`select cash, realized_pnl from runs where id = ${run.run_id}`;

  // decide
  const result = applyCorporateActions({
    account: { cashCents: toCents(acct!.cash), realizedPnlCents: toCents(acct!.realized_pnl) },
    positions: positionRows.map((r) => ({
      symbol: r.symbol,
      quantity: r.quantity,
      costCents: toCents(r.cost_basis),
      highWater: numOrNull(r.high_water),
      lowWater: numOrNull(r.low_water),
      stopPrice: numOrNull(r.stop_price),
      targetPrice: numOrNull(r.target_price),
    })),
    orders: orderRows.map((r) => ({
      orderId: r.id,
      symbol: r.symbol,
      quantity: r.quantity,
      limitPrice: numOrNull(r.limit_price),
      stopLoss: numOrNull(r.stop_loss),
      takeProfit: numOrNull(r.take_profit),
    })),
    actions: due,
    from,
    to: clock,
    lastClose,
  });

  // persist
  const touched = new Set(result.events.map((e) => e.symbol));
  for (const p of result.positions) {
    if (!touched.has(p.symbol)) continue;
    await writePosition(tx, run.run_id, p.symbol, p.quantity === 0 ? null : p, clock, { stop_price: p.stopPrice, target_price: p.targetPrice });
    if (p.quantity !== 0) await setWaterMarks(tx, run.run_id, p.symbol, p.highWater, p.lowWater);
  }
  for (const o of result.orders) {
    if (o.quantity === 0) {
      await setOrderStatus(tx, o.orderId, 'cancelled', { decided_by: 'system', decision_note: 'A reverse split left this order less than one share.' });
    } else {
      await tx`update orders set quantity = ${o.quantity}, limit_price = ${o.limitPrice}, stop_loss = ${o.stopLoss}, take_profit = ${o.takeProfit} where id = ${o.orderId}`;
    }
  }
  await setAccount(tx, run.run_id, result.account.cashCents, result.account.realizedPnlCents);
  for (const e of result.events) {
    const at = dayBarStart(e.date);
    await tx`
      insert into corporate_action_events
        (run_id, symbol, kind, action_date, ratio, cash_amount, quantity_before, quantity_after, cash_in_lieu, cash_change, realized_pnl, clock)
      values (${run.run_id}, ${e.symbol}, ${e.kind}, ${e.date}, ${e.ratio}, ${e.cashAmount}, ${e.quantityBefore}, ${e.quantityAfter},
              ${centsToDecimal(e.cashInLieuCents)}, ${centsToDecimal(e.cashChangeCents)}, ${centsToDecimal(e.realizedCents)}, ${at})`;
    await logReasoning(tx, run.run_id, 'event', e.description, { corporate_action: e.kind, symbol: e.symbol, date: e.date, cash_change: e.cashChangeCents / 100 }, at);
  }
  return result.events;
}
