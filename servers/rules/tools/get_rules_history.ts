import { z } from 'zod';
import { idSchema, limitSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { listRuleHistory } from '../../../shared/store/rules.js';

export const getRulesHistoryTool = defineTool({
  name: 'get_rules_history',
  title: 'Rules history',
  description: "Every change to a model's rules, newest first: action, which key (prefix) and tool, when, the rule before and after.",
  scope: 'read',
  input: { model_id: idSchema('model_id'), limit: limitSchema(100, 1000) },
  output: {
    entries: z.array(
      z.object({
        id: z.number(),
        rule_id: z.number(),
        rule_name: z.string().nullable(),
        action: z.string(),
        key_prefix: z.string(),
        tool: z.string(),
        changed_at: z.string(),
        before: z.record(z.string(), z.unknown()).nullable(),
        after: z.record(z.string(), z.unknown()).nullable(),
      }),
    ),
  },
  annotations: READ_ONLY,
  async handler({ model_id, limit }, { deps, auth }) {
    const entries = await listRuleHistory(deps.sql, auth.userId, model_id, limit);
    return {
      data: { entries },
      summary: entries.length
        ? `${entries.length} change(s), newest first: ${entries
            .slice(0, 20)
            .map((e) => `${e.changed_at} ${e.action} rule ${e.rule_id} '${e.rule_name}' by ${e.key_prefix}`)
            .join('; ')}${entries.length > 20 ? '; …' : ''}.`
        : `Model ${model_id}'s rules have never changed.`,
    };
  },
});
