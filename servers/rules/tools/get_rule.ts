import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { getOwnedRule } from '../../../shared/store/rules.js';
import { quoted } from '../../../shared/mcp/untrusted.js';
import { ruleOutput, rulesNotice, ruleSummary, untrustedField } from './rule-fields.js';

export const getRuleTool = defineTool({
  name: 'get_rule',
  title: 'Get rule',
  description: 'One rule with its parameters and version.',
  scope: 'read',
  input: { rule_id: idSchema('rule_id') },
  output: { ...ruleOutput, untrusted_content: untrustedField },
  annotations: READ_ONLY,
  async handler({ rule_id }, { deps, auth }) {
    const rule = await getOwnedRule(deps.sql, auth.userId, rule_id);
    const description = rule.rule_description ? ` Description: ${quoted(rule.rule_description)}` : '';
    return { data: { ...rule, untrusted_content: rulesNotice([rule]) }, summary: `${ruleSummary(rule)}${description}\n${rulesNotice([rule])}` };
  },
});
