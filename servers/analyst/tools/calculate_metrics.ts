import { z } from 'zod';
import { idSchema, symbolSchema } from '../../../shared/mcp/schemas.js';
import { clip, RESULT_BUDGET_BYTES } from '../../../shared/mcp/paging.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { resolveRuns, runMetrics } from '../../../shared/store/analyst.js';
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
    model_id: idSchema('model_id').optional().describe("Every run of the model, newest first (instead of run_id)"),
    limit: z.number().int().min(1).max(10).default(5).describe('With model_id: how many runs (default 5, at most 10)'),
    benchmark: symbolSchema.optional().describe('Ticker held buy-and-hold over the same clock steps, e.g. SPY'),
    allow_simulated_benchmark: z.boolean().default(false).describe('Accept a benchmark only the simulated market serves for a run on real bars (marked simulated)'),
    returns: z.enum(['session_close', 'per_step']).optional().describe("Intraday runs: 'session_close' (default, daily returns) or 'per_step'; daily runs always per step"),
  },
  output: {
    runs: z.array(metricsOutput),
    truncated: z.boolean().describe('With model_id: more runs exist than were returned (limit or the ~10 KB budget); raise limit or ask by run_id'),
  },
  annotations: READ_ONLY,
  async handler({ run_id, model_id, limit, benchmark, allow_simulated_benchmark, returns }, { deps, auth }) {
    const runs = await resolveRuns(deps.sql, auth.userId, { run_id, model_id }, limit + 1);
    const out = [];
    let bytes = 0;
    for (const run of runs.slice(0, limit)) {
      const m = await runMetrics(deps, run, { benchmark, allowSimulatedBenchmark: allow_simulated_benchmark, returns });
      bytes += Buffer.byteLength(JSON.stringify(m));
      // always at least one run; stop before the page passes its byte budget
      if (out.length && bytes > RESULT_BUDGET_BYTES) break;
      out.push(m);
    }
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
