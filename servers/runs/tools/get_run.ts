import { z } from 'zod';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { getOwnedRun, publicRun, runCounts } from '../../../shared/store/runs.js';
import { runOutput, runSummary, snapshotOutput } from './run-fields.js';

export const getRunTool = defineTool({
  name: 'get_run',
  title: 'Get run',
  description: 'One run with its strategy_snapshot, counts of orders, fills, rejections and reasoning, and final stats.',
  scope: 'read',
  input: { run_id: idSchema('run_id') },
  output: {
    ...runOutput,
    strategy_snapshot: snapshotOutput,
    counts: z.object({ orders: z.number(), fills: z.number(), rejections: z.number(), reasoning: z.number() }),
  },
  annotations: READ_ONLY,
  async handler({ run_id }, { deps, auth }) {
    const run = await getOwnedRun(deps.sql, auth.userId, run_id);
    const counts = await runCounts(deps.sql, run_id);
    return {
      data: { ...publicRun(run), strategy_snapshot: run.strategy_snapshot, counts },
      summary: `${runSummary(run)} ${counts.orders} order(s), ${counts.fills} fill(s), ${counts.rejections} rejection(s), ${counts.reasoning} reasoning entr${counts.reasoning === 1 ? 'y' : 'ies'}.`,
    };
  },
});
