import { z } from 'zod';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { deleteRule, getOwnedRule } from '../../../shared/store/rules.js';
import { changeBy } from './rule-fields.js';

export const deleteRuleTool = defineTool({
  name: 'delete_rule',
  title: 'Delete rule',
  description: 'Delete a rule; its history is kept. To pause a rule instead, use set_rule_active. Needs rules:write.',
  scope: 'rules:write',
  input: { rule_id: idSchema('rule_id') },
  output: { deleted_rule_id: z.number() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async handler({ rule_id }, { deps, auth }) {
    const rule = await deps.sql.begin(async (tx) => {
      const found = await getOwnedRule(tx, auth.userId, rule_id, true);
      await deleteRule(tx, found, changeBy(auth, 'delete_rule'));
      return found;
    });
    return { data: { deleted_rule_id: rule.rule_id }, summary: `Deleted rule ${rule.rule_id} '${rule.rule_name}' of model ${rule.model_id}.` };
  },
});
