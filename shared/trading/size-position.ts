// size_position: the account at the clock (the order path's load, nothing written), then the
// pure sizing (domain/sizing.ts).
import type { AuthContext } from '../auth/keys.js';
import type { Deps } from '../deps.js';
import { ToolError } from '../mcp/errors.js';
import { formatPrice, priceTicks } from '../domain/money.js';
import { sizePosition, type Sizing } from '../domain/sizing.js';
import { getOwnedModel } from '../store/models.js';
import { getRunningRun } from '../store/runs.js';
import { loadOrderState, prefetch } from './orders.js';

export interface SizeRequest {
  model_id: number;
  symbol: string;
  entry?: number;
  stop: number;
  risk_pct: number;
}

/**
 * The largest quantity within risk_pct of equity to `stop`, capped by the model's rules and
 * buying power, at `entry` (default: the symbol's price at the run clock). Throws one sentence
 * when entry equals stop, the symbol is unknown, or it has no price and no entry was given.
 */
export async function sizePositionFor(deps: Deps, auth: AuthContext, req: SizeRequest): Promise<Sizing & { symbol: string; clock: string }> {
  if (req.entry !== undefined && priceTicks(req.entry) === priceTicks(req.stop)) throw sameStop(req.stop);
  await prefetch(deps, auth, req);
  return deps.sql.begin(async (tx) => {
    const model = await getOwnedModel(tx, auth.userId, req.model_id);
    const run = await getRunningRun(tx, model.model_id);
    const state = await loadOrderState(tx, deps, model, run, req.symbol, { throttle: false });
    if (!state.symbolKnown) throw new ToolError('UNKNOWN_SYMBOL', `Unknown symbol ${req.symbol}: there is no market data for it.`);
    const entry = req.entry ?? state.marketPrice;
    if (entry === null) {
      throw new ToolError('NO_PRICE', `No price for ${req.symbol} at the clock ${state.clock.toISOString()}: give entry (dollars per share).`);
    }
    if (priceTicks(entry) === priceTicks(req.stop)) throw sameStop(req.stop);
    return { ...sizePosition(state, { symbol: req.symbol, entry, stop: req.stop, riskPct: req.risk_pct }), symbol: req.symbol, clock: state.clock.toISOString() };
  });
}

const sameStop = (stop: number) =>
  new ToolError('BAD_INPUT', `stop must differ from entry (both ${formatPrice(stop)}): the risk per share is |entry − stop|; nothing was sized.`);
