// The system agent's four prompts: each hands the agent a run's (or model's) key facts,
// computed by the analyst's one loader, and names the tools to call next.
import { z } from 'zod';
import { ToolError } from '../../shared/mcp/errors.js';
import { definePrompt, idArgument, type Completer, type RequestContext } from '../../shared/mcp/prompts-resources.js';
import { metricsHeadline, pct, quotesReasoning, rejectionLines, rejectionsNotice, roundTripLines, runTitle, worstRoundTrips } from '../../shared/domain/run-report.js';
import { quoted, untrustedNotice } from '../../shared/mcp/untrusted.js';
import { reasoningWriters } from '../../shared/store/writers.js';
import { getOwnedModel } from '../../shared/store/models.js';
import { newestRunIdsOfModel, recentModelIds, recentRuns } from '../../shared/store/recent.js';
import { loadRunFacts, type RunFacts } from '../../shared/store/run-facts.js';
import { jobDeps, offloadRequest } from '../../shared/workers/offload.js';
import type { JobContext } from '../../shared/workers/pool.js';

const COMPLETIONS = 100;
const MAX_COMPARE = 10;

/** The caller's run ids starting with what was typed, newest first. */
export const completeRunId: Completer = async (value, ctx) =>
  (await recentRuns(ctx.deps.sql, ctx.auth.userId, COMPLETIONS, digits(value))).map((r) => String(r.run_id));

/** The caller's model ids starting with what was typed, newest first. */
export const completeModelId: Completer = async (value, ctx) =>
  (await recentModelIds(ctx.deps.sql, ctx.auth.userId, COMPLETIONS, digits(value))).map(String);

/** "3, 5, 1" → the earlier ids kept, the last one completed from the caller's runs not listed yet. */
const completeRunIds: Completer = async (value, ctx) => {
  const parts = value.split(',');
  const last = parts.pop()!.trim();
  const before = parts.map((p) => p.trim()).filter(Boolean);
  const ids = await recentRuns(ctx.deps.sql, ctx.auth.userId, COMPLETIONS + before.length, digits(last));
  return ids
    .map((r) => String(r.run_id))
    .filter((id) => !before.includes(id))
    .map((id) => [...before, id].join(', '));
};

const digits = (s: string) => (/^\d+$/.test(s.trim()) ? s.trim() : '');

const runIdArg = z.string().describe('The run id (an integer; completion offers your runs, newest first)');

const user = (text: string) => ({ role: 'user' as const, content: { type: 'text' as const, text } });

/** The facts block every run prompt starts from; `writers` wrote the reasoning it quotes (named as untrusted content). */
function factsBlock(f: RunFacts, writers: readonly (string | null)[], worst = 3): string {
  const lines = [`Key facts (from calculate_metrics and analyze_trades on run ${f.run.run_id}):`, `- ${metricsHeadline(f)}`];
  if (f.findings.length) lines.push(...f.findings.map((s) => `- ${s}`));
  const trips = worstRoundTrips(f.round_trips, worst).filter((t) => t.pnl_cents <= 0);
  if (trips.length) {
    lines.push(`Worst round trips:`);
    if (quotesReasoning(trips)) lines.push(untrustedNotice([...writers]));
    trips.forEach((t, i) => {
      const [head, ...why] = roundTripLines(t);
      lines.push(`${i + 1}. ${head}`, ...why.map((w) => `   ${w}`));
    });
  } else lines.push('No losing round trip.');
  const rej = rejectionLines(f);
  const notice = rejectionsNotice(f);
  lines.push(rej.length ? `Rule rejections (${f.rejected_orders} refused order(s)):` : 'No order was refused by a rule or gate.', ...(notice ? [notice] : []), ...rej.map((r) => `- ${r}`));
  if (f.metrics.notes.length) lines.push(`Metric notes: ${f.metrics.notes.slice(0, 4).join(' ')}`);
  return lines.join('\n');
}

async function facts(ctx: RequestContext, runIdText: string): Promise<RunFacts> {
  return runFactsOffLoop(ctx, idArgument(runIdText, 'run_id'));
}

/** The keys that wrote the reasoning of these runs (the prompts quote it). */
const writersOf = (ctx: RequestContext, runIds: number[]) => reasoningWriters(ctx.deps.sql, runIds);

/** A run's facts (metrics, round trips, rejections) computed in a worker thread, off the loop that serves orders. */
function runFactsOffLoop(ctx: RequestContext, runId: number): Promise<RunFacts> {
  return offloadRequest<RunFacts>(ctx, import.meta.url, 'factsJob', { userId: ctx.auth.userId, runId });
}

