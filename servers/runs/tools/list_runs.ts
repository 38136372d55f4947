import { z } from 'zod';
import { idSchema, limitSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { listRuns } from '../../../shared/store/runs.js';
import { runOutput } from './run-fields.js';

export const listRunsTool = defineTool({
  name: 'list_runs',
  title: 'List runs',
  description: "A model's runs, newest first, with summary stats (trades, latest value, return).",
  scope: 'read',
  input: {
    model_id: idSchema('model_id'),
    status: z.enum(['running', 'completed', 'stopped']).optional(),
    limit: limitSchema(50, 500),
  },
  output: {
    runs: z.array(z.object({ ...runOutput, summary: z.object({ trades: z.number(), value: z.number(), return: z.number() }) })),
  },
  annotations: READ_ONLY,
  async handler({ model_id, status, limit }, { deps, auth }) {
    const runs = await listRuns(deps.sql, auth.userId, model_id, status, limit);
    return {
      data: { runs },
      summary: runs.length
        ? `${runs.length} run(s): ${runs.map((r) => `${r.run_id} #${r.run_number} ${r.kind} ${r.status} ${(r.summary.return * 100).toFixed(2)}%`).join('; ')}.`
        : `Model ${model_id} has no runs${status ? ` with status ${status}` : ''}.`,
    };
  },
});
