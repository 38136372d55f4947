import { z } from 'zod';
import { TEMPLATE_NAMES, TEMPLATES } from '../../../shared/domain/rules/templates.js';
import { ToolError } from '../../../shared/mcp/errors.js';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { getOwnedModel } from '../../../shared/store/models.js';
import { deleteRule, insertRule, lockModelRules, takenRuleNames, type Rule } from '../../../shared/store/rules.js';
import { changeBy, ruleOutputObject, validParams } from './rule-fields.js';

export const applyTemplateTool = defineTool({
  name: 'apply_template',
  title: 'Apply rule template',
  description:
    "Create a template's rules on a model (created_by 'template'). replace=true deletes the model's existing rules first; otherwise a name clash writes nothing. Needs rules:write.",
  scope: 'rules:write',
  input: {
    model_id: idSchema('model_id'),
    template: z.enum(TEMPLATE_NAMES).describe('Template name (see list_templates)'),
    replace: z.boolean().default(false).describe("Delete the model's existing rules first"),
  },
  output: { template: z.string(), rules: z.array(ruleOutputObject), deleted_rule_ids: z.array(z.number()) },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async handler({ model_id, template, replace }, { deps, auth }) {
    const by = changeBy(auth, 'apply_template');
    const { rules, deleted } = await deps.sql.begin(async (tx) => {
      await getOwnedModel(tx, auth.userId, model_id, true);
      const deleted: number[] = [];
      if (replace) {
        for (const rule of await lockModelRules(tx, model_id)) {
          await deleteRule(tx, rule, by);
          deleted.push(rule.rule_id);
        }
      } else {
        const taken = await takenRuleNames(tx, model_id, TEMPLATES[template].rules.map((r) => r.rule_name));
        if (taken.length > 0) {
          throw new ToolError(
            'DUPLICATE_RULE_NAME',
            `Model ${model_id} already has rule(s) named ${taken.map((n) => `'${n}'`).join(', ')}; nothing was applied: pass replace: true to replace the model's rules, or rename or delete those first.`,
          );
        }
      }
      const rules: Rule[] = [];
      for (const r of TEMPLATES[template].rules) {
        rules.push(
          await insertRule(
            tx,
            model_id,
            {
              ...r,
              enforcement_params: validParams(r.rule_category, r.enforcement_params),
              applies_to_symbols: null,
              exclude_symbols: null,
              is_active: true,
              created_by: 'template',
            },
            by,
          ),
        );
      }
      return { rules, deleted };
    });
    const replaced = deleted.length ? ` Replaced ${deleted.length} existing rule(s).` : '';
    return {
      data: { template, rules, deleted_rule_ids: deleted },
      summary: `Applied ${template} to model ${model_id}: ${rules.length} rule(s) created (${rules.map((r) => `${r.rule_id} '${r.rule_name}'`).join(', ')}).${replaced}`,
    };
  },
});
