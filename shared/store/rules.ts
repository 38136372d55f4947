// Rules as stored; the rules server and the trade server read them from here.
// Every change writes one rule_history row (who, through which tool, before, after).
import type { Q } from '../db/database.js';
import type { RuleCategory, RuleRecord } from '../domain/types.js';
import { notFound, ToolError } from '../mcp/errors.js';
import { getOwnedModel } from './models.js';
import { iso } from './rows.js';

export async function loadActiveRules(sql: Q, modelId: number): Promise<RuleRecord[]> {
  const rows = await sql`
    select id, rule_name, rule_category, enforcement_params, applies_to_symbols, exclude_symbols, priority, is_active
    from rules where model_id = ${modelId} and is_active
    order by priority desc, rule_name`;
  return rows.map((r) => ({
    ruleId: String(r.id),
    ruleName: r.rule_name,
    ruleCategory: r.rule_category,
    enforcementParams: r.enforcement_params,
    appliesToSymbols: r.applies_to_symbols ?? null,
    excludeSymbols: r.exclude_symbols ?? null,
    priority: r.priority,
    isActive: r.is_active,
  }));
}

export type RuleCreator = 'user' | 'ai_suggested' | 'template';

/** The fields a caller sets; enforcement_params already validated for rule_category. */
export interface RuleFieldValues {
  rule_name: string;
  rule_description: string;
  rule_category: RuleCategory;
  enforcement_params: Record<string, unknown>;
  applies_to_symbols: string[] | null;
  exclude_symbols: string[] | null;
  priority: number;
  is_active: boolean;
  created_by: RuleCreator;
}

/** A rule on the wire (CONTRACT §3 field names). */
export interface Rule extends RuleFieldValues {
  rule_id: number;
  model_id: number;
  /** Prefix of the API key that last wrote rule_name or rule_description (untrusted text); null: unrecorded. */
  written_by: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

/** Who made a change and through which tool, for the history row. */
export interface ChangeBy {
  keyPrefix: string;
  tool: string;
}

export type HistoryAction = 'create' | 'update' | 'delete' | 'activate' | 'deactivate';

export function toRule(r: Record<string, any>): Rule {
  return {
    rule_id: r.id,
    model_id: r.model_id,
    rule_name: r.rule_name,
    rule_description: r.rule_description,
    rule_category: r.rule_category,
    enforcement_params: r.enforcement_params,
    applies_to_symbols: r.applies_to_symbols ?? null,
    exclude_symbols: r.exclude_symbols ?? null,
    priority: r.priority,
    is_active: r.is_active,
    created_by: r.created_by,
    written_by: r.text_key_prefix ?? null,
    version: r.version,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
  };
}

/** The caller's model's rules, highest priority first; another user's model is reported as missing. */
export async function listRules(sql: Q, userId: number, modelId: number, includeInactive: boolean): Promise<Rule[]> {
  await getOwnedModel(sql, userId, modelId);
  const rows = await sql`
    select * from rules where model_id = ${modelId} ${includeInactive ? sql`` : sql`and is_active`}
    order by priority desc, rule_name`;
  return rows.map(toRule);
}

/** The caller's rule, optionally locked; another user's rule is reported as missing. */
export async function getOwnedRule(sql: Q, userId: number, ruleId: number, lock = false): Promise<Rule> {
  const rows = lock
    ? await sql`select r.* from rules r join models m on m.id = r.model_id where r.id = ${ruleId} and m.user_id = ${userId} for update of r`
    : await sql`select r.* from rules r join models m on m.id = r.model_id where r.id = ${ruleId} and m.user_id = ${userId}`;
  if (!rows[0]) throw notFound('Rule', ruleId);
  return toRule(rows[0]);
}

/** Which of `names` the model already uses. */
export async function takenRuleNames(sql: Q, modelId: number, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await sql`select rule_name from rules where model_id = ${modelId} and rule_name = any(${names}::text[]) order by rule_name`;
  return rows.map((r) => r.rule_name as string);
}

export async function insertRule(tx: Q, modelId: number, fields: RuleFieldValues, by: ChangeBy): Promise<Rule> {
  await assertNameFree(tx, modelId, fields.rule_name);
  const [row] = await nameClashAsSentence(modelId, fields.rule_name, () =>
    tx`insert into rules ${tx({ model_id: modelId, ...fields, text_key_prefix: by.keyPrefix } as Record<string, any>)} returning *`,
  );
  const rule = toRule(row!);
  await recordChange(tx, rule.model_id, rule.rule_id, 'create', by, null, rule);
  return rule;
}

/** Applies the changed fields (version + 1) and records the history; no change, no row. */
export async function updateRule(
  tx: Q,
  rule: Rule,
  changes: Partial<RuleFieldValues>,
  by: ChangeBy,
  action: 'update' | 'activate' | 'deactivate' = 'update',
): Promise<Rule> {
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(changes) as [keyof RuleFieldValues, unknown][]) {
    if (v !== undefined && !sameValue(rule[k], v)) values[k] = v;
  }
  if (Object.keys(values).length === 0) return rule;
  if (typeof values.rule_name === 'string') await assertNameFree(tx, rule.model_id, values.rule_name);
  // whoever writes a rule's text is named to its readers (untrusted content)
  if ('rule_name' in values || 'rule_description' in values) values.text_key_prefix = by.keyPrefix;
  const [row] = await nameClashAsSentence(rule.model_id, String(values.rule_name), () => tx`
    update rules set ${tx(values as Record<string, any>)}, version = version + 1, updated_at = now()
    where id = ${rule.rule_id} returning *`);
  const after = toRule(row!);
  await recordChange(tx, rule.model_id, rule.rule_id, action, by, rule, after);
  return after;
}

