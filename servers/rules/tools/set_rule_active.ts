import { z } from 'zod';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { getOwnedRule, updateRule } from '../../../shared/store/rules.js';
import { changeBy, ruleOutput, ruleSummary } from './rule-fields.js';

export const setRuleActiveTool = defineTool({
  name: 'set_rule_active',
  title: 'Activate or deactivate rule',
  description: 'Turn a rule on or off (inactive rules are kept, never enforced). Needs rules:write.',
  scope: 'rules:write',
  input: { rule_id: idSchema('rule_id'), is_active: z.boolean().describe('true enforces the rule; false keeps it unenforced') },
  output: ruleOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ rule_id, is_active }, { deps, auth }) {
    const { rule, changed } = await deps.sql.begin(async (tx) => {
      const found = await getOwnedRule(tx, auth.userId, rule_id, true);
      const updated = await updateRule(tx, found, { is_active }, changeBy(auth, 'set_rule_active'), is_active ? 'activate' : 'deactivate');
      return { rule: updated, changed: updated.version !== found.version };
    });
    const what = is_active ? 'active' : 'inactive';
    return { data: rule, summary: `${changed ? `Now ${what}` : `Already ${what}`}. ${ruleSummary(rule)}` };
  },
});
