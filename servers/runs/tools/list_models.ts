import { z } from 'zod';
import { decodeCursor, pageInput, pageOutput, toPage } from '../../../shared/mcp/paging.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { listModels } from '../../../shared/store/models.js';
import { modelOutput, runningRunOutput } from './model-fields.js';

export const listModelsTool = defineTool({
  name: 'list_models',
  title: 'List models',
  description: 'Your models, oldest first, with their state (active/halted/reducing) and running run; paged.',
  scope: 'read',
  input: { ...pageInput(50, 500) },
  output: {
    models: z.array(z.object({ ...modelOutput, active_rule_count: z.number(), running_run: runningRunOutput })),
    ...pageOutput,
  },
  annotations: READ_ONLY,
  async handler({ limit, cursor }, { deps, auth }) {
    const after = decodeCursor(cursor, 'number');
    const rows = await listModels(deps.sql, auth.userId, limit + 1, after);
    const { items: models, truncated, next_cursor } = toPage(rows, { limit, key: (m) => m.model_id });
    const lines = models.slice(0, 20).map(
      (m) => `${m.model_id} '${m.name}' (${m.state}${m.running_run ? `, run ${m.running_run.run_id} running` : ''})`,
    );
    return {
      data: { models, truncated, next_cursor },
      summary: models.length
        ? `${models.length} model(s)${truncated ? ' (more follow: pass next_cursor)' : ''}: ${lines.join('; ')}.`
        : after === undefined ? 'No models yet; create one with create_model.' : 'No more models.',
    };
  },
});