/** Worker job: store/run-facts.ts loadRunFacts over the data port. */
export function factsJob(input: { userId: number; runId: number }, ctx: JobContext): Promise<RunFacts> {
  return loadRunFacts(jobDeps(ctx), input.userId, input.runId);
}

/**
 * A prompt about one run (argument `run_id`, completed from the caller's runs): `body` turns the
 * run's facts into the prompt's description and the lines of its one user message.
 */
function runPrompt(
  meta: { name: string; title: string; description: string },
  body: (f: RunFacts, id: number, writers: (string | null)[]) => { description: string; lines: string[] },
) {
  return definePrompt({
    ...meta,
    scope: 'read',
    args: { run_id: runIdArg },
    complete: { run_id: completeRunId },
    async handler({ run_id }, ctx) {
      const f = await facts(ctx, run_id);
      const { description, lines } = body(f, f.run.run_id, await writersOf(ctx, [f.run.run_id]));
      return { description, messages: [user(lines.join('\n'))] };
    },
  });
}

export const reviewRunPrompt = runPrompt(
  {
    name: 'review_run',
    title: 'Review a run',
    description: "Review a run: its metrics headline, worst round trips with their reasoning and rule rejections, and the analyst tools to dig further.",
  },
  (f, id, writers) => ({
    description: `Review of ${runTitle(f)} (run ${id})`,
    lines: [
      `Review ${runTitle(f)} (run ${id}) for me: what worked, what did not, and the one change most likely to help.`,
      '',
      factsBlock(f, writers),
      '',
      'Next, with the analyst server:',
      `- equity_chart {"run_id": ${id}} to see the curve, the drawdown and where the fills were;`,
      `- calculate_metrics {"run_id": ${id}} for every metric and its notes (add "benchmark": "SPY" to compare with buy-and-hold);`,
      `- analyze_trades {"run_id": ${id}, "sort": "worst"} and {"run_id": ${id}, "group_by": "hour"} for the round trips, their reasoning and the groups;`,
      `- get_reasoning {"run_id": ${id}} on the runs server for the agent's plan and decisions.`,
      'Quote the figures you rely on; keep each claim tied to a number from these tools.',
    ],
  }),
);

export const whyDidILosePrompt = runPrompt(
  {
    name: 'why_did_i_lose',
    title: 'Why did I lose?',
    description: 'Explain where a run lost money: the losing round trips with the reasoning behind them, what closed them, the rules that refused orders, and the tools to confirm it.',
  },
  (f, id, writers) => {
    const ret = f.metrics.total_return;
    const verdict =
      ret === null
        ? 'The run has no return yet.'
        : ret < 0
          ? `The run lost ${pct(-ret)}.`
          : `The run did not lose overall (${pct(ret)}); explain what its losing trades cost instead.`;
    return {
      description: `Why ${runTitle(f)} (run ${id}) lost`,
      lines: [
        `Why did I lose in ${runTitle(f)} (run ${id})? ${verdict} Answer in plain words: the two or three causes that cost the most, each with its dollars, and what the agent was thinking when it entered and exited.`,
        '',
        factsBlock(f, writers, 5),
        '',
        'Confirm and go deeper with:',
        `- analyze_trades {"run_id": ${id}, "filter": "losing", "sort": "worst"} (reasoning, exit cause, MAE/MFE of each loser; group_by "hour" or "symbol" shows where the loss came from);`,
        `- equity_chart {"run_id": ${id}} to see when the drawdown happened;`,
        `- calculate_metrics {"run_id": ${id}} for the drawdown dates, payoff ratio and profit factor;`,
        `- list_rules and check_order on the rules server to see which rule would have stopped the worst trade.`,
        'End with one concrete rule or setting change and the figure it should move.',
      ],
    };
  },
);

