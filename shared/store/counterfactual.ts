// What a counterfactual replay reads of a run: its agent order attempts with their outcomes,
// the (wall clock, run clock) marks that date approvals and cancellations, and the rule
// set and settings frozen in its strategy snapshot. Read only.
import type { Q } from '../db/database.js';
import type { ClockMark, RecordedExitChange, RecordedOrder } from '../domain/counterfactual.js';
import type { OrderStatus } from '../domain/decide.js';
import type { DecideModel } from '../domain/decide.js';
import type { RuleCategory, RuleRecord } from '../domain/types.js';
import { bracketFromRow, type OrderChange } from './orders.js';
import { iso, num, numOrNull } from './rows.js';
import type { StrategySnapshot } from './runs.js';

/** Every order the agent placed in the run (source 'agent'), in placement order, with its fill. */
export async function loadRecordedOrders(sql: Q, runId: number): Promise<RecordedOrder[]> {
  const rows = await sql`
    select o.id, o.side, o.symbol, o.quantity, o.order_type, o.limit_price, o.stop_price, o.stop_loss, o.take_profit, o.clock, o.created_at,
           o.take_profit_2, o.first_target_fraction, o.breakeven_after_first_target, o.trailing_stop_pct, o.changes,
           (case when o.status = 'pending_approval' and o.expires_at <= clock_timestamp() then 'expired' else o.status end) as status,
           o.rejections, o.decided_by, o.decided_at, o.closes_position, f.price as f_price, f.quantity as f_quantity, f.clock as f_clock
    from orders o left join fills f on f.order_id = o.id
    where o.run_id = ${runId} and o.source = 'agent'
    order by o.id`;
  return rows.map((r) => {
    const changes = (r.changes ?? []) as OrderChange[];
    // a modified row holds its latest terms; the first change holds the placed ones (an
    // approval's edit holds the stop and target placed, and the terms approved)
    const placed = changes[0]?.before;
    const stopOf = (t: Partial<OrderChange['before']> | undefined) => t?.stop_price ?? numOrNull(r.stop_price);
    const approval = changes.find((c) => c.kind === 'approval');
    return {
      order_id: r.id as number,
      side: r.side,
      symbol: r.symbol,
      quantity: placed ? placed.quantity : (r.quantity as number),
      decided_quantity: r.quantity as number,
      order_type: r.order_type,
      limit_price: placed ? placed.limit_price : numOrNull(r.limit_price),
      stop_price: placed ? stopOf(placed) : numOrNull(r.stop_price),
      stop_loss: approval ? (approval.before.stop_loss ?? null) : numOrNull(r.stop_loss),
      take_profit: approval ? (approval.before.take_profit ?? null) : numOrNull(r.take_profit),
      approval_edit: approval && { quantity: approval.after.quantity, stop_loss: approval.after.stop_loss ?? null, take_profit: approval.after.take_profit ?? null },
      ...bracketFromRow(r),
      clock: iso(r.clock)!,
      created_at: iso(r.created_at)!,
      status: r.status as OrderStatus,
      rejections: r.rejections ?? [],
      fill: r.f_price === null || r.f_price === undefined ? null : { price: num(r.f_price), quantity: r.f_quantity as number, clock: iso(r.f_clock)! },
      decided_by: r.decided_by ?? null,
      decided_at: iso(r.decided_at),
      closes_position: r.closes_position === true,
      modifications: changes
        .filter((c) => c.kind === undefined)
        .map((c) => ({ wall: Date.parse(c.at), clock: Date.parse(c.clock), limit_price: c.after.limit_price, stop_price: stopOf(c.after), quantity: c.after.quantity })),
    };
  });
}

/** Every set_exits of the run, in the order they were made. */
export async function loadExitChanges(sql: Q, runId: number): Promise<RecordedExitChange[]> {
  const rows = await sql`select symbol, clock, created_at, changes from position_exit_changes where run_id = ${runId} order by id`;
  return rows.map((r) => ({ wall: new Date(r.created_at).getTime(), clock: new Date(r.clock).getTime(), symbol: r.symbol, changes: r.changes }));
}

/** (wall clock, run clock) of every order, fill, reasoning entry and equity point (clock step) of the run. */
export async function loadClockMarks(sql: Q, runId: number): Promise<ClockMark[]> {
  const rows = await sql`
    select created_at, clock from orders where run_id = ${runId}
    union all select created_at, clock from fills where run_id = ${runId}
    union all select created_at, clock from reasoning_log where run_id = ${runId}
    union all select recorded_at, clock from equity_snapshots where run_id = ${runId}`;
  return rows.map((r) => ({ wall: new Date(r.created_at).getTime(), clock: new Date(r.clock).getTime() }));
}

/** The settings decideOrder reads, from a strategy snapshot's model (a field missing: the default). */
export function snapshotModel(snapshot: StrategySnapshot): DecideModel {
  const m = snapshot.model as Record<string, unknown>;
  const n = (k: string, d: number) => (m[k] === undefined || m[k] === null ? d : num(m[k]));
  return {
    allow_short: m.allow_short === true,
    allowed_symbols: (m.allowed_symbols as string[] | null | undefined) ?? null,
    state: 'active',
    state_reason: null,
    execution_mode: m.execution_mode === 'validation' ? 'validation' : 'simulation',
    require_approval: m.require_approval === true,
    commission_per_share: n('commission_per_share', 0),
    slippage_bps: n('slippage_bps', 0),
    max_drawdown_halt_pct: n('max_drawdown_halt_pct', 0.25),
    max_orders_per_minute: n('max_orders_per_minute', 60),
    short_margin_pct: n('short_margin_pct', 0.5),
  };
}

/** The rules frozen in a strategy snapshot, as the engine reads them (all were active). */
export function snapshotRules(snapshot: StrategySnapshot): RuleRecord[] {
  return snapshot.rules.map((r) => ({
    ruleId: String(r.rule_id),
    ruleName: r.rule_name as string,
    ruleCategory: r.rule_category as RuleCategory,
    enforcementParams: (r.enforcement_params ?? {}) as Record<string, unknown>,
    appliesToSymbols: (r.applies_to_symbols as string[] | null | undefined) ?? null,
    excludeSymbols: (r.exclude_symbols as string[] | null | undefined) ?? null,
    priority: (r.priority as number | undefined) ?? 5,
    isActive: true,
  }));
}

/** A manual trading-state change (halt_trading, resume_trading), with the model's running run. */
export async function recordStateChange(sql: Q, modelId: number, state: 'active' | 'reducing' | 'halted', reason: string | null, keyPrefix: string): Promise<void> {
  await sql`
    insert into model_state_events (model_id, run_id, state, reason, key_prefix)
    values (${modelId}, (select id from runs where model_id = ${modelId} and status = 'running'), ${state}, ${reason}, ${keyPrefix})`;
}

/** The manual state changes made while the run was running, in order: wall time, state, reason. */
export async function loadStateChanges(sql: Q, runId: number): Promise<{ wall: number; state: 'active' | 'reducing' | 'halted'; reason: string | null; by: string | null }[]> {
  const rows = await sql`select state, reason, key_prefix, created_at from model_state_events where run_id = ${runId} order by id`;
  return rows.map((r) => ({ wall: new Date(r.created_at).getTime(), state: r.state, reason: r.reason ?? null, by: r.key_prefix ?? null }));
}
