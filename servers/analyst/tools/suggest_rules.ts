import { z } from 'zod';
import { hasScope, requireScope } from '../../../shared/auth/scopes.js';
import { nyLocal } from '../../../shared/domain/ny-time.js';
import { alternativeRules } from '../../../shared/domain/counterfactual.js';
import { parseEnforcementParams } from '../../../shared/domain/rules/schema.js';
import { alreadyHas, detect, DETECT, judge, worstDay, type CandidateRule, type FindingKind, type Measured } from '../../../shared/domain/suggestions.js';
import type { RuleRecord } from '../../../shared/domain/types.js';
import { clip } from '../../../shared/mcp/paging.js';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { runRoundTrips, type RunMetrics } from '../../../shared/store/analyst.js';
import { loadRecordedOrders, snapshotRules } from '../../../shared/store/counterfactual.js';
import { getOwnedModel } from '../../../shared/store/models.js';
import { insertRule, loadActiveRules, takenRuleNames, type Rule } from '../../../shared/store/rules.js';
import { getOwnedRun } from '../../../shared/store/runs.js';
import { counterfactual } from '../../../shared/trading/counterfactual.js';
import { ruleOutputObject } from '../../rules/tools/rule-fields.js';

const change = z.object({ before: z.number().nullable(), after: z.number().nullable() });

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);

