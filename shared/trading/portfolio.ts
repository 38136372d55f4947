// get_portfolio and get_trading_status: the account valued at the clock's market prices.
import type { AuthContext } from '../auth/keys.js';
import { accountFigures, markPortfolio, type PortfolioLine } from '../domain/ledger.js';
import { figuresInDollars } from '../domain/decide.js';
import { formatCents, fromCents, toCents } from '../domain/money.js';
import type { Deps } from '../deps.js';
import { ToolError } from '../mcp/errors.js';
import { loadPositions } from '../store/accounts.js';
import { cooldownUntil, dailyLossLimitCents } from '../domain/rules/engine.js';
import type { PortfolioSnapshot } from '../domain/types.js';
import { getModelDetail, getOwnedModel, type Model } from '../store/models.js';
import { countPending, positionPlans } from '../store/orders.js';
import { liveExits, type LiveExits } from '../domain/exits.js';
import { loadPortfolioSnapshot } from '../store/portfolio-snapshot.js';
import { loadActiveRules } from '../store/rules.js';
import { getOwnedRun, getRunningRun, latestRunId, type RunRow } from '../store/runs.js';

export interface PortfolioView {
  model_id: number;
  run_id: number | null;
  cash: number;
  long_market_value: number;
  short_market_value: number;
  /** cash + long market value − short market value (= total_value). */
  equity: number;
  buying_power: number;
  margin_used: number;
  /** A negative cash balance as a positive amount (0 when none): a debit halts the model (margin_call). */
  debit: number;
  /** exits: only on a position with an exit attached. */
  positions: (PortfolioLine & { exits?: LiveExits })[];
  total_value: number;
  realized_pnl: number;
  unrealized_pnl: number;
  day_pnl: number;
  as_of: string;
  state: string;
}

async function runOf(deps: Deps, auth: AuthContext, args: { model_id?: number; run_id?: number }): Promise<{ modelId: number; run: RunRow | null }> {
  if (args.run_id) {
    const run = await getOwnedRun(deps.sql, auth.userId, args.run_id);
    if (args.model_id && args.model_id !== run.model_id) throw new ToolError('BAD_ARGS', `Run ${args.run_id} does not belong to model ${args.model_id}.`);
    return { modelId: run.model_id, run };
  }
  if (!args.model_id) throw new ToolError('BAD_ARGS', 'Give model_id or run_id.');
  await getOwnedModel(deps.sql, auth.userId, args.model_id);
  const running = await getRunningRun(deps.sql, args.model_id);
  if (running) return { modelId: args.model_id, run: running };
  // No running run: the latest one, as it ended.
  const latest = await latestRunId(deps.sql, args.model_id);
  return { modelId: args.model_id, run: latest ? await getOwnedRun(deps.sql, auth.userId, latest) : null };
}

export async function portfolioView(deps: Deps, auth: AuthContext, args: { model_id?: number; run_id?: number }): Promise<PortfolioView> {
  const { modelId, run } = await runOf(deps, auth, args);
  const model = await getOwnedModel(deps.sql, auth.userId, modelId);
  return (await valueRun(deps, model, run)).view;
}

/** The run's account at its clock (a live run's: now; an ended run's: where it ended). */
async function valueRun(deps: Deps, model: Model, run: RunRow | null): Promise<{ view: PortfolioView; snapshot: PortfolioSnapshot }> {
  if (!run) {
    const now = new Date();
    return {
      view: {
        model_id: model.model_id,
        run_id: null,
        cash: model.initial_cash,
        long_market_value: 0,
        short_market_value: 0,
        equity: model.initial_cash,
        buying_power: model.initial_cash,
        margin_used: 0,
        debit: 0,
        positions: [],
        total_value: model.initial_cash,
        realized_pnl: 0,
        unrealized_pnl: 0,
        day_pnl: 0,
        as_of: now.toISOString(),
        state: model.state,
      },
      snapshot: await loadPortfolioSnapshot(deps.sql, null, model.initial_cash, deps.market, now),
    };
  }
  const clock = run.status === 'running' ? (run.kind === 'replay' ? new Date(run.clock) : new Date()) : new Date(run.clock);
  const positions = await loadPositions(deps.sql, run.run_id);
  const prices = new Map<string, number>();
  for (const p of positions) prices.set(p.symbol, (await deps.market.priceAt(p.symbol, clock))?.price ?? p.avgCost);
  const marked = markPortfolio(toCents(run.cash), positions, (s) => prices.get(s)!);
  const plans = await positionPlans(deps.sql, run.run_id);
  const lines = marked.positions.map((line) => {
    const p = positions.find((x) => x.symbol === line.symbol)!;
    const plan = plans.get(line.symbol);
    const any = plan && (plan.stop !== null || plan.target !== null || plan.target2 !== null || plan.trailingPct !== null);
    return any ? { ...line, exits: liveExits({ ...p, price: line.price }, plan) } : line;
  });
  const snapshot = await loadPortfolioSnapshot(deps.sql, run, run.initial_cash, deps.market, clock);
  const figures = figuresInDollars(accountFigures(toCents(run.cash), positions.map((p) => ({ quantity: p.quantity, price: prices.get(p.symbol)! })), model.short_margin_pct));
  return {
    view: {
      model_id: model.model_id,
      run_id: run.run_id,
      ...figures,
      debit: run.cash < 0 ? -run.cash : 0,
      positions: lines,
      total_value: fromCents(marked.totalValueCents),
      realized_pnl: run.realized_pnl,
      unrealized_pnl: fromCents(marked.unrealizedPnlCents),
      day_pnl: fromCents(marked.totalValueCents - snapshot.dayStartValueCents),
      as_of: clock.toISOString(),
      state: model.state,
    },
    snapshot,
  };
}

export async function tradingStatus(deps: Deps, auth: AuthContext, modelId: number) {
  const model = await getModelDetail(deps.sql, auth.userId, modelId);
  // The run and the numbers get_portfolio shows: the running run, else the latest one.
  const { run } = await runOf(deps, auth, { model_id: modelId });
  const { view, snapshot } = await valueRun(deps, model, run);
  const clock = new Date(view.as_of);
  const dayPnlCents = toCents(view.day_pnl);
  const rules = await loadActiveRules(deps.sql, modelId);
  const limitCents = dailyLossLimitCents(snapshot.dayStartValueCents, rules);
  const cooling = run?.status === 'running' ? cooldownUntil(snapshot, rules, clock) : null;
  const lossLeft = limitCents === null ? null : fromCents(Math.max(0, limitCents + Math.min(0, dayPnlCents)));
  return {
    model_id: modelId,
    state: model.state,
    reason: model.state_reason,
    run_id: run?.status === 'running' ? run.run_id : null,
    trades_today: snapshot.tradesToday,
    day_pnl: fromCents(dayPnlCents),
    loss_limit_left: lossLeft,
    loss_limit_text: limitCents === null ? 'no daily loss limit rule' : `${formatCents(limitCents)} daily loss limit`,
    pending_approvals: await countPending(deps.sql, modelId),
    loss_streak: snapshot.lossStreak ?? 0,
    cooldown_until: cooling?.toISOString() ?? null,
    as_of: clock.toISOString(),
  };
}
