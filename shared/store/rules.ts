// Rules as stored; the rules server and the trade server read them from here.
import type { Q } from '../db/database.js';
import type { RuleRecord } from '../domain/types.js';

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
