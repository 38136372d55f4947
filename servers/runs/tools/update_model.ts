import { asIn, idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { updateModel } from '../../../shared/store/models.js';
import { modelFields, modelOutput, modelSummary, nameSchema } from './model-fields.js';

export const updateModelTool = defineTool({
  name: 'update_model',
  title: 'Update model',
  description:
    'Change a model\'s settings (risk settings included). Needs rules:write, so a trade-only key cannot loosen its own limits. Running runs keep their snapshot.',
  scope: 'rules:write',
  input: { model_id: idSchema('model_id'), name: nameSchema.optional().describe('New name, unique per user'), ...asIn('create_model', modelFields) },
  output: modelOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ model_id, ...changes }, { deps, auth }) {
    const model = await updateModel(deps.sql, auth.userId, model_id, changes);
    return { data: model, summary: `Updated. ${modelSummary(model)}` };
  },
});
