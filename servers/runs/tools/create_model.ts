import { defineTool } from '../../../shared/mcp/tool.js';
import { createModel } from '../../../shared/store/models.js';
import { modelFields, modelOutput, modelSummary, nameSchema } from './model-fields.js';

export const createModelTool = defineTool({
  name: 'create_model',
  title: 'Create model',
  description: 'Create a trading model (a strategy with its own money and risk settings). Needs rules:write.',
  scope: 'rules:write',
  input: { name: nameSchema.describe('Unique per user'), ...modelFields },
  output: modelOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler({ name, ...settings }, { deps, auth }) {
    const model = await createModel(deps.sql, auth.userId, name, settings);
    return { data: model, summary: `Created. ${modelSummary(model)}` };
  },
});
