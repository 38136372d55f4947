// Splits and cash dividends on a run's account when its clock passes them: load the known
// actions (the positions and resting orders come from the clock step's read); decide with the pure applyCorporateActions
// (shared/domain/corporate-actions.ts, where the conventions are); persist the account,
// positions, orders, one ledger event per action (corporate_action_events) and a
// reasoning-log entry of type 'event'. The clock step calls it first, inside its transaction.
import type { Q, Tx } from '../db/database.js';
import { dayBarStart, prevTradingDay, sessionFor } from '../domain/calendar.js';
import { actionsDue, applyCorporateActions, type ActionEvent, type ActionsInput, type CorporateAction } from '../domain/corporate-actions.js';
import { centsToDecimal } from '../domain/money.js';
import type { Deps } from '../deps.js';
import type { Market } from '../market/market.js';
import { setOrderStatus, setAccount, setWaterMarks, writePosition } from '../store/orders.js';
import { logReasoning, type RunRow } from '../store/runs.js';

/** A run's account, positions and resting orders as applyCorporateActions reads them. */
export type ActionsState = Pick<ActionsInput, 'account' | 'positions' | 'orders'>;

/**
 * Applies the actions effective in (run.clock, clock] to the run's account; returns what it
 * did. `state`: the account as the clock step read it in this transaction (its one read,
 * shared/store/clock-book.ts). No round trip when no action is due.
 */
export async function applyCorporateActionsStep(tx: Tx, deps: Deps, run: RunRow, clock: Date, state: ActionsState): Promise<ActionEvent[]> {
  const from = new Date(run.clock);
  if (!(clock > from)) return [];
  // load
  const { positions, orders, account } = state;
  const symbols = [...new Set([...positions, ...orders].map((r) => r.symbol))];
  if (symbols.length === 0) return [];
  const { due, lastClose } = await loadDueActions(
    deps.market,
    symbols,
    from,
    clock,
    // never twice: a live run's clock may pass the same open again after a restart
    async () => new Set((await tx`select symbol, kind, action_date::text as d from corporate_action_events where run_id = ${run.run_id}`).map((r) => actionKey({ symbol: r.symbol, kind: r.kind, date: r.d }))),
    tx,
  );
  if (due.length === 0) return [];

  // decide
  const result = applyCorporateActions({ account, positions, orders, actions: due, from, to: clock, lastClose });

  // persist
  const touched = new Set(result.events.map((e) => e.symbol));
  for (const p of result.positions) {
    if (!touched.has(p.symbol)) continue;
    await writePosition(tx, run.run_id, p.symbol, p.quantity === 0 ? null : p, clock, { stop_loss: p.stopPrice, take_profit: p.targetPrice, take_profit_2: p.target2Price });
    if (p.quantity !== 0) await setWaterMarks(tx, run.run_id, p.symbol, p.highWater, p.lowWater);
  }
  for (const o of result.orders) {
    if (o.quantity === 0) {
      await setOrderStatus(tx, o.orderId, 'cancelled', { decided_by: 'system', decision_note: 'A reverse split left this order less than one share.' });
    } else {
      await tx`update orders set quantity = ${o.quantity}, limit_price = ${o.limitPrice}, stop_price = ${o.stopPrice ?? null}, stop_loss = ${o.stopLoss}, take_profit = ${o.takeProfit} where id = ${o.orderId}`;
    }
  }
  await setAccount(tx, run.run_id, result.account.cashCents, result.account.realizedPnlCents);
  for (const e of result.events) {
    const at = dayBarStart(e.date);
    await tx`
      insert into corporate_action_events
        (run_id, symbol, kind, action_date, ratio, split_from, split_to, cash_amount, quantity_before, quantity_after, cash_in_lieu, cash_change, realized_pnl, clock)
      values (${run.run_id}, ${e.symbol}, ${e.kind}, ${e.date}, ${e.ratio}, ${e.splitFrom}, ${e.splitTo}, ${e.cashAmount}, ${e.quantityBefore}, ${e.quantityAfter},
              ${centsToDecimal(e.cashInLieuCents)}, ${centsToDecimal(e.cashChangeCents)}, ${centsToDecimal(e.realizedCents)}, ${at})`;
    await logReasoning(tx, run.run_id, 'event', e.description, { corporate_action: e.kind, symbol: e.symbol, date: e.date, cash_change: e.cashChangeCents / 100 }, at);
  }
  return result.events;
}

/** How an applied action is remembered: "symbol|kind|date" (corporate_action_events' key). */
export const actionKey = (a: { symbol: string; kind: string; date: string }) => `${a.symbol}|${a.kind}|${a.date}`;

/**
 * The known actions of `symbols` due in (from, clock] and not applied yet, and the close
 * before each split (applyCorporateActions' lastClose: the official close of the session
 * before, read before the split is known, so unadjusted). `applied` (keys as actionKey) is
 * asked only when an action is due at all. The live clock step and the counterfactual
 * replay load them this way.
 */
export async function loadDueActions(
  market: Market,
  symbols: readonly string[],
  from: Date,
  clock: Date,
  applied: () => Promise<Set<string>> | Set<string>,
  q?: Q,
): Promise<{ due: CorporateAction[]; lastClose: Record<string, number | null> }> {
  const known: CorporateAction[] = [];
  for (const symbol of symbols) known.push(...(await market.corporateActions(symbol, q)));
  if (actionsDue(known, from, clock).length === 0) return { due: [], lastClose: {} };
  const done = await applied();
  const due = actionsDue(known.filter((a) => !done.has(actionKey(a))), from, clock);
  const lastClose: Record<string, number | null> = {};
  for (const a of due) {
    if (a.kind !== 'split' || a.symbol in lastClose) continue;
    const prevClose = sessionFor(prevTradingDay(a.date))!.close;
    const { bars } = await market.barsAsOf(a.symbol, 'day', { asOf: prevClose, limit: 1 }, q);
    lastClose[a.symbol] = bars.at(-1)?.c ?? null;
  }
  return { due, lastClose };
}
