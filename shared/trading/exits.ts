// set_exits: move the exits attached to a held position (load → decide → persist in one
// transaction). The model and its running run are locked, so no order or clock step of the
// model runs in between; the change is kept (position_exit_changes) for the counterfactual.
import type { AuthContext } from '../auth/keys.js';
import type { Deps } from '../deps.js';
import { liveExits, mergePlan, planChanges, planProblems, type ExitChanges, type LiveExits } from '../domain/exits.js';
import { ToolError } from '../mcp/errors.js';
import { getOwnedModel } from '../store/models.js';
import { planFromRow, setPositionPlan } from '../store/orders.js';
import { num, numOrNull } from '../store/rows.js';
import { getRunningRun } from '../store/runs.js';

export interface PositionExitsView {
  model_id: number;
  run_id: number;
  symbol: string;
  quantity: number;
  avg_cost: number;
  /** Price at the run clock, dollars. */
  price: number;
  exits: LiveExits;
  clock: string;
}

/** set_exits: one sentence and nothing changed when the new plan cannot stand at the price now. */
export async function setExits(deps: Deps, auth: AuthContext, req: ExitChanges & { model_id: number; symbol: string }): Promise<PositionExitsView> {
  const changes = planChanges(req);
  if (Object.keys(changes).length === 0) {
    throw new ToolError('BAD_INPUT', 'Give at least one of stop_loss, take_profit, take_profit_2 or trailing_stop_pct (a number sets it, null removes it); nothing was changed.');
  }
  const found = await getRunningRun(deps.sql, req.model_id);
  if (found?.kind === 'live' && deps.market.fetches) await deps.market.priceAt(req.symbol, new Date()).catch(() => null);
  return deps.sql.begin(async (tx) => {
    await getOwnedModel(tx, auth.userId, req.model_id, true);
    const run = await getRunningRun(tx, req.model_id, true);
    if (!run) throw new ToolError('NO_RUN', `Model ${req.model_id} has no running run, so it holds no position; nothing was changed.`);
    const [row] = await tx`select * from positions where run_id = ${run.run_id} and symbol = ${req.symbol} and quantity <> 0 for update`;
    if (!row) throw new ToolError('NO_POSITION', `Model ${req.model_id} holds no ${req.symbol} position; nothing was changed.`);
    const clock = run.kind === 'replay' ? new Date(run.clock) : new Date();
    const quote = await deps.market.priceAt(req.symbol, clock, tx);
    if (!quote) throw new ToolError('NO_PRICE', `No price for ${req.symbol} at ${clock.toISOString()}, so the exits cannot be checked; nothing was changed.`);
    const quantity = row.quantity as number;
    const plan = mergePlan(planFromRow(row), changes);
    const problems = planProblems(quantity > 0, plan, quote.price, 'the price now', req.symbol);
    if (problems.length) throw new ToolError('BAD_EXITS', `${problems.join(' ')} Nothing was changed.`);
    await setPositionPlan(tx, run.run_id, req.symbol, plan);
    await tx`
      insert into position_exit_changes (run_id, symbol, clock, key_prefix, changes)
      values (${run.run_id}, ${req.symbol}, ${clock}, ${auth.keyPrefix}, ${tx.json(exitChangesJson(req) as any)})`;
    const holding = { quantity, avgCost: num(row.avg_cost), price: quote.price, highWater: numOrNull(row.high_water), lowWater: numOrNull(row.low_water) };
    return {
      model_id: req.model_id,
      run_id: run.run_id,
      symbol: req.symbol,
      quantity,
      avg_cost: holding.avgCost,
      price: quote.price,
      exits: liveExits(holding, plan),
      clock: clock.toISOString(),
    };
  });
}

/** The given fields as stored for the replay (null kept: it removes). */
function exitChangesJson(c: ExitChanges): ExitChanges {
  const out: ExitChanges = {};
  for (const k of ['stop_loss', 'take_profit', 'take_profit_2', 'trailing_stop_pct'] as const) if (c[k] !== undefined) out[k] = c[k];
  return out;
}
