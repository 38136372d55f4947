import { z } from 'zod';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { listRules } from '../../../shared/store/rules.js';
import { ruleOutputObject, rulesNotice, ruleSummary, untrustedField } from './rule-fields.js';

export const listRulesTool = defineTool({
  name: 'list_rules',
  title: 'List rules',
  description: "A model's rules, highest priority first. Inactive ones only with include_inactive.",
  scope: 'read',
  input: {
    model_id: idSchema('model_id'),
    include_inactive: z.boolean().default(false).describe('Include inactive rules too'),
  },
  output: { rules: z.array(ruleOutputObject), untrusted_content: untrustedField },
  annotations: READ_ONLY,
  async handler({ model_id, include_inactive }, { deps, auth }) {
    const rules = await listRules(deps.sql, auth.userId, model_id, include_inactive);
    return {
      data: { rules, untrusted_content: rulesNotice(rules) },
      summary: rules.length
        ? `${rules.length} rule(s): ${rules.map(ruleSummary).join(' ')}\n${rulesNotice(rules)}`
        : `Model ${model_id} has no ${include_inactive ? '' : 'active '}rules.`,
    };
  },
});
