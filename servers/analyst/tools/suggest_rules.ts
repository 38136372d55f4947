import { z } from 'zod';
import { hasScope, requireScope } from '../../../shared/auth/scopes.js';
import { clip } from '../../../shared/mcp/paging.js';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { getOwnedModel } from '../../../shared/store/models.js';
import { insertRule, takenRuleNames, type Rule } from '../../../shared/store/rules.js';
import { getOwnedRun } from '../../../shared/store/runs.js';
import { suggestRules } from '../../../shared/trading/suggest.js';
import { ruleOutputObject } from '../../rules/tools/rule-fields.js';

const change = z.object({ before: z.number().nullable(), after: z.number().nullable() });

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);

export const suggestRulesTool = defineTool({
  name: 'suggest_rules',
  title: 'Suggest rules, measured',
  description:
    "Rules that would have made a run safer, each measured by replaying the run under it (replay_with_rules). Detectors give findings with evidence; grid candidates are kept when they cut the max drawdown or worst day for no more return than they save; levels the model has are skipped; ranked by effect. Each: a create_rule payload and before → after. apply: true creates them (rules:write).",
  scope: 'read',
  input: {
    run_id: idSchema('run_id'),
    max_suggestions: z.number().int().min(1).max(10).default(3).describe('At most this many suggestions (default 3, at most 10)'),
    apply: z.boolean().default(false).describe('Create the suggested rules on the run’s model (needs rules:write)'),
  },
  output: {
    run_id: z.number(),
    model_id: z.number(),
    partial: z.boolean(),
    nothing_to_suggest: z.string().nullable().describe('Why there is no suggestion, when there is none'),
    findings: z.array(z.object({ kind: z.string(), text: z.string(), candidates: z.number(), suggested: z.boolean() })),
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
        tried: z.array(z.object({ enforcement_params: z.record(z.string(), z.unknown()), total_return: z.number().nullable(), max_drawdown: z.number().nullable(), kept: z.boolean(), why: z.string().nullable() })),
        created: ruleOutputObject.nullable().describe('With apply: the rule created'),
      }),
    ),
    skipped: z.array(z.string()).describe('Candidates skipped because the model already has that rule at the same or a tighter level'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler({ run_id, max_suggestions, apply }, { deps, auth }) {
    if (apply) requireScope(auth, 'rules:write', 'suggest_rules with apply: true');
    const run = await getOwnedRun(deps.sql, auth.userId, run_id);
    const r = await suggestRules(deps, run, max_suggestions);

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
      tried: s.tried,
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
    };
    const summary = suggestions.length
      ? clip(
          `${suggestions.length} rule(s) for run ${run_id}${apply ? ' (created)' : ''}, measured by replay: ` +
            suggestions.map((s) => `${s.rank}. ${s.rule.rule_name} — max drawdown ${pct(s.effect.max_drawdown.before)} → ${pct(s.effect.max_drawdown.after)}, return ${pct(s.effect.total_return.before)} → ${pct(s.effect.total_return.after)}`).join('; ') +
            `. ${r.findings.length} finding(s)${hasScope(auth, 'rules:write') || apply ? '' : '; creating them needs rules:write'}.`,
          1500,
        )
      : `Nothing to suggest for run ${run_id}: ${r.nothingToSuggest}`;
    return { data, summary };
  },
});

/** The name, or the name with " (2)", " (3)"… when the model already uses it. */
async function freeName(tx: Parameters<typeof takenRuleNames>[0], modelId: number, name: string): Promise<string> {
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? name : `${name} (${i})`;
    if (!(await takenRuleNames(tx, modelId, [candidate])).length) return candidate;
  }
}