function measured(m: RunMetrics, points: { clock: string; value: number }[]): Measured {
  return { total_return: m.total_return, max_drawdown: m.max_drawdown, sharpe: m.sharpe, round_trips: m.round_trips, worst_day: worstDay(points)?.return ?? null };
}

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
    const orders = await loadRecordedOrders(deps.sql, run.run_id);
    const empty = (reason: string) => ({
      data: { run_id, model_id: run.model_id, partial: run.status === 'running', nothing_to_suggest: reason, findings: [], suggestions: [], skipped: [] },
      summary: `Nothing to suggest for run ${run_id}: ${reason}`,
    });
    if (!orders.length) return empty(`run ${run_id} has no orders, so no rule would have changed anything.`);

    const frozen = snapshotRules(run.strategy_snapshot);
    const base = await counterfactual(deps, run, null);
    const before = measured(base.original, base.replay.originalPoints);
    const { round_trips } = await runRoundTrips(deps, run);
    const days = new Set(base.replay.originalPoints.map((p) => nyLocal(new Date(p.clock)).date)).size;
    const findings = detect({
      points: base.replay.originalPoints,
      maxDrawdown: {
        depth: base.original.max_drawdown ?? 0,
        peak: base.original.drawdown.start,
        valley: base.original.drawdown.valley,
        recovery: base.original.drawdown.recovery,
        durationPeriods: base.original.drawdown.duration_periods,
      },
      exposure: base.replay.book.exposure,
      trips: round_trips.map((t) => ({ symbol: t.symbol, entry_time: t.entry_time, exit_time: t.exit_time, pnl: t.pnl_cents / 100, mae_pct: t.excursion ? -t.excursion.mae_pct : null })),
      orders: orders.map((o) => ({ order_id: o.order_id, clock: o.clock, status: o.status, rule_rejections: o.rejections.filter((r) => r.source === 'rule').map((r) => (r as { rule_name: string }).rule_name) })),
      tradingDays: Math.max(1, days),
      intraday: run.timespan !== 'day',
    });

    const have: RuleRecord[] = [...frozen, ...(await loadActiveRules(deps.sql, run.model_id))];
    const skipped: string[] = [];
    const memo = new Map<string, { m: Measured; verdict: ReturnType<typeof judge> }>();
    const measure = async (c: CandidateRule) => {
      const key = `${c.rule_category}:${JSON.stringify(c.enforcement_params)}`;
      if (!memo.has(key)) {
        const named = frozen.some((r) => r.ruleName === c.rule_name) ? { ...c, rule_name: `${c.rule_name} (suggested)` } : c;
        const parsed = alternativeRules([...frozen.map(toInput), named], (cat, p) => parseEnforcementParams(cat, p) as { ok: true; params: unknown } | { ok: false; error: string });
        if (!parsed.ok) throw new Error(parsed.error);
        const cf = await counterfactual(deps, run, parsed.rules, {}, base.original);
        const m = measured(cf.counterfactual, cf.replay.points);
        memo.set(key, { m, verdict: judge(before, m) });
      }
      return memo.get(key)!;
    };

    type Suggestion = { finding: FindingKind; text: string; evidence: Record<string, unknown>; rule: CandidateRule; m: Measured; score: number; tried: { enforcement_params: Record<string, unknown>; total_return: number | null; max_drawdown: number | null; kept: boolean; why: string | null }[] };
    const picked: Suggestion[] = [];
    const suggestedKinds = new Set<FindingKind>();
    for (const f of findings) {
      let best: Suggestion | null = null;
      const tried: Suggestion['tried'] = [];
      for (const c of f.candidates) {
        if (alreadyHas(have, c)) {
          skipped.push(`${c.rule_name} (${f.kind}): the model already has ${c.rule_category} ${JSON.stringify(c.enforcement_params)} or tighter.`);
          continue;
        }
        const { m, verdict } = await measure(c);
        tried.push({ enforcement_params: c.enforcement_params, total_return: m.total_return, max_drawdown: m.max_drawdown, kept: verdict.keep, why: verdict.why });
        if (verdict.keep && (!best || verdict.score > best.score)) best = { finding: f.kind, text: f.text, evidence: f.evidence, rule: c, m, score: verdict.score, tried };
      }
      if (best && !picked.some((p) => p.rule.rule_category === best!.rule.rule_category && JSON.stringify(p.rule.enforcement_params) === JSON.stringify(best!.rule.enforcement_params))) {
        picked.push(best);
        suggestedKinds.add(f.kind);
      }
    }
    picked.sort((a, b) => b.score - a.score);
    const chosen = picked.slice(0, max_suggestions);

    let created: (Rule | null)[] = chosen.map(() => null);
    if (apply && chosen.length) {
      created = await deps.sql.begin(async (tx) => {
        await getOwnedModel(tx, auth.userId, run.model_id, true);
        const out: Rule[] = [];
        for (const s of chosen) {
          const name = await freeName(tx, run.model_id, s.rule.rule_name);
          out.push(await insertRule(tx, run.model_id, { ...s.rule, rule_name: name, applies_to_symbols: null, exclude_symbols: null, is_active: true, created_by: 'ai_suggested' }, { keyPrefix: auth.keyPrefix, tool: 'suggest_rules' }));
        }
        return out;
      });
    }

    const suggestions = chosen.map((s, i) => ({
      rank: i + 1,
      finding: s.text,
      rule: { model_id: run.model_id, ...s.rule, rule_name: created[i]?.rule_name ?? s.rule.rule_name, created_by: 'ai_suggested' as const },
      evidence: s.evidence,
      effect: {
        total_return: { before: before.total_return, after: s.m.total_return },
        max_drawdown: { before: before.max_drawdown, after: s.m.max_drawdown },
        sharpe: { before: before.sharpe, after: s.m.sharpe },
        round_trips: { before: before.round_trips, after: s.m.round_trips },
        worst_day: { before: before.worst_day, after: s.m.worst_day },
        score: s.score,
      },
      tried: s.tried.slice(0, 6),
      created: created[i] ?? null,
    }));
    const data = {
      run_id,
      model_id: run.model_id,
      partial: base.replay.partial,
      nothing_to_suggest: suggestions.length
        ? null
        : findings.length
          ? `no candidate rule reduced the max drawdown or the worst day without costing more return than it saved (${findings.length} finding(s) checked).`
          : `no detector fired: no position above ${DETECT.concentration * 100}% of the account, drawdown within ${DETECT.drawdown * 100}%, no large loss, loss cluster, cash exhaustion or loss streak.`,
      findings: findings.map((f) => ({ kind: f.kind, text: f.text, candidates: f.candidates.length, suggested: suggestedKinds.has(f.kind) })),
      suggestions,
      skipped: skipped.slice(0, 10),
    };
    const summary = suggestions.length
      ? clip(
          `${suggestions.length} rule(s) for run ${run_id}${apply ? ' (created)' : ''}, measured by replay: ` +
            suggestions.map((s) => `${s.rank}. ${s.rule.rule_name} — max drawdown ${pct(s.effect.max_drawdown.before)} → ${pct(s.effect.max_drawdown.after)}, return ${pct(s.effect.total_return.before)} → ${pct(s.effect.total_return.after)}`).join('; ') +
            `. ${findings.length} finding(s)${hasScope(auth, 'rules:write') || apply ? '' : '; creating them needs rules:write'}.`,
          1500,
        )
      : `Nothing to suggest for run ${run_id}: ${data.nothing_to_suggest}`;
    return { data, summary };
  },
});

function toInput(r: RuleRecord) {
  return {
    rule_name: r.ruleName,
    rule_category: r.ruleCategory,
    enforcement_params: r.enforcementParams,
    applies_to_symbols: r.appliesToSymbols,
    exclude_symbols: r.excludeSymbols,
    priority: r.priority,
    is_active: r.isActive,
  };
}

/** The name, or the name with " (2)", " (3)"… when the model already uses it. */
async function freeName(tx: Parameters<typeof takenRuleNames>[0], modelId: number, name: string): Promise<string> {
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? name : `${name} (${i})`;
    if (!(await takenRuleNames(tx, modelId, [candidate])).length) return candidate;
  }
}
