// Models: one trading strategy with its own money, owned by one user.
import type { Q } from '../db/database.js';
import { notFound, ToolError } from '../mcp/errors.js';
import { iso, num } from './rows.js';

export interface ModelSettings {
  initial_cash: number;
  allowed_symbols: string[] | null;
  allow_short: boolean;
  require_approval: boolean;
  execution_mode: 'simulation' | 'validation';
  commission_per_share: number;
  slippage_bps: number;
  max_drawdown_halt_pct: number;
  instructions: string;
  max_orders_per_minute: number;
  /** Collateral beyond a short's proceeds, a fraction (0.5: a short needs its value × 1.5). */
  short_margin_pct: number;
  /** Minutes a pending approval waits before it expires (default 15). */
  approval_expiry_minutes: number;
}

export interface Model extends ModelSettings {
  model_id: number;
  name: string;
  state: 'active' | 'reducing' | 'halted';
  state_reason: string | null;
  created_at: string;
  updated_at: string;
}

export const SETTING_COLUMNS = [
  'initial_cash',
  'allowed_symbols',
  'allow_short',
  'require_approval',
  'execution_mode',
  'commission_per_share',
  'slippage_bps',
  'max_drawdown_halt_pct',
  'instructions',
  'max_orders_per_minute',
  'short_margin_pct',
  'approval_expiry_minutes',
] as const;

export function toModel(r: Record<string, any>): Model {
  return {
    model_id: r.id,
    name: r.name,
    initial_cash: num(r.initial_cash),
    allowed_symbols: r.allowed_symbols ?? null,
    allow_short: r.allow_short,
    require_approval: r.require_approval,
    execution_mode: r.execution_mode,
    commission_per_share: num(r.commission_per_share),
    slippage_bps: num(r.slippage_bps),
    max_drawdown_halt_pct: num(r.max_drawdown_halt_pct),
    instructions: r.instructions,
    max_orders_per_minute: r.max_orders_per_minute,
    short_margin_pct: r.short_margin_pct === undefined ? 0.5 : num(r.short_margin_pct),
    approval_expiry_minutes: r.approval_expiry_minutes ?? 15,
    state: r.state,
    state_reason: r.state_reason ?? null,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
  };
}

export async function createModel(sql: Q, userId: number, name: string, settings: Partial<ModelSettings>): Promise<Model> {
  const values: Record<string, unknown> = { user_id: userId, name };
  for (const c of SETTING_COLUMNS) if (settings[c] !== undefined) values[c] = settings[c];
  try {
    const [row] = await sql`insert into models ${sql(values as Record<string, any>)} returning *`;
    return toModel(row!);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      throw new ToolError('DUPLICATE_NAME', `You already have a model named '${name}'; pick another name.`);
    }
    throw err;
  }
}

/** The caller's model, optionally locked; another user's model is reported as missing. */
export async function getOwnedModel(sql: Q, userId: number, modelId: number, lock = false): Promise<Model> {
  const rows = lock
    ? await sql`select * from models where id = ${modelId} and user_id = ${userId} for update`
    : await sql`select * from models where id = ${modelId} and user_id = ${userId}`;
  if (!rows[0]) throw notFound('Model', modelId);
  return toModel(rows[0]);
}

/** Locks a model row by id, for background work that acts for its owner (the live ticker). */
export async function lockModel(sql: Q, modelId: number): Promise<void> {
  await sql`select id from models where id = ${modelId} for update`;
}

/** A model by id, for internal paths that already hold an owned run. */
export async function getModelById(sql: Q, modelId: number): Promise<Model> {
  const [row] = await sql`select * from models where id = ${modelId}`;
  if (!row) throw notFound('Model', modelId);
  return toModel(row);
}

export async function updateModel(sql: Q, userId: number, modelId: number, changes: Partial<ModelSettings> & { name?: string }): Promise<Model> {
  const values: Record<string, unknown> = {};
  for (const c of [...SETTING_COLUMNS, 'name'] as const) if (changes[c] !== undefined) values[c] = changes[c];
  if (Object.keys(values).length === 0) throw new ToolError('NOTHING_TO_UPDATE', 'Give at least one field to change.');
  try {
    const [row] = await sql`update models set ${sql(values as Record<string, any>)}, updated_at = now()
                            where id = ${modelId} and user_id = ${userId} returning *`;
    if (!row) throw notFound('Model', modelId);
    return toModel(row);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      throw new ToolError('DUPLICATE_NAME', `You already have a model named '${String(changes.name)}'; pick another name.`);
    }
    throw err;
  }
}

/** The user's models by ascending id, after `afterId` (a page's cursor), at most `limit` (default all). */
export async function listModels(sql: Q, userId: number, limit?: number, afterId = 0) {
  const rows = await sql`
    select m.*, r.id as running_run_id, r.run_number as running_run_number, r.kind as running_kind,
           (select count(*)::int from rules where model_id = m.id and is_active) as active_rules
    from models m
    left join runs r on r.model_id = m.id and r.status = 'running'
    where m.user_id = ${userId} and m.id > ${afterId}
    order by m.id
    ${limit === undefined ? sql`` : sql`limit ${limit}`}`;
  return rows.map((r) => ({ ...toModel(r), ...runningRun(r), active_rule_count: r.active_rules as number }));
}

export async function getModelDetail(sql: Q, userId: number, modelId: number) {
  const [r] = await sql`
    select m.*, r.id as running_run_id, r.run_number as running_run_number, r.kind as running_kind,
           (select count(*)::int from rules where model_id = m.id and is_active) as active_rules
    from models m
    left join runs r on r.model_id = m.id and r.status = 'running'
    where m.id = ${modelId} and m.user_id = ${userId}`;
  if (!r) throw notFound('Model', modelId);
  return { ...toModel(r), ...runningRun(r), active_rule_count: r.active_rules as number };
}

function runningRun(r: Record<string, any>) {
  return {
    running_run: r.running_run_id ? { run_id: r.running_run_id as number, run_number: r.running_run_number as number, kind: r.running_kind as string } : null,
  };
}
