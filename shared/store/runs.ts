// Runs: one trading session of a model, its account (cash on the run row), its clock,
// its equity curve and its reasoning log.
import { settleAll, type Q, type Sql } from '../db/database.js';
import { centsToDecimal, fromCents, toCents } from '../domain/money.js';
import type { Market } from '../market/market.js';
import { markAccount } from './accounts.js';
import { notFound, ToolError } from '../mcp/errors.js';
import { getOwnedModel, toModel, type Model } from './models.js';
import { iso, num } from './rows.js';

export type RunStatus = 'running' | 'completed' | 'stopped';

export interface Run {
  run_id: number;
  model_id: number;
  run_number: number;
  kind: 'replay' | 'live';
  status: RunStatus;
  timespan: 'day' | 'minute' | null;
  session: 'regular' | 'extended';
  start: string | null;
  end: string | null;
  /** Replay: the simulated clock. Live: the wall clock when read. */
  clock: string;
  symbols: string[];
  label: string | null;
  initial_cash: number;
  cash: number;
  started_at: string;
  ended_at: string | null;
  final_stats: FinalStats | null;
}

export interface FinalStats {
  total_trades: number;
  final_value: number;
  total_return: number;
  max_drawdown: number;
}

export interface RunRow extends Run {
  strategy_snapshot: StrategySnapshot;
  peak_value: number;
  realized_pnl: number;
}

export interface StrategySnapshot {
  taken_at: string;
  model: Record<string, unknown>;
  instructions: string;
  rules: Record<string, unknown>[];
}

export function toRun(r: Record<string, any>, now = new Date()): RunRow {
  return {
    run_id: r.id,
    model_id: r.model_id,
    run_number: r.run_number,
    kind: r.kind,
    status: r.status,
    timespan: r.timespan ?? null,
    session: r.session,
    start: iso(r.range_start),
    end: iso(r.range_end),
    clock: r.kind === 'replay' ? iso(r.clock)! : r.status === 'running' ? now.toISOString() : iso(r.ended_at ?? now)!,
    symbols: r.symbols ?? [],
    label: r.label ?? null,
    initial_cash: num(r.initial_cash),
    cash: num(r.cash),
    started_at: iso(r.started_at)!,
    ended_at: iso(r.ended_at),
    final_stats: r.final_stats ?? null,
    strategy_snapshot: r.strategy_snapshot,
    peak_value: num(r.peak_value),
    realized_pnl: num(r.realized_pnl),
  };
}

/** The public shape of a run (no snapshot, no account internals). */
export function publicRun(run: RunRow): Run {
  const { strategy_snapshot: _s, peak_value: _p, realized_pnl: _r, ...rest } = run;
  return rest;
}

export async function buildSnapshot(sql: Q, model: Model): Promise<StrategySnapshot> {
  const rules = await sql`
    select id as rule_id, rule_name, rule_description, rule_category, enforcement_params,
           applies_to_symbols, exclude_symbols, priority, version, created_by
    from rules where model_id = ${model.model_id} and is_active
    order by priority desc, rule_name`;
  const { instructions, state: _state, state_reason: _reason, created_at: _c, updated_at: _u, ...settings } = model;
  return { taken_at: new Date().toISOString(), model: settings, instructions, rules: rules.map((r) => ({ ...r })) };
}

export interface NewRun {
  kind: 'replay' | 'live';
  timespan?: 'day' | 'minute';
  session?: 'regular' | 'extended';
  start?: Date;
  end?: Date;
  clock?: Date;
  symbols?: string[];
  label?: string;
}

/** Starts a run inside the caller's transaction; the model row is locked so two starts cannot race. */
export async function startRun(tx: Q, userId: number, modelId: number, input: NewRun): Promise<RunRow> {
  const model = await getOwnedModel(tx, userId, modelId, true);
  const [running] = await tx`select id, run_number from runs where model_id = ${modelId} and status = 'running'`;
  if (running) {
    throw new ToolError(
      'RUN_ALREADY_RUNNING',
      `Model ${modelId} already has a running run (run ${running.id}, #${running.run_number}); end it with end_run first.`,
    );
  }
  const [{ next }] = (await tx`select coalesce(max(run_number), 0) + 1 as next from runs where model_id = ${modelId}`) as any;
  const snapshot = await buildSnapshot(tx, model);
  const cash = centsToDecimal(toCents(model.initial_cash));
  const [row] = await tx`
    insert into runs ${tx({
      model_id: modelId,
      run_number: next,
      kind: input.kind,
      status: 'running',
      timespan: input.timespan ?? null,
      session: input.session ?? 'regular',
      range_start: input.start ?? null,
      range_end: input.end ?? null,
      clock: input.clock ?? null,
      symbols: input.symbols ?? [],
      label: input.label ?? null,
      strategy_snapshot: snapshot as any,
      initial_cash: cash,
      cash,
      peak_value: cash,
    } as Record<string, any>)}
    returning *`;
  return toRun(row!);
}

