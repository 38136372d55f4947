import { ruleFieldsSchema } from '../../../shared/domain/rules/schema.js';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { getOwnedModel } from '../../../shared/store/models.js';
import { insertRule } from '../../../shared/store/rules.js';
import { changeBy, ruleOutput, ruleSummary, validParams } from './rule-fields.js';

export const createRuleTool = defineTool({
  name: 'create_rule',
  title: 'Create rule',
  description: 'Add a structured rule to a model. Enforced from the next order; running runs keep their snapshot. Needs rules:write.',
  scope: 'rules:write',
  input: { model_id: idSchema('model_id'), ...ruleFieldsSchema.shape },
  output: ruleOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler({ model_id, ...fields }, { deps, auth }) {
    const enforcement_params = validParams(fields.rule_category, fields.enforcement_params);
    const rule = await deps.sql.begin(async (tx) => {
      await getOwnedModel(tx, auth.userId, model_id, true);
      return insertRule(
        tx,
        model_id,
        {
          ...fields,
          enforcement_params,
          applies_to_symbols: fields.applies_to_symbols ?? null,
          exclude_symbols: fields.exclude_symbols ?? null,
        },
        changeBy(auth, 'create_rule'),
      );
    });
    return { data: rule, summary: `Created. ${ruleSummary(rule)}` };
  },
});
