// suggest_rules' measuring, read as load → decide: the run replayed under its frozen rules
// (the baseline), the detectors over it (domain/suggestions.ts), and each grid candidate
// measured by replaying the run under the frozen rules plus that candidate
// (trading/counterfactual.ts). Nothing is written: the tool creates the rules when asked,
// and the run report shows the same suggestions.
import { nyLocal } from '../domain/ny-time.js';
import { alternativeRules, type RuleInput } from '../domain/counterfactual.js';
import { parseEnforcementParams } from '../domain/rules/schema.js';
import { alreadyHas, detect, DETECT, judge, worstDay, type CandidateRule, type FindingKind, type Measured, type Suggestion, type SuggestResult } from '../domain/suggestions.js';
import type { RuleRecord } from '../domain/types.js';
import type { Deps } from '../deps.js';
import { loadRunFills, runRoundTrips, type RunMetrics } from '../store/analyst.js';
import { runConcentration } from '../store/concentration.js';
import { loadRecordedOrders, snapshotRules } from '../store/counterfactual.js';
import { loadActiveRules } from '../store/rules.js';
import type { RunRow } from '../store/runs.js';
import { counterfactual } from './counterfactual.js';

function measured(m: RunMetrics, points: { clock: string; value: number }[]): Measured {
  return { total_return: m.total_return, max_drawdown: m.max_drawdown, sharpe: m.sharpe, round_trips: m.round_trips, worst_day: worstDay(points)?.return ?? null };
}

/** A frozen rule as create_rule takes it. */
export function ruleInputOf(r: RuleRecord): RuleInput {
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

/**
 * The rules that would have made `run` safer, each measured by replay (domain/suggestions.ts
 * has the detectors, the grid and the keep rule), at most `max`, best first. A run without
 * orders has nothing to suggest, with the reason.
 */
export async function suggestRules(deps: Deps, run: RunRow, max: number): Promise<SuggestResult> {
  const orders = await loadRecordedOrders(deps.sql, run.run_id);
  if (!orders.length) {
    return { partial: run.status === 'running', nothingToSuggest: `run ${run.run_id} has no orders, so no rule would have changed anything.`, findings: [], suggestions: [], skipped: [] };
  }
  const frozen = snapshotRules(run.strategy_snapshot);
  const base = await counterfactual(deps, run, null);
  const before = measured(base.original, base.replay.originalPoints);
  const { round_trips } = await runRoundTrips(deps, run);
  // the run's concentration as detect_threats, risk_score and the report have it (one figure)
  const [top] = await runConcentration(deps.sql, deps.market, run, await loadRunFills(deps.sql, run.run_id));
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
    exposure: { ...base.replay.book.exposure, maxWeight: top?.weight ?? 0, maxWeightSymbol: top?.symbol ?? null, maxWeightClock: top?.clock ?? null },
    trips: round_trips.map((t) => ({ symbol: t.symbol, entry_time: t.entry_time, exit_time: t.exit_time, pnl: t.pnl_cents / 100, mae_pct: t.excursion?.mae_pct != null ? -t.excursion.mae_pct : null })),
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
      const parsed = alternativeRules([...frozen.map(ruleInputOf), named], (cat, p) => parseEnforcementParams(cat, p) as { ok: true; params: unknown } | { ok: false; error: string });
      if (!parsed.ok) throw new Error(parsed.error);
      const cf = await counterfactual(deps, run, parsed.rules, {}, base.original);
      const m = measured(cf.counterfactual, cf.replay.points);
      memo.set(key, { m, verdict: judge(before, m) });
    }
    return memo.get(key)!;
  };

  type Picked = Omit<Suggestion, 'rank' | 'effect'> & { m: Measured; score: number };
  const picked: Picked[] = [];
  const suggestedKinds = new Set<FindingKind>();
  for (const f of findings) {
    let best: Picked | null = null;
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
    const same = (p: Picked) => p.rule.rule_category === best!.rule.rule_category && JSON.stringify(p.rule.enforcement_params) === JSON.stringify(best!.rule.enforcement_params);
    if (best && !picked.some(same)) {
      picked.push(best);
      suggestedKinds.add(f.kind);
    }
  }
  picked.sort((a, b) => b.score - a.score);
  const suggestions: Suggestion[] = picked.slice(0, max).map((s, i) => ({
    rank: i + 1,
    finding: s.finding,
    text: s.text,
    evidence: s.evidence,
    rule: s.rule,
    effect: {
      total_return: { before: before.total_return, after: s.m.total_return },
      max_drawdown: { before: before.max_drawdown, after: s.m.max_drawdown },
      sharpe: { before: before.sharpe, after: s.m.sharpe },
      round_trips: { before: before.round_trips, after: s.m.round_trips },
      worst_day: { before: before.worst_day, after: s.m.worst_day },
      score: s.score,
    },
    tried: s.tried.slice(0, 6),
  }));
  return {
    partial: base.replay.partial,
    nothingToSuggest: suggestions.length
      ? null
      : findings.length
        ? `no candidate rule reduced the max drawdown or the worst day without costing more return than it saved (${findings.length} finding(s) checked).`
        : `no detector fired: no position above ${DETECT.concentration * 100}% of the account, drawdown within ${DETECT.drawdown * 100}%, no large loss, loss cluster, cash exhaustion or loss streak.`,
    findings: findings.map((f) => ({ kind: f.kind, text: f.text, candidates: f.candidates.length, suggested: suggestedKinds.has(f.kind) })),
    suggestions,
    skipped,
  };
}