/** The caller's run, optionally locked (the account lock); another user's is reported missing. */
export async function getOwnedRun(sql: Q, userId: number, runId: number, lock = false): Promise<RunRow> {
  const rows = lock
    ? await sql`select r.* from runs r join models m on m.id = r.model_id where r.id = ${runId} and m.user_id = ${userId} for update of r`
    : await sql`select r.* from runs r join models m on m.id = r.model_id where r.id = ${runId} and m.user_id = ${userId}`;
  if (!rows[0]) throw notFound('Run', runId);
  return toRun(rows[0]);
}

/**
 * The caller's run locked after its model row (the order path's lock order), with that
 * model, in one round trip: the model lock first, so the run is read after the lock is
 * granted. Another user's run is reported missing.
 */
export async function lockOwnedRun(tx: Q, userId: number, runId: number): Promise<{ run: RunRow; model: Model }> {
  const model = tx`select m.* from models m join runs r on r.model_id = m.id where r.id = ${runId} and m.user_id = ${userId} for update of m`;
  const run = getOwnedRun(tx, userId, runId, true);
  await settleAll([model, run]);
  return { run: await run, model: toModel((await model)[0]!) };
}

export async function getRunningRun(sql: Q, modelId: number, lock = false): Promise<RunRow | null> {
  const rows = lock
    ? await sql`select * from runs where model_id = ${modelId} and status = 'running' for update`
    : await sql`select * from runs where model_id = ${modelId} and status = 'running'`;
  return rows[0] ? toRun(rows[0]) : null;
}

export function requireRunning(run: RunRow): void {
  if (run.status !== 'running') {
    throw new ToolError('RUN_ENDED', `Run ${run.run_id} has already ended (${run.status}); start a new run.`);
  }
}

/** The account columns of a run, as they are now (inside an order transaction: locked). */
export async function readAccount(sql: Q, runId: number) {
  const [r] = await sql`select id, cash, realized_pnl, initial_cash, peak_value, kind, clock from runs where id = ${runId}`;
  if (!r) throw notFound('Run', runId);
  return {
    run_id: runId,
    cash: num(r.cash),
    realized_pnl: num(r.realized_pnl),
    initial_cash: num(r.initial_cash),
    peak_value: num(r.peak_value),
    /** Replay: the run clock; live: now. */
    clock: r.kind === 'replay' ? new Date(r.clock) : new Date(),
  };
}

export async function latestRunId(sql: Q, modelId: number): Promise<number | null> {
  const [r] = await sql`select id from runs where model_id = ${modelId} order by run_number desc limit 1`;
  return r ? (r.id as number) : null;
}

/** Running live runs: the ticker's work list. */
export async function liveRunsRunning(sql: Q): Promise<{ run_id: number; model_id: number }[]> {
  const rows = await sql`select id, model_id from runs where kind = 'live' and status = 'running' order by id`;
  return rows.map((r) => ({ run_id: r.id as number, model_id: r.model_id as number }));
}

/** A live run's last tick: runs.clock, or its start before the first tick. */
export async function lastTick(sql: Q, runId: number): Promise<Date> {
  const [r] = await sql`select coalesce(clock, started_at) as t from runs where id = ${runId}`;
  if (!r) throw notFound('Run', runId);
  return new Date(r.t);
}

export async function setRunClock(sql: Q, runId: number, clock: Date): Promise<void> {
  await sql`update runs set clock = ${clock} where id = ${runId}`;
}

/**
 * The equity point at `clock` (replacing one there) and the run's peak value. With
 * `moveClock`, the same statement that raises the peak moves the run's clock to `clock`
 * (advance_run's step).
 */
export async function recordEquity(sql: Q, runId: number, clock: Date, cashCents: number, positionsCents: number, moveClock = false): Promise<void> {
  const total = centsToDecimal(cashCents + positionsCents);
  // One statement: the point in a CTE, then the run row.
  await sql`
    with point as (
      insert into equity_snapshots (run_id, clock, cash, positions_value, total_value)
      values (${runId}, ${clock}, ${centsToDecimal(cashCents)}, ${centsToDecimal(positionsCents)}, ${total})
      on conflict (run_id, clock) do update
        set cash = excluded.cash, positions_value = excluded.positions_value, total_value = excluded.total_value)
    update runs set peak_value = greatest(peak_value, ${total}::numeric),
      clock = case when ${moveClock}::boolean then ${clock}::timestamptz else clock end
    where id = ${runId}`;
}

export async function equityCurve(sql: Q, runId: number): Promise<{ clock: string; cash: number; positions_value: number; total_value: number }[]> {
  const rows = await sql`select clock, cash, positions_value, total_value from equity_snapshots where run_id = ${runId} order by clock`;
  return rows.map((r) => ({ clock: iso(r.clock)!, cash: num(r.cash), positions_value: num(r.positions_value), total_value: num(r.total_value) }));
}

export async function finishRun(tx: Q, run: RunRow, status: 'completed' | 'stopped', stats: FinalStats, endedAt: Date): Promise<RunRow> {
  const [row] = await tx`
    update runs set status = ${status}, ended_at = ${endedAt}, final_stats = ${stats as any}
    where id = ${run.run_id} returning *`;
  return toRun(row!);
}

