import { z } from 'zod';
import { RISK_FACTORS } from '../../../shared/domain/risk-score.js';
import { ToolError } from '../../../shared/mcp/errors.js';
import { clip } from '../../../shared/mcp/paging.js';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { resolveRuns } from '../../../shared/store/analyst.js';
import { runRiskScore } from '../../../shared/store/threats.js';
import type { RunRow } from '../../../shared/store/runs.js';
import { jobDeps, offload } from '../../../shared/workers/offload.js';
import type { JobContext } from '../../../shared/workers/pool.js';

export const riskScoreTool = defineTool({
  name: 'risk_score',
  title: 'Risk score',
  description:
    "Risk score of a run (or a model's newest run), 0 calm to 100 extreme: the sum of named factors (concentration, drawdown, gross exposure, loss streak, trading pace, violation attempts, volatility, rule coverage), each with raw value, normalized 0–1, weight (sum 1) and contribution. Same run state, same score.",
  scope: 'read',
  input: {
    run_id: idSchema('run_id').optional(),
    model_id: idSchema('model_id').optional().describe("The model's newest run (instead of run_id)"),
  },
  output: {
    run_id: z.number(),
    model_id: z.number(),
    as_of: z.string().describe('The run clock the score is as of (UTC ISO)'),
    score: z.number().describe('0–100, one decimal'),
    band: z.enum(['calm', 'elevated', 'high', 'extreme']).describe('< 25 calm, < 50 elevated, < 75 high, else extreme'),
    factors: z.array(
      z.object({
        name: z.enum(RISK_FACTORS),
        raw: z.number(),
        normalized: z.number().describe('(raw − calm) / (extreme − calm), clamped to 0–1'),
        weight: z.number(),
        contribution: z.number().describe('Points of the score: normalized × weight × 100'),
        unit: z.string(),
      }),
    ),
    weights_sum: z.number(),
    top: z.array(z.enum(RISK_FACTORS)).describe('The three largest contributors, largest first'),
    missing_protections: z.array(z.string()).describe('Of: position cap, loss limit, stop'),
  },
  annotations: READ_ONLY,
  async handler({ run_id, model_id }, ctx) {
    const runs = await resolveRuns(ctx.deps.sql, ctx.auth.userId, { run_id, model_id }, 1);
    if (!runs.length) throw new ToolError('NOT_FOUND', `Model ${model_id} has no runs yet: start_run first.`);
    // computed in a worker thread, off the loop that serves orders
    const s = await offload<Awaited<ReturnType<typeof runRiskScore>>>(ctx, import.meta.url, 'riskScoreJob', { run: runs[0]! });
    const byName = new Map(s.factors.map((f) => [f.name, f]));
    const top = s.top.map((n) => `${n} ${byName.get(n)!.contribution.toFixed(1)}`).join(', ');
    const weights_sum = Math.round(s.factors.reduce((a, f) => a + f.weight, 0) * 1e9) / 1e9;
    return {
      data: { ...s, weights_sum },
      summary: clip(
        `Run ${s.run_id} risk score ${s.score.toFixed(1)}/100 (${s.band}) as of ${s.as_of}. Largest contributors: ${top}.` +
          (s.missing_protections.length ? ` Missing protections: ${s.missing_protections.join(', ')}.` : ''),
        1000,
      ),
    };
  },
});

/** Worker job: the run's risk score (store/threats.ts runRiskScore). */
export function riskScoreJob(input: { run: RunRow }, ctx: JobContext): ReturnType<typeof runRiskScore> {
  const deps = jobDeps(ctx);
  return runRiskScore(deps.sql, deps.market, input.run);
}
