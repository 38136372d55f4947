import { z } from 'zod';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { getModelDetail } from '../../../shared/store/models.js';
import { modelOutput, modelSummary, runningRunOutput } from './model-fields.js';

export const getModelTool = defineTool({
  name: 'get_model',
  title: 'Get model',
  description: 'One model with its active rule count and running run.',
  scope: 'read',
  input: { model_id: idSchema('model_id') },
  output: { ...modelOutput, active_rule_count: z.number(), running_run: runningRunOutput },
  annotations: READ_ONLY,
  async handler({ model_id }, { deps, auth }) {
    const model = await getModelDetail(deps.sql, auth.userId, model_id);
    const run = model.running_run ? ` Run ${model.running_run.run_id} (#${model.running_run.run_number}, ${model.running_run.kind}) is running.` : ' No run is running.';
    return { data: model, summary: `${modelSummary(model)} ${model.active_rule_count} active rule(s).${run}` };
  },
});
