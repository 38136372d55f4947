import { ruleUpdateFieldsSchema } from '../../../shared/domain/rules/schema.js';
import { ToolError } from '../../../shared/mcp/errors.js';
import { asIn, idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { getOwnedRule, updateRule } from '../../../shared/store/rules.js';
import { changeBy, ruleOutput, ruleSummary, validParams } from './rule-fields.js';

const updates = ruleUpdateFieldsSchema.shape;
/** A symbol list of update_rule, said once on the field (not again on the list inside it). */
const asInOrNull = (list: typeof updates.applies_to_symbols) =>
  list.unwrap().unwrap().meta({ description: undefined }).nullable().optional().describe('As in create_rule; null clears it.');

export const updateRuleTool = defineTool({
  name: 'update_rule',
  title: 'Update rule',
  description:
    'Change any field of a rule; version + 1 and a history row. enforcement_params replaces the whole object. Needs rules:write.',
  scope: 'rules:write',
  input: {
    rule_id: idSchema('rule_id'),
    ...asIn('create_rule', updates),
    rule_name: updates.rule_name.describe('New unique name'),
    rule_description: updates.rule_description.describe('New explanation for people'),
    applies_to_symbols: asInOrNull(updates.applies_to_symbols),
    exclude_symbols: asInOrNull(updates.exclude_symbols),
  },
  output: ruleOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ rule_id, ...changes }, { deps, auth }) {
    if (Object.values(changes).every((v) => v === undefined)) {
      throw new ToolError('NOTHING_TO_UPDATE', 'Give at least one field to change.');
    }
    const result = await deps.sql.begin(async (tx) => {
      const rule = await getOwnedRule(tx, auth.userId, rule_id, true);
      const category = changes.rule_category ?? rule.rule_category;
      // A new category re-checks the kept params too: they must still make sense.
      const params =
        changes.enforcement_params !== undefined || changes.rule_category !== undefined
          ? validParams(category, changes.enforcement_params ?? rule.enforcement_params)
          : undefined;
      const updated = await updateRule(tx, rule, { ...changes, enforcement_params: params }, changeBy(auth, 'update_rule'));
      return { updated, changed: updated.version !== rule.version };
    });
    return {
      data: result.updated,
      summary: `${result.changed ? 'Updated' : 'Nothing changed'}. ${ruleSummary(result.updated)}`,
    };
  },
});