export async function deleteRule(tx: Q, rule: Rule, by: ChangeBy): Promise<void> {
  await tx`delete from rules where id = ${rule.rule_id}`;
  await recordChange(tx, rule.model_id, rule.rule_id, 'delete', by, rule, null);
}

/** Every rule of a model, locked, for replacing them all. */
export async function lockModelRules(tx: Q, modelId: number): Promise<Rule[]> {
  const rows = await tx`select * from rules where model_id = ${modelId} order by priority desc, rule_name for update`;
  return rows.map(toRule);
}

export interface HistoryEntry {
  id: number;
  rule_id: number;
  rule_name: string | null;
  action: HistoryAction;
  key_prefix: string;
  tool: string;
  changed_at: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** The model's rule changes, newest first; another user's model is reported as missing. */
export async function listRuleHistory(sql: Q, userId: number, modelId: number, limit: number): Promise<HistoryEntry[]> {
  await getOwnedModel(sql, userId, modelId);
  const rows = await sql`
    select id, rule_id, action, key_prefix, tool, changed_at, before, after
    from rule_history where model_id = ${modelId}
    order by id desc limit ${limit}`;
  return rows.map((r) => ({
    id: r.id,
    rule_id: r.rule_id,
    rule_name: (r.after?.rule_name ?? r.before?.rule_name ?? null) as string | null,
    action: r.action,
    key_prefix: r.key_prefix,
    tool: r.tool,
    changed_at: iso(r.changed_at)!,
    before: r.before ?? null,
    after: r.after ?? null,
  }));
}

async function recordChange(tx: Q, modelId: number, ruleId: number, action: HistoryAction, by: ChangeBy, before: Rule | null, after: Rule | null) {
  await tx`
    insert into rule_history (model_id, rule_id, action, key_prefix, tool, before, after)
    values (${modelId}, ${ruleId}, ${action}, ${by.keyPrefix}, ${by.tool}, ${before as any}, ${after as any})`;
}

function duplicateName(modelId: number, name: string): ToolError {
  return new ToolError('DUPLICATE_RULE_NAME', `Model ${modelId} already has a rule named '${name}'; pick another name.`);
}

// Checked before writing so the caller gets one sentence, not a constraint error.
async function assertNameFree(tx: Q, modelId: number, name: string): Promise<void> {
  if ((await takenRuleNames(tx, modelId, [name])).length > 0) throw duplicateName(modelId, name);
}

// A racing writer can still take the name between the check and the write.
async function nameClashAsSentence<T>(modelId: number, name: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw duplicateName(modelId, name);
    throw err;
  }
}

/** Equal as JSON regardless of key order (jsonb does not keep it). */
function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}
