import { z } from 'zod';
import { decodeCursor, pageInput, pageOutput, toPage } from '../../../shared/mcp/paging.js';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { listRuns } from '../../../shared/store/runs.js';
import { runOutput } from './run-fields.js';

export const listRunsTool = defineTool({
  name: 'list_runs',
  title: 'List runs',
  description: "A model's runs, oldest first, with summary stats (trades, latest value, return); paged.",
  scope: 'read',
  input: {
    model_id: idSchema('model_id'),
    status: z.enum(['running', 'completed', 'stopped']).optional().describe('Only this status (default all)'),
    ...pageInput(50, 500),
  },
  output: {
    runs: z.array(z.object({ ...runOutput, summary: z.object({ trades: z.number(), value: z.number(), return: z.number() }) })),
    ...pageOutput,
  },
  annotations: READ_ONLY,
  async handler({ model_id, status, limit, cursor }, { deps, auth }) {
    const after = decodeCursor(cursor, 'number');
    const rows = await listRuns(deps.sql, auth.userId, model_id, status, limit + 1, after);
    const { items: runs, truncated, next_cursor } = toPage(rows, { limit, key: (r) => r.run_number });
    return {
      data: { runs, truncated, next_cursor },
      summary: runs.length
        ? `${runs.length} run(s)${truncated ? ' (more follow: pass next_cursor)' : ''}: ${runs.slice(0, 20).map((r) => `${r.run_id} #${r.run_number} ${r.kind} ${r.status} ${(r.summary.return * 100).toFixed(2)}%`).join('; ')}.`
        : `Model ${model_id} has no runs${status ? ` with status ${status}` : ''}.`,
    };
  },
});
