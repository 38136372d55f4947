import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { getOwnedRule } from '../../../shared/store/rules.js';
import { ruleOutput, ruleSummary } from './rule-fields.js';

export const getRuleTool = defineTool({
  name: 'get_rule',
  title: 'Get rule',
  description: 'One rule with its parameters and version.',
  scope: 'read',
  input: { rule_id: idSchema('rule_id') },
  output: ruleOutput,
  annotations: READ_ONLY,
  async handler({ rule_id }, { deps, auth }) {
    const rule = await getOwnedRule(deps.sql, auth.userId, rule_id);
    return { data: rule, summary: ruleSummary(rule) };
  },
});
