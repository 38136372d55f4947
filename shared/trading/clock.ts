// What happens to a run's account when its replay clock moves to a new instant:
// resting limit orders fill when a closed bar trades through them; stop-loss,
// take-profit, trailing and flatten_by exits fire; pending approvals expire; circuit
// breakers halt. advance_run calls this once per step, inside its transaction, before
// the equity point. Exits are forced risk-reducing fills: no rule blocks them.
import type { Tx } from '../db/database.js';
import { boundedByLimit, commissionCents, limitFillPrice } from '../domain/fills.js';
import { checkOrder } from '../domain/gates.js';
import { exitSignals } from '../domain/rules/engine.js';
import type { Bar, RuleRecord, Side } from '../domain/types.js';
import type { Deps } from '../deps.js';
import { getModelById } from '../store/models.js';
import { expirePending, insertOrder, openOrders, positionExits, setOrderStatus, setWaterMarks } from '../store/orders.js';
import { loadActiveRules } from '../store/rules.js';
import type { RunRow } from '../store/runs.js';
import { loadPositions } from '../store/accounts.js';
import { accountSnapshot, checkBreakers, executeFill } from './orders.js';
import { applyCorporateActionsStep } from './corporate-actions.js';

export interface ClockEvent {
  order_id: number;
  symbol: string;
  side: string;
  quantity: number;
  price: number;
  /** What fired: 'limit', 'stop_loss', 'take_profit', or the exit rule's name. */
  trigger: string;
  reason: string;
}

export async function onClockStep(tx: Tx, deps: Deps, run: RunRow, clock: Date): Promise<ClockEvent[]> {
  const from = new Date(run.clock);
  const model = await getModelById(tx, run.model_id);
  const rules = await loadActiveRules(tx, run.model_id);
  const events: ClockEvent[] = [];
  const barCache = new Map<string, Bar[]>();
  const barsOf = async (symbol: string) => {
    if (!barCache.has(symbol)) barCache.set(symbol, await deps.market.barsClosedBetween(symbol, run.timespan ?? 'day', from, clock, tx));
    return barCache.get(symbol)!;
  };

  await expirePending(tx, run.model_id);
  await applyCorporateActionsStep(tx, deps, run, clock); // splits and dividends first: the step's bars and levels are on the new basis

  // 1. Resting limit orders: fill at the limit (or a better open) on a bar that trades through.
  for (const order of await openOrders(tx, run.run_id)) {
    for (const bar of await barsOf(order.symbol)) {
      const price = limitFillPrice(order.side, order.limit_price!, bar);
      if (price === null) continue;
      const fillAt = boundedByLimit(order.side, price, order.limit_price!);
      const snapshot = await accountSnapshot(tx, deps, run.run_id, clock);
      const commission = commissionCents(order.quantity, model.commission_per_share);
      // The gates and rules run again at fill time on the account as it is now.
      const check = checkOrder({
        order: { side: order.side, symbol: order.symbol, quantity: order.quantity, price: fillAt },
        orderType: 'limit',
        model,
        portfolio: snapshot,
        rules,
        commissionCents: commission,
        symbolKnown: true,
        priced: true,
        marketOpen: true,
        ordersLastMinute: 0,
        maxOrdersPerMinute: model.max_orders_per_minute,
        clock,
      });
      if (check.rejections.length) {
        await setOrderStatus(tx, order.order_id, 'rejected', { rejections: check.rejections });
      } else {
        await executeFill(tx, run, order, { price: fillAt, commissionCents: commission, slippagePerShare: 0 }, clock);
        events.push({ order_id: order.order_id, symbol: order.symbol, side: order.side, quantity: order.quantity, price: fillAt, trigger: 'limit', reason: `Limit ${order.limit_price} reached by the bar at ${bar.t}.` });
      }
      break;
    }
  }

  // 2. Exits: the order's own stop_loss/take_profit, then the stop_loss and flatten_by rules.
  const attached = await positionExits(tx, run.run_id);
  for (const pos of await loadPositions(tx, run.run_id)) {
    let high = pos.highWater;
    let low = pos.lowWater;
    for (const bar of await barsOf(pos.symbol)) {
      const exit = attachedExit(pos, attached.get(pos.symbol), bar) ?? ruleExit(pos, bar, clock, rules, high, low);
      if (exit) {
        const side: Side = pos.quantity > 0 ? 'sell' : 'cover';
        const quantity = Math.abs(pos.quantity);
        const orderId = await insertOrder(tx, {
          run_id: run.run_id,
          model_id: run.model_id,
          side,
          symbol: pos.symbol,
          quantity,
          order_type: 'market',
          status: 'filled',
          rejections: [],
          reasoning: exit.reason,
          source: exit.trigger,
          clock,
        });
        await executeFill(tx, run, { order_id: orderId, side, symbol: pos.symbol, quantity }, { price: exit.price, commissionCents: commissionCents(quantity, model.commission_per_share), slippagePerShare: 0 }, clock);
        events.push({ order_id: orderId, symbol: pos.symbol, side, quantity, price: exit.price, trigger: exit.trigger, reason: exit.reason });
        high = low = null;
        break;
      }
      high = Math.max(high ?? -Infinity, bar.h ?? bar.o);
      low = Math.min(low ?? Infinity, bar.l ?? bar.o);
    }
    if (high !== null && low !== null) await setWaterMarks(tx, run.run_id, pos.symbol, high, low);
  }

  // 3. Circuit breakers on the account after the step.
  await checkBreakers(tx, deps, model, run, clock, rules);
  return events;
}

function attachedExit(
  pos: { symbol: string; quantity: number },
  levels: { stop: number | null; target: number | null } | undefined,
  bar: Bar,
): { price: number; trigger: string; reason: string } | null {
  if (!levels) return null;
  const long = pos.quantity > 0;
  const low = bar.l ?? bar.o;
  const high = bar.h ?? bar.o;
  if (levels.stop !== null && (long ? low <= levels.stop : high >= levels.stop)) {
    const price = long ? Math.min(bar.o, levels.stop) : Math.max(bar.o, levels.stop);
    return { price, trigger: 'stop_loss', reason: `Stop loss at ${levels.stop} on ${pos.symbol} touched by the bar at ${bar.t}; exit at ${price}.` };
  }
  if (levels.target !== null && (long ? high >= levels.target : low <= levels.target)) {
    const price = long ? Math.max(bar.o, levels.target) : Math.min(bar.o, levels.target);
    return { price, trigger: 'take_profit', reason: `Take profit at ${levels.target} on ${pos.symbol} reached by the bar at ${bar.t}; exit at ${price}.` };
  }
  return null;
}

function ruleExit(
  pos: { symbol: string; quantity: number; avgCost: number },
  bar: Bar,
  clock: Date,
  rules: RuleRecord[],
  high: number | null,
  low: number | null,
): { price: number; trigger: string; reason: string } | null {
  // No water mark yet (the first bar since entry): trail from the entry. The engine's own
  // fallback would use `price`, this bar's close here, which comes after the bar's low and high.
  const [signal] = exitSignals({
    position: { symbol: pos.symbol, quantity: pos.quantity, avgCost: pos.avgCost, price: bar.c ?? bar.o, highWater: high ?? pos.avgCost, lowWater: low ?? pos.avgCost },
    bar,
    clock,
    rules,
  });
  return signal ? { price: signal.price, trigger: signal.ruleName, reason: signal.reason } : null;
}