export const buildStrategyPrompt = definePrompt({
  name: 'build_strategy',
  title: 'Build a strategy',
  description: "Improve a model's strategy from its runs so far: their headline results, the latest run's worst trades and rejections, and the rules-server tools to change it.",
  scope: 'read',
  args: { model_id: z.string().describe('The model id (an integer; completion offers your models, newest first)') },
  complete: { model_id: completeModelId },
  async handler({ model_id }, ctx) {
    const modelId = idArgument(model_id, 'model_id');
    const model = await getOwnedModel(ctx.deps.sql, ctx.auth.userId, modelId);
    const runs = await newestRunIdsOfModel(ctx.deps.sql, modelId, 5);
    const all = [];
    for (const id of runs) all.push(await runFactsOffLoop(ctx, id));
    const settings = `initial cash $${model.initial_cash}, allow_short ${model.allow_short}, commission $${model.commission_per_share}/share, slippage ${model.slippage_bps} bps, drawdown halt ${pct(model.max_drawdown_halt_pct, 0)}, symbols ${model.allowed_symbols?.join(', ') ?? 'any'}`;
    const lines = [
      `Help me build a better strategy for model ${modelId} ('${model.name}'): ${settings}.`,
      // the model's instructions are stored text: quoted as untrusted content (models do not record the writing key)
      ...(model.instructions ? [untrustedNotice([null]), `Instructions: ${quoted(model.instructions.slice(0, 400))}`] : ['Instructions: none yet.']),
      '',
      all.length ? `Its ${all.length} newest run(s):` : 'It has no runs yet: start with a replay to measure a baseline.',
      ...all.map((f) => `- ${metricsHeadline(f)}`),
    ];
    if (all[0]) lines.push('', `The latest run in detail:`, factsBlock(all[0], await writersOf(ctx, [all[0].run.run_id])));
    lines.push(
      '',
      'Then, step by step:',
      `- list_rules {"model_id": ${modelId}} and list_templates on the rules server to see what limits it has and could have;`,
      `- propose rules with their parameters (create_rule / apply_template need the rules:write scope) and instructions (update_model on the runs server);`,
      `- test them on a replay: start_run {"model_id": ${modelId}, "kind": "replay", …} and advance_run, then compare_runs {"run_ids": [old, new]} and equity_chart {"run_ids": [old, new]}.`,
      'Prefer one change at a time so the comparison shows what it did.',
    );
    return { description: `Strategy work for model ${modelId} ('${model.name}')`, messages: [user(lines.join('\n'))] };
  },
});

export const compareStrategiesPrompt = definePrompt({
  name: 'compare_strategies',
  title: 'Compare strategies',
  description: 'Compare 2–10 runs (comma-separated run ids): each one’s metrics headline and worst trade, and the tools that show their strategy differences and curves.',
  scope: 'read',
  args: { run_ids: z.string().describe('2–10 run ids separated by commas, e.g. "3, 5"') },
  complete: { run_ids: completeRunIds },
  async handler({ run_ids }, ctx) {
    const parts = run_ids.split(',').map((s) => s.trim()).filter(Boolean);
    const ids = parts.map((p) => idArgument(p, 'each of run_ids'));
    if (ids.length < 2 || ids.length > MAX_COMPARE) throw new ToolError('BAD_ARGUMENTS', `run_ids must name 2 to ${MAX_COMPARE} runs separated by commas, e.g. "3, 5".`);
    if (new Set(ids).size !== ids.length) throw new ToolError('BAD_ARGUMENTS', 'run_ids must not name a run twice.');
    const all: RunFacts[] = [];
    for (const id of ids) all.push(await runFactsOffLoop(ctx, id));
    const list = JSON.stringify(ids);
    const lines = [`Compare these ${ids.length} runs and tell me which strategy is better and why, with the figures.`, ''];
    const worsts = all.map((f) => worstRoundTrips(f.round_trips, 1).filter((t) => t.pnl_cents <= 0));
    if (quotesReasoning(worsts.flat())) lines.push(untrustedNotice(await writersOf(ctx, ids)), '');
    for (const [i, f] of all.entries()) {
      lines.push(`- ${metricsHeadline(f)}`);
      const [worst] = worsts[i]!;
      if (worst) lines.push(`  Worst round trip: ${roundTripLines(worst).join(' ')}`);
      const rej = rejectionLines(f, 2);
      const notice = rejectionsNotice(f);
      if (rej.length) lines.push(...(notice ? [`  ${notice}`] : []), `  Rejections: ${rej.join('; ')}`);
    }
    lines.push(
      '',
      'Next:',
      `- compare_runs {"run_ids": ${list}} for the metrics side by side, the strategy-snapshot differences (settings, rules, instructions) and whether the runs are like for like;`,
      `- equity_chart {"run_ids": ${JSON.stringify(ids.slice(0, 5))}} to see the curves together${ids.length > 5 ? ' (at most 5 per chart)' : ''};`,
      `- analyze_trades {"run_id": …, "sort": "worst"} on the run whose losses you need to explain.`,
      'Say whether the difference is larger than what the number of round trips can support.',
    );
    return { description: `Comparison of runs ${ids.join(', ')}`, messages: [user(lines.join('\n'))] };
  },
});

export const ANALYST_PROMPTS = [reviewRunPrompt, whyDidILosePrompt, buildStrategyPrompt, compareStrategiesPrompt];
