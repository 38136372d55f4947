// What happens to a run's account when its clock moves to a new instant, read as
// load → decideClockStep (domain/clock-step.ts, pure) → persist: resting limit orders
// fill, stop-loss, take-profit, trailing and flatten_by exits fire, session closes are
// marked, pending approvals expire, circuit breakers halt. advance_run and the live ticker
// call this once per step, inside their transaction, before the equity point.
import type { Tx } from '../db/database.js';
import { sessionFor, addDays } from '../domain/calendar.js';
import { decideClockStep, type ClockPosition, type StepMarket } from '../domain/clock-step.js';
import { centsToDecimal, toCents } from '../domain/money.js';
import { nyLocal, nyToUtc } from '../domain/ny-time.js';
import type { Rejection } from '../domain/gates.js';
import type { Timespan } from '../domain/types.js';
import type { Deps } from '../deps.js';
import { importedSpans } from '../market/bars-store.js';
import { getModelById } from '../store/models.js';
import { expirePending, insertOrder, openOrders, positionExits, setOrderStatus, setWaterMarks } from '../store/orders.js';
import { loadActiveRules } from '../store/rules.js';
import type { RunRow } from '../store/runs.js';
import { loadPositions } from '../store/accounts.js';
import { loadPortfolioSnapshot } from '../store/portfolio-snapshot.js';
import { decideModel, haltModel, persistFill } from './orders.js';
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
  /** When it filled (UTC ISO): a bar's end, a gapped bar's open, the clock, or a session close. */
  time: string;
}

/** A resting order the checks refused when the clock reached its limit. */
export interface ClockRefusalEvent {
  order_id: number;
  symbol: string;
  side: string;
  quantity: number;
  time: string;
  rejections: Rejection[];
  reason: string;
}

export interface ClockStepResult {
  events: ClockEvent[];
  refused: ClockRefusalEvent[];
  halted_reason: string | null;
}

const ORDER: Timespan[] = ['minute', 'hour', 'day'];

/**
 * The bars a symbol is checked on: the run's timespan, or, for an imported symbol without
 * bars of it, the finest it has (hour, then day) as they close.
 */
async function checkTimespan(tx: Tx, deps: Deps, symbol: string, runTimespan: 'day' | 'minute'): Promise<Timespan | null> {
  if ((await deps.market.sourceOf(symbol, tx)) !== 'imported') return runTimespan;
  const have = new Set((await importedSpans(tx, symbol)).map((s) => s.timespan));
  if (have.has(runTimespan)) return runTimespan;
  return ORDER.slice(ORDER.indexOf(runTimespan)).find((ts) => have.has(ts)) ?? null;
}

export async function onClockStep(tx: Tx, deps: Deps, run: RunRow, clock: Date): Promise<ClockStepResult> {
  const from = new Date(run.clock);
  await expirePending(tx, run.model_id);
  await applyCorporateActionsStep(tx, deps, run, clock); // splits and dividends first: the step's bars and levels are on the new basis
  // load
  const model = await getModelById(tx, run.model_id);
  const rules = await loadActiveRules(tx, run.model_id);
  const stored = await loadPositions(tx, run.run_id);
  const exits = await positionExits(tx, run.run_id);
  const resting = (await openOrders(tx, run.run_id)).filter((o) => o.limit_price !== null);
  const symbols = [...new Set([...stored.map((p) => p.symbol), ...resting.map((o) => o.symbol)])];
  const market: StepMarket = { bars: {}, openAtClock: {}, priceAtClock: {}, sessionCloses: [] };
  for (const symbol of symbols) {
    const timespan = await checkTimespan(tx, deps, symbol, run.timespan ?? 'minute');
    if (timespan) market.bars[symbol] = { timespan, bars: await deps.market.barsClosedBetween(symbol, timespan, from, clock, tx) };
    const quote = await deps.market.quoteAt(symbol, clock, tx);
    market.priceAtClock[symbol] = quote?.price ?? null;
    market.openAtClock[symbol] = quote && quote.basis === 'open_at_clock' && Date.parse(quote.bar.t) === clock.getTime() ? quote.price : null;
  }
  for (let d = nyLocal(from).date; d <= nyLocal(clock).date; d = addDays(d, 1)) {
    const session = sessionFor(d);
    if (!session || session.close <= from || session.close > clock) continue;
    const prices: Record<string, number | null> = {};
    for (const symbol of symbols) prices[symbol] = (await deps.market.priceAt(symbol, session.close, tx))?.price ?? null;
    market.sessionCloses.push({ date: d, at: session.close, prices });
  }
  const snapshot = await loadPortfolioSnapshot(tx, run, run.initial_cash, deps.market, clock);
  const positions: ClockPosition[] = stored.map((p) => ({
    ...p,
    price: market.priceAtClock[p.symbol] ?? p.avgCost,
    stop: exits.get(p.symbol)?.stop ?? null,
    target: exits.get(p.symbol)?.target ?? null,
  }));
  const dayFrom = nyToUtc(nyLocal(from).date, '00:00');
  const counted = await tx`
    select to_char(clock at time zone 'America/New_York', 'YYYY-MM-DD') as day, count(*)::int as n
    from fills where run_id = ${run.run_id} and clock >= ${dayFrom} group by 1`;
  // decide
  const d = decideClockStep(
    {
      model: decideModel(model),
      cashCents: toCents(run.cash),
      realizedPnlCents: toCents(run.realized_pnl),
      positions,
      openOrders: resting.map((o) => ({ ...o, limit_price: o.limit_price! })),
      rules,
      peakValueCents: toCents(run.peak_value),
      dayStartValueCents: snapshot.dayStartValueCents,
      tradesInRun: snapshot.tradesInRun,
      tradesByDay: Object.fromEntries(counted.map((r) => [r.day as string, r.n as number])),
      from,
      clock,
      session: run.session,
    },
    market,
  );
  // persist
  const events: ClockEvent[] = [];
  for (const f of d.fills) {
    const orderId =
      f.order_id ??
      (await insertOrder(tx, {
        run_id: run.run_id,
        model_id: run.model_id,
        side: f.side,
        symbol: f.symbol,
        quantity: f.quantity,
        order_type: 'market',
        status: 'filled',
        rejections: [],
        reasoning: f.reason,
        source: f.trigger,
        clock: f.at,
      }));
    await persistFill(tx, run.run_id, { ...f, order_id: orderId }, f.fill, f.applied, f.at);
    events.push({ order_id: orderId, symbol: f.symbol, side: f.side, quantity: f.quantity, price: f.fill.price, trigger: f.trigger, reason: f.reason, time: f.at.toISOString() });
  }
  for (const r of d.refused) await setOrderStatus(tx, r.order_id, 'rejected', { rejections: r.rejections });
  for (const w of d.waterMarks) await setWaterMarks(tx, run.run_id, w.symbol, w.high, w.low);
  for (const m of d.dayMarks) {
    await tx`
      insert into day_marks (run_id, day, close_value) values (${run.run_id}, ${m.date}, ${centsToDecimal(m.valueCents)})
      on conflict (run_id, day) do update set close_value = excluded.close_value`;
  }
  if (d.haltReason) await haltModel(tx, deps, model.model_id, d.haltReason);
  return {
    events,
    refused: d.refused.map((r) => ({ order_id: r.order_id, symbol: r.symbol, side: r.side, quantity: r.quantity, time: r.at.toISOString(), rejections: r.rejections, reason: r.reason })),
    halted_reason: d.haltReason,
  };
}
