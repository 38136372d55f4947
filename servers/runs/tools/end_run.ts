import { z } from 'zod';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { completeRun, getOwnedRun, requireRunning } from '../../../shared/store/runs.js';
import { afterRunEnd } from '../../../shared/trading/run-end.js';
import { runOutput, runSummary } from './run-fields.js';

export const endRunTool = defineTool({
  name: 'end_run',
  title: 'End run',
  description:
    'End a running run: records its last equity point and final stats from the ledger (total_trades, final_value, total_return, max_drawdown). Resting orders (open limits, pending approvals) become expired, with the reason. The threat history is recorded after the end; if that analysis fails the run still ends and notes say why.',
  scope: 'trade',
  input: {
    run_id: idSchema('run_id'),
    status: z.enum(['completed', 'stopped']).default('completed').describe('completed (default) or stopped'),
  },
  output: { ...runOutput, notes: z.array(z.string()).describe('What the analysis after the end could not do (empty when all went well)') },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler({ run_id, status }, { deps, auth }) {
    const run = await deps.sql.begin(async (tx) => {
      const current = await getOwnedRun(tx, auth.userId, run_id, true);
      requireRunning(current);
      return completeRun(tx, deps.market, current, status, current.kind === 'replay' ? new Date(current.clock) : new Date());
    });
    const notes = await afterRunEnd(deps, run.run_id);
    const { strategy_snapshot: _s, peak_value: _p, realized_pnl: _r, ...data } = run;
    const s = run.final_stats!;
    return {
      data: { ...data, notes },
      summary: `${runSummary(run)} Final value $${s.final_value.toFixed(2)}, return ${(s.total_return * 100).toFixed(2)}%, max drawdown ${(s.max_drawdown * 100).toFixed(2)}%, ${s.total_trades} trade(s).${notes.map((n) => ` ${n}`).join('')}`,
    };
  },
});
