import { z } from 'zod';
import { TEMPLATE_NAMES, TEMPLATES } from '../../../shared/domain/rules/templates.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';

const templateRuleOutput = z.object({
  rule_name: z.string(),
  rule_description: z.string(),
  rule_category: z.string(),
  enforcement_params: z.record(z.string(), z.unknown()),
  priority: z.number(),
});

export const listTemplatesTool = defineTool({
  name: 'list_templates',
  title: 'List rule templates',
  description: 'Ready-made rule sets (day_trader, swing_trader, scalper, investor) with their rules; apply one with apply_template.',
  scope: 'read',
  input: {},
  output: {
    templates: z.array(z.object({ template: z.string(), name: z.string(), description: z.string(), rules: z.array(templateRuleOutput) })),
  },
  annotations: READ_ONLY,
  async handler() {
    const templates = TEMPLATE_NAMES.map((template) => ({ template, ...TEMPLATES[template] }));
    return {
      data: { templates },
      summary: templates.map((t) => `${t.template}: ${t.rules.map((r) => r.rule_name).join(', ')}.`).join(' '),
    };
  },
});
