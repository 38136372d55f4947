import { z } from 'zod';
import { hasScope, requireScope } from '../../../shared/auth/scopes.js';
import { clip } from '../../../shared/mcp/paging.js';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, stopIfCancelled } from '../../../shared/mcp/tool.js';
import { getOwnedModel } from '../../../shared/store/models.js';
import { insertRule, takenRuleNames, type Rule } from '../../../shared/store/rules.js';
import { getOwnedRun, type RunRow } from '../../../shared/store/runs.js';
import { suggestRules } from '../../../shared/trading/suggest.js';
import { HINDSIGHT, type OutOfSample, type SuggestResult } from '../../../shared/domain/suggestions.js';
import { jobDeps, offload } from '../../../shared/workers/offload.js';
import type { JobContext } from '../../../shared/workers/pool.js';
import { ruleOutputObject } from '../../rules/tools/rule-fields.js';

const change = z.object({ before: z.number().nullable(), after: z.number().nullable() });
const span = z.object({ from: z.string(), to: z.string(), sessions: z.number() }).describe('New York dates');

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);

export const suggestRulesTool = defineTool({
  name: 'suggest_rules',
  title: 'Suggest rules, measured',
  description:
    "Rules that would have made a run safer, each measured by replaying the run: kept if they cut max drawdown or worst day for no more return than they save, unless they stop the agent trading. Each: a create_rule payload, in-sample effect (hindsight) and out-of-sample (picked on the first 2/3 of sessions, measured on the rest and other runs), ranked by the latter.",
  scope: 'read',
  input: {
    run_id: idSchema('run_id'),
    max_suggestions: z.number().int().min(1).max(10).default(3).describe('At most this many suggestions'),
    apply: z.boolean().default(false).describe('Create the suggested rules on the run’s model (needs rules:write)'),
  },
  output: {
    run_id: z.number(),
    model_id: z.number(),
    partial: z.boolean(),
    nothing_to_suggest: z.string().nullable().describe('Why there is no suggestion, when there is none'),
    findings: z.array(z.object({ kind: z.string(), text: z.string(), candidates: z.number(), suggested: z.boolean(), why_not: z.string().nullable().describe('Not suggested: what its candidates did') })),
    suggestions: z.array(
      z.object({
        rank: z.number(),
        finding: z.string(),
        rule: z.object({
          model_id: z.number(),
          rule_name: z.string(),
          rule_description: z.string(),
          rule_category: z.string(),
          enforcement_params: z.record(z.string(), z.unknown()),
          priority: z.number(),
          created_by: z.literal('ai_suggested'),
        }).describe('A ready create_rule payload'),
        evidence: z.record(z.string(), z.unknown()),
        effect: z.object({ total_return: change, max_drawdown: change, sharpe: change, round_trips: change, worst_day: change, score: z.number() }),
        effect_label: z.string(),
        tried: z.array(z.object({ enforcement_params: z.record(z.string(), z.unknown()), total_return: z.number().nullable(), max_drawdown: z.number().nullable(), kept: z.boolean(), why: z.string().nullable() })),
        out_of_sample: z
          .object({
            enforcement_params: z.record(z.string(), z.unknown()).describe('Chosen on the first part (may differ from rule)'),
            chosen_on: span,
            measured_on: span,
            effect: z.object({ total_return: change, max_drawdown: change, worst_day: change, score: z.number() }),
            helped: z.boolean(),
            why: z.string().nullable(),
            other_runs: z.array(z.object({ run_id: z.number(), total_return: change, max_drawdown: change, helped: z.boolean() })).describe("The model's other finished runs replayed with it"),
          })
          .nullable()
          .describe('Walk-forward: parameters picked on the first part, effect on the rest'),
        out_of_sample_note: z.string().nullable(),
        created: ruleOutputObject.nullable().describe('With apply: the rule created'),
      }),
    ),
    skipped: z.array(z.string()).describe('Candidates skipped because the model already has that rule at the same or a tighter level'),
    candidates_tried: z.number().describe('Distinct candidate rules replayed'),
    walk_forward: z.object({ boundary: z.string(), first: span, rest: span }).nullable().describe('The split: sessions that chose, sessions that measured'),
    hindsight: z.string(),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler({ run_id, max_suggestions, apply }, ctx) {
    const { deps, auth, progress, signal } = ctx;
    if (apply) requireScope(auth, 'rules:write', 'suggest_rules with apply: true');
    const run = await getOwnedRun(deps.sql, auth.userId, run_id);
    await progress(0, 2, 'replaying candidate rules');
    // every candidate is replayed in a worker thread, off the loop that serves orders
    const r = await offload<SuggestResult>(ctx, import.meta.url, 'suggestJob', { run, max: max_suggestions });
    // cancelled while replaying: nothing is applied
    stopIfCancelled({ signal });
    await progress(1, 2, apply ? 'creating the rules' : 'ranking');

    let created: (Rule | null)[] = r.suggestions.map(() => null);
    if (apply && r.suggestions.length) {
      created = await deps.sql.begin(async (tx) => {
        await getOwnedModel(tx, auth.userId, run.model_id, true);
        const out: Rule[] = [];
        for (const s of r.suggestions) {
          const name = await freeName(tx, run.model_id, s.rule.rule_name);
          out.push(await insertRule(tx, run.model_id, { ...s.rule, rule_name: name, applies_to_symbols: null, exclude_symbols: null, is_active: true, created_by: 'ai_suggested' }, { keyPrefix: auth.keyPrefix, tool: 'suggest_rules' }));
        }
        return out;
      });
    }

    const suggestions = r.suggestions.map((s, i) => ({
      rank: s.rank,
      finding: s.text,
      rule: { model_id: run.model_id, ...s.rule, rule_name: created[i]?.rule_name ?? s.rule.rule_name, created_by: 'ai_suggested' as const },
      evidence: s.evidence,
      effect: s.effect,
      effect_label: 'in-sample (hindsight): chosen and measured on the whole run',
      tried: s.tried,
      out_of_sample: s.out_of_sample,
      out_of_sample_note: s.out_of_sample_note,
      created: created[i] ?? null,
    }));
    const data = {
      run_id,
      model_id: run.model_id,
      partial: r.partial,
      nothing_to_suggest: r.nothingToSuggest,
      findings: r.findings,
      suggestions,
      skipped: r.skipped.slice(0, 10),
      candidates_tried: r.candidatesTried,
      walk_forward: r.walkForward,
      hindsight: HINDSIGHT,
    };
    const summary = suggestions.length
      ? clip(
          `${suggestions.length} rule(s) for run ${run_id}${apply ? ' (created)' : ''}, measured by replay: ` +
            suggestions.map((s) => `${s.rank}. ${s.rule.rule_name} — in-sample: max drawdown ${pct(s.effect.max_drawdown.before)} → ${pct(s.effect.max_drawdown.after)}, return ${pct(s.effect.total_return.before)} → ${pct(s.effect.total_return.after)}; ${oosText(s.out_of_sample, s.out_of_sample_note)}`).join('; ') +
            `. ${r.candidatesTried} candidate(s) tried, ${r.findings.length} finding(s)${hasScope(auth, 'rules:write') || apply ? '' : '; creating them needs rules:write'}. ${HINDSIGHT}`,
          1500,
        )
      : `Nothing to suggest for run ${run_id}: ${r.nothingToSuggest} ${r.candidatesTried} candidate(s) tried.`;
    return { data, summary };
  },
});

/** Worker job: the measured suggestions of one run (trading/suggest.ts); nothing is written. */
export function suggestJob(input: { run: RunRow; max: number }, ctx: JobContext): Promise<SuggestResult> {
  return suggestRules(jobDeps(ctx), input.run, input.max);
}

/** One clause: the walk-forward effect on the rest of the run, or why there is none. */
function oosText(o: OutOfSample | null, note: string | null): string {
  if (!o) return `out-of-sample: ${note ?? 'n/a'}`;
  const params = JSON.stringify(o.enforcement_params);
  return `out-of-sample (${params} chosen on ${o.chosen_on.sessions} session(s), measured on the last ${o.measured_on.sessions}): max drawdown ${pct(o.effect.max_drawdown.before)} → ${pct(o.effect.max_drawdown.after)}, return ${pct(o.effect.total_return.before)} → ${pct(o.effect.total_return.after)}${o.helped ? '' : ` (did not help: ${o.why})`}`;
}

/** The name, or the name with " (2)", " (3)"… when the model already uses it. */
async function freeName(tx: Parameters<typeof takenRuleNames>[0], modelId: number, name: string): Promise<string> {
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? name : `${name} (${i})`;
    if (!(await takenRuleNames(tx, modelId, [candidate])).length) return candidate;
  }
}
