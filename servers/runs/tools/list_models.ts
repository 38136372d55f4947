import { z } from 'zod';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { listModels } from '../../../shared/store/models.js';
import { modelOutput, runningRunOutput } from './model-fields.js';

export const listModelsTool = defineTool({
  name: 'list_models',
  title: 'List models',
  description: 'Your models with their state (active/halted/reducing) and running run.',
  scope: 'read',
  input: {},
  output: {
    models: z.array(z.object({ ...modelOutput, active_rule_count: z.number(), running_run: runningRunOutput })),
  },
  annotations: READ_ONLY,
  async handler(_args, { deps, auth }) {
    const models = await listModels(deps.sql, auth.userId);
    const lines = models.map(
      (m) => `${m.model_id} '${m.name}' (${m.state}${m.running_run ? `, run ${m.running_run.run_id} running` : ''})`,
    );
    return { data: { models }, summary: models.length ? `${models.length} model(s): ${lines.join('; ')}.` : 'No models yet; create one with create_model.' };
  },
});
