import { z } from 'zod';
import { idSchema, symbolSchema } from '../../../shared/mcp/schemas.js';
import { clip, RESULT_BUDGET_BYTES } from '../../../shared/mcp/paging.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { resolveRuns, runMetrics, type RunMetrics } from '../../../shared/store/analyst.js';
import type { ReturnsBasis } from '../../../shared/domain/metrics.js';
import type { RunRow } from '../../../shared/store/runs.js';
import { jobDeps, offload } from '../../../shared/workers/offload.js';
import type { JobContext } from '../../../shared/workers/pool.js';
import { METRIC_CONVENTIONS, metricsOutput } from './metric-fields.js';

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
const fix = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));

export const calculateMetricsTool = defineTool({
  name: 'calculate_metrics',
  title: 'Calculate metrics',
  description: `Metrics of a run (or a model's newest runs) from its equity curve and FIFO round trips; optional buy-and-hold benchmark with its source. ${METRIC_CONVENTIONS}`,
  scope: 'read',
  input: {
    run_id: idSchema('run_id').optional(),
    model_id: idSchema('model_id').optional().describe("The model's newest runs (instead of run_id)"),
    limit: z.number().int().min(1).max(10).default(5).describe('With model_id: how many runs'),
    benchmark: symbolSchema.optional().describe('Ticker held over the same clock steps, e.g. SPY'),
    allow_simulated_benchmark: z.boolean().default(false).describe('Accept a benchmark only the simulated market serves (marked simulated)'),
    returns: z.enum(['session_close', 'per_step']).optional().describe('Intraday runs: daily returns (session_close, default) or per_step'),
  },
  output: {
    runs: z.array(metricsOutput),
    truncated: z.boolean().describe('With model_id: more runs exist than were returned (limit or the ~10 KB budget); raise limit or ask by run_id'),
  },
  annotations: READ_ONLY,
  async handler({ run_id, model_id, limit, benchmark, allow_simulated_benchmark, returns }, ctx) {
    const runs = await resolveRuns(ctx.deps.sql, ctx.auth.userId, { run_id, model_id }, limit + 1);
    // computed in a worker thread, off the loop that serves orders
    const out = await offload<RunMetrics[]>(ctx, import.meta.url, 'metricsJob', { runs: runs.slice(0, limit), opts: { benchmark, allowSimulatedBenchmark: allow_simulated_benchmark, returns } });
    const truncated = runs.length > out.length;
    const lines = out.map(
      (m) =>
        `run ${m.run_id}: return ${pct(m.total_return)}, Sharpe ${fix(m.sharpe)} (${m.returns_basis === 'session_close' ? 'session-close returns' : 'per-step returns'}), max drawdown ${pct(m.max_drawdown)}, ${m.round_trips} round trip(s), win rate ${pct(m.win_rate)}` +
        (m.benchmark ? `, vs ${m.benchmark.symbol}${m.benchmark.source === 'simulated' ? ' (simulated prices)' : ` (${m.benchmark.source})`} ${pct(m.benchmark.benchmark_return)} (excess ${pct(m.benchmark.excess_return)})` : ''),
    );
    return {
      data: { runs: out, truncated },
      summary: clip(
        out.length ? `Metrics of ${out.length} run(s)${truncated ? ' (more exist)' : ''}: ${lines.join('; ')}.` : `Model ${model_id} has no runs.`,
        1500,
      ),
    };
  },
});

/** Worker job: the runs' metrics in order, at least one, stopping before the page passes its byte budget. */
export async function metricsJob(input: { runs: RunRow[]; opts: { benchmark?: string; allowSimulatedBenchmark?: boolean; returns?: ReturnsBasis } }, ctx: JobContext): Promise<RunMetrics[]> {
  const deps = jobDeps(ctx);
  const out: RunMetrics[] = [];
  let bytes = 0;
  for (const run of input.runs) {
    const m = await runMetrics(deps, run, input.opts);
    bytes += Buffer.byteLength(JSON.stringify(m));
    if (out.length && bytes > RESULT_BUDGET_BYTES) break;
    out.push(m);
  }
  return out;
}
