// The run shape every run tool returns.
import { z } from 'zod';
import type { Run } from '../../../shared/store/runs.js';

export const finalStatsOutput = z
  .object({ total_trades: z.number(), final_value: z.number(), total_return: z.number(), max_drawdown: z.number() })
  .nullable();

export const runOutput = {
  run_id: z.number(),
  model_id: z.number(),
  run_number: z.number(),
  kind: z.string(),
  status: z.string(),
  timespan: z.string().nullable(),
  session: z.string(),
  start: z.string().nullable(),
  end: z.string().nullable(),
  clock: z.string(),
  symbols: z.array(z.string()),
  label: z.string().nullable(),
  initial_cash: z.number(),
  cash: z.number(),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  final_stats: finalStatsOutput,
};

export const snapshotOutput = z.object({
  taken_at: z.string(),
  model: z.record(z.string(), z.unknown()),
  instructions: z.string(),
  rules: z.array(z.record(z.string(), z.unknown())),
});

export function runSummary(run: Run): string {
  const range = run.kind === 'replay' ? ` ${run.timespan} replay ${run.start} → ${run.end}, clock ${run.clock}` : ' live';
  return `Run ${run.run_id} (#${run.run_number} of model ${run.model_id}):${range}, ${run.status}.`;
}