/**
 * Ends a run at its clock, from the books alone: expires its resting orders, records the last
 * equity point there, computes the final stats from the equity curve and the fill count, and
 * sets the status. end_run and advance_run (at the end of a replay) share it. No analytics run
 * here: the threat history hangs off the end after it commits (shared/trading/run-end.ts).
 */
export async function completeRun(tx: Q, market: Market, run: RunRow, status: 'completed' | 'stopped', endedAt: Date): Promise<RunRow> {
  const clock = new Date(run.clock);
  // Resting orders end with their run (CONTRACT §1): expired, with the reason.
  await tx`
    update orders set status = 'expired', decided_at = now(), decided_by = 'run end',
      decision_note = ${`Run ${run.run_id} ${status === 'completed' ? 'completed' : 'was stopped'} at ${clock.toISOString()}; resting orders end with their run.`}
    where run_id = ${run.run_id} and status in ('open', 'pending_approval')`;
  const account = await markAccount(tx, market, run, clock);
  await recordEquity(tx, run.run_id, clock, account.cashCents, account.positionsCents);
  const curve = (await equityCurve(tx, run.run_id)).map((p) => p.total_value);
  const counts = await runCounts(tx, run.run_id);
  const stats = computeFinalStats(run.initial_cash, curve.length ? curve : [fromCents(account.totalCents)], counts.fills);
  return finishRun(tx, run, status, stats, endedAt);
}

export async function runCounts(sql: Q, runId: number) {
  const [c] = await sql`
    select
      (select count(*)::int from orders where run_id = ${runId}) as orders,
      (select count(*)::int from fills where run_id = ${runId}) as fills,
      (select count(*)::int from orders where run_id = ${runId} and status = 'rejected') as rejections,
      (select count(*)::int from reasoning_log where run_id = ${runId}) as reasoning`;
  return c as { orders: number; fills: number; rejections: number; reasoning: number };
}

/** A model's runs ascending by run_number after `afterNumber` (shared/mcp/paging.ts), at most `limit`. */
export async function listRuns(sql: Sql, userId: number, modelId: number, status: RunStatus | undefined, limit: number, afterNumber = 0) {
  await getOwnedModel(sql, userId, modelId);
  const rows = await sql`
    select r.*,
      (select count(*)::int from fills f where f.run_id = r.id) as fill_count,
      (select total_value from equity_snapshots e where e.run_id = r.id order by clock desc limit 1) as last_value
    from runs r
    where r.model_id = ${modelId} ${status ? sql`and r.status = ${status}` : sql``} and r.run_number > ${afterNumber}
    order by r.run_number
    limit ${limit}`;
  return rows.map((r) => {
    const run = publicRun(toRun(r));
    const value = r.last_value === null || r.last_value === undefined ? run.cash : num(r.last_value);
    return {
      ...run,
      summary: {
        trades: r.fill_count as number,
        value,
        return: run.initial_cash > 0 ? value / run.initial_cash - 1 : 0,
      },
    };
  });
}

/** `keyPrefix`: the API key that wrote it (null: the system, e.g. a corporate action). */
export async function logReasoning(sql: Q, runId: number, type: string, content: string, context: unknown, clock: Date, keyPrefix: string | null = null): Promise<number> {
  const [row] = await sql`
    insert into reasoning_log (run_id, reasoning_type, content, context, clock, key_prefix)
    values (${runId}, ${type}, ${content}, ${context === undefined ? null : (context as any)}, ${clock}, ${keyPrefix})
    returning id`;
  return row!.id as number;
}

/** A run's reasoning ascending by id after `afterId` (shared/mcp/paging.ts), at most `limit`. */
export async function getReasoning(sql: Q, runId: number, type: string | undefined, limit: number, afterId = 0) {
  const rows = await sql`
    select id, reasoning_type, content, context, clock, created_at, key_prefix from reasoning_log
    where run_id = ${runId} ${type ? sql`and reasoning_type = ${type}` : sql``} and id > ${afterId}
    order by id limit ${limit}`;
  return rows.map((r) => ({
    id: r.id as number,
    reasoning_type: r.reasoning_type as string,
    content: r.content as string,
    context: (r.context ?? null) as Record<string, unknown> | null,
    clock: iso(r.clock)!,
    created_at: iso(r.created_at)!,
    /** The API key (prefix) that wrote it; null for the system's entries and rows before migration 019. */
    written_by: (r.key_prefix ?? null) as string | null,
  }));
}

/** Final stats from the equity curve: max drawdown uses the starting value as the first point. */
export function computeFinalStats(initialValue: number, curve: number[], totalTrades: number): FinalStats {
  let peak = initialValue;
  let maxDd = 0;
  for (const v of curve) {
    peak = Math.max(peak, v);
    if (peak > 0) maxDd = Math.min(maxDd, v / peak - 1);
  }
  const finalValue = curve.length ? curve[curve.length - 1]! : initialValue;
  return {
    total_trades: totalTrades,
    final_value: finalValue,
    total_return: initialValue > 0 ? round6(finalValue / initialValue - 1) : 0,
    max_drawdown: round6(maxDd),
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
