// The analyst's resources: a run's markdown report and its equity chart, listed for the
// caller's 20 newest runs.
import { reportMarkdown } from '../../shared/domain/run-report.js';
import { idArgument, type ResourceDef } from '../../shared/mcp/prompts-resources.js';
import { recentRuns } from '../../shared/store/recent.js';
import { loadRunFacts } from '../../shared/store/run-facts.js';
import { runThreatReport } from '../../shared/store/threats.js';
import { reasoningWriters } from '../../shared/store/writers.js';
import { suggestRules } from '../../shared/trading/suggest.js';
import { completeRunId } from './prompts.js';
import { CHART_HEIGHT, CHART_WIDTH, drawOffLoop } from './tools/equity_chart.js';
import { jobDeps, offloadRequest, requestCall } from '../../shared/workers/offload.js';
import type { JobContext } from '../../shared/workers/pool.js';

const LISTED_RUNS = 20;
/** suggest_rules' default count. */
const REPORTED_SUGGESTIONS = 3;

export const runReportResource: ResourceDef = {
  name: 'run_report',
  title: 'Run report',
  description: 'Markdown report of a run: header, metrics table, round-trip summary and findings, the worst five round trips with their reasoning, rejections by rule, threats with the risk score, suggested rules with their effect measured by replay.',
  mimeType: 'text/markdown',
  scope: 'read',
  uriTemplate: 'aibt://runs/{run_id}/report',
  async list(ctx) {
    return (await recentRuns(ctx.deps.sql, ctx.auth.userId, LISTED_RUNS)).map((r) => ({
      uri: `aibt://runs/${r.run_id}/report`,
      name: `run-${r.run_id}-report`,
      title: `${r.model_name} — run #${r.run_number} report`,
      description: `${r.kind} run ${r.run_id}, ${r.status}, started ${r.started_at}`,
    }));
  },
  complete: { run_id: completeRunId },
  async read(vars, ctx) {
    // facts, threats and measured suggestions computed in a worker thread, off the loop that serves orders
    return { text: await offloadRequest<string>(ctx, import.meta.url, 'reportJob', { userId: ctx.auth.userId, runId: idArgument(vars.run_id, 'run_id') }) };
  },
};

export const runEquityResource: ResourceDef = {
  name: 'run_equity_chart',
  title: 'Run equity chart',
  description: `PNG (${CHART_WIDTH.fallback}×${CHART_HEIGHT.fallback}) of a run's equity curve with its drawdown and fills, New York time axis; the equity_chart tool takes other sizes and several runs.`,
  mimeType: 'image/png',
  scope: 'read',
  uriTemplate: 'aibt://runs/{run_id}/equity.png',
  async list(ctx) {
    return (await recentRuns(ctx.deps.sql, ctx.auth.userId, LISTED_RUNS)).map((r) => ({
      uri: `aibt://runs/${r.run_id}/equity.png`,
      name: `run-${r.run_id}-equity.png`,
      title: `${r.model_name} — run #${r.run_number} equity chart`,
    }));
  },
  complete: { run_id: completeRunId },
  async read(vars, ctx) {
    const chart = await drawOffLoop(requestCall(ctx), [idArgument(vars.run_id, 'run_id')], CHART_WIDTH.fallback, CHART_HEIGHT.fallback);
    return { blob: chart.png };
  },
};

export const ANALYST_RESOURCES = [runReportResource, runEquityResource];

/** Worker job: the run report's markdown (facts, threats with the risk score, measured suggestions). */
export async function reportJob(input: { userId: number; runId: number }, ctx: JobContext): Promise<string> {
  const deps = jobDeps(ctx);
  const facts = await loadRunFacts(deps, input.userId, input.runId);
  const threats = await runThreatReport(deps.sql, deps.market, facts.run);
  return reportMarkdown(facts, threats, await suggestRules(deps, facts.run, REPORTED_SUGGESTIONS), await reasoningWriters(deps.sql, [facts.run.run_id]));
}
