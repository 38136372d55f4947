// suggest_rules' measuring, read as load → decide: the run replayed under its frozen rules
// (the baseline), the detectors over it (domain/suggestions.ts), and each grid candidate
// measured by replaying the run under the frozen rules plus that candidate
// (trading/counterfactual.ts). Nothing is written: the tool creates the rules when asked,
// and the run report shows the same suggestions.
import { nyLocal } from '../domain/ny-time.js';
import { alternativeRules, type RuleInput } from '../domain/counterfactual.js';
import { parseEnforcementParams } from '../domain/rules/schema.js';
import {
  alreadyHas,
  detect,
  DETECT,
  judge,
  measurePart,
  splitAt,
  stopsTrading,
  walkForwardSplit,
  worstDay,
  type CandidateRule,
  type FindingKind,
  type Measured,
  type OutOfSample,
  type PartMeasure,
  type Suggestion,
  type SuggestResult,
  type Verdict,
} from '../domain/suggestions.js';
import type { RuleRecord } from '../domain/types.js';
import type { Deps } from '../deps.js';
import { runRoundTrips, type RunMetrics } from '../store/analyst.js';
import { runConcentration } from '../store/concentration.js';
import { loadRecordedOrders, snapshotRules } from '../store/counterfactual.js';
import { loadActiveRules } from '../store/rules.js';
import { toRun, type RunRow } from '../store/runs.js';
import { counterfactual, loadRunTape } from './counterfactual.js';

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
    return { partial: run.status === 'running', nothingToSuggest: `run ${run.run_id} has no orders, so no rule would have changed anything.`, findings: [], suggestions: [], skipped: [], candidatesTried: 0, walkForward: null };
  }
  const frozen = snapshotRules(run.strategy_snapshot);
  // one read of the run for its replays (the base and every candidate's)
  const tape = await loadRunTape(deps, run);
  const base = await counterfactual(deps, run, null, {}, { tape });
  const before = measured(base.original, base.replay.originalPoints);
  const { round_trips } = await runRoundTrips(deps, run);
  // the run's concentration as detect_threats, risk_score and the report have it (one figure)
  const [top] = await runConcentration(deps.sql, deps.market, run, tape.recordedFills);
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
  // walk-forward: the first 2/3 of the sessions choose, the rest measure
  const split = walkForwardSplit(base.replay.originalPoints);
  const [beforeFirst, beforeRest] = split ? splitAt(base.replay.originalPoints, split.boundary).map(measurePart) : [null, null];
  // entries (buys and shorts filled) in each part: an exit with nothing left to close is no lost trade
  const tradesIn = (fills: readonly { clock: string; side: string }[]): [number, number] | null => {
    if (!split) return null;
    const entries = fills.filter((f) => f.side === 'buy' || f.side === 'short');
    return [entries.filter((f) => f.clock <= split.boundary).length, entries.filter((f) => f.clock > split.boundary).length];
  };
  const originalTrades = tradesIn(base.replay.fills);
  const entriesMade = orders.filter((o) => (o.side === 'buy' || o.side === 'short') && o.status === 'filled');

  interface Trial {
    m: Measured;
    verdict: Verdict;
    first: PartMeasure | null;
    rest: PartMeasure | null;
    stops: string | null;
  }
  const memo = new Map<string, Trial>();
  const withCandidate = (c: CandidateRule, rules: RuleRecord[]) => {
    const named = rules.some((r) => r.ruleName === c.rule_name) ? { ...c, rule_name: `${c.rule_name} (suggested)` } : c;
    const parsed = alternativeRules([...rules.map(ruleInputOf), named], (cat, p) => parseEnforcementParams(cat, p) as { ok: true; params: unknown } | { ok: false; error: string });
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.rules;
  };
  const measure = async (c: CandidateRule): Promise<Trial> => {
    const key = `${c.rule_category}:${JSON.stringify(c.enforcement_params)}`;
    if (!memo.has(key)) {
      const cf = await counterfactual(deps, run, withCandidate(c, frozen), {}, { original: base.original, tape });
      const m = measured(cf.counterfactual, cf.replay.points);
      const refused = entriesMade.filter((o) => cf.replay.book.outcomes.get(o.order_id)?.status !== 'filled').length;
      const after = tradesIn(cf.replay.fills);
      const stops = stopsTrading({ made: entriesMade.length, refused }, split && originalTrades && after ? { first: [originalTrades[0], after[0]], rest: [originalTrades[1], after[1]] } : null);
      const verdict = stops ? { keep: false, score: judge(before, m).score, why: stops } : judge(before, m);
      const [first, rest] = split ? splitAt(cf.replay.points, split.boundary).map(measurePart) : [null, null];
      memo.set(key, { m, verdict, first, rest, stops });
    }
    return memo.get(key)!;
  };

  type Picked = Omit<Suggestion, 'rank' | 'effect' | 'out_of_sample' | 'out_of_sample_note'> & { m: Measured; score: number; oos: { c: CandidateRule; t: Trial } | null };
  const picked: Picked[] = [];
  const suggestedKinds = new Set<FindingKind>();
  const whyNot = new Map<FindingKind, string>();
  for (const f of findings) {
    let best: Picked | null = null;
    let wf: { c: CandidateRule; t: Trial; score: number } | null = null;
    const tried: Suggestion['tried'] = [];
    for (const c of f.candidates) {
      if (alreadyHas(have, c)) {
        skipped.push(`${c.rule_name} (${f.kind}): the model already has ${c.rule_category} ${JSON.stringify(c.enforcement_params)} or tighter.`);
        continue;
      }
      const trial = await measure(c);
      const { m, verdict } = trial;
      tried.push({ enforcement_params: c.enforcement_params, total_return: m.total_return, max_drawdown: m.max_drawdown, kept: verdict.keep, why: verdict.why });
      if (verdict.keep && (!best || verdict.score > best.score)) best = { finding: f.kind, text: f.text, evidence: f.evidence, rule: c, m, score: verdict.score, tried, oos: null };
      // the walk-forward pick: judged on the first part only
      if (!trial.stops && trial.first && beforeFirst) {
        const v = judge(beforeFirst, trial.first);
        if (v.keep && (!wf || v.score > wf.score)) wf = { c, t: trial, score: v.score };
      }
    }
    if (!best && tried.length) {
      whyNot.set(f.kind, f.candidates.filter((c) => tried.some((x) => x.enforcement_params === c.enforcement_params)).slice(0, 3).map((c) => `${c.rule_name}: ${tried.find((x) => x.enforcement_params === c.enforcement_params)!.why}`).join('; '));
    }
    const same = (p: Picked) => p.rule.rule_category === best!.rule.rule_category && JSON.stringify(p.rule.enforcement_params) === JSON.stringify(best!.rule.enforcement_params);
    if (best && !picked.some(same)) {
      best.oos = wf && { c: wf.c, t: wf.t };
      picked.push(best);
      suggestedKinds.add(f.kind);
    }
  }

  const others = await otherFinishedRuns(deps, run);
  const outOfSample = async (p: Picked): Promise<{ oos: OutOfSample | null; note: string | null }> => {
    if (!split) return { oos: null, note: 'The run has fewer than 2 sessions: no walk-forward test is possible.' };
    if (!p.oos) return { oos: null, note: `No candidate for this finding helped on the first ${split.first.sessions} session(s) (${split.first.from}…${split.first.to}) without stopping the agent trading: nothing to carry forward.` };
    const { c, t } = p.oos;
    const v = judge(beforeRest!, t.rest!);
    const otherRuns: OutOfSample['other_runs'] = [];
    for (const o of others) {
      const oTape = await loadRunTape(deps, o);
      const ob = await counterfactual(deps, o, null, {}, { tape: oTape });
      const oc = await counterfactual(deps, o, withCandidate(c, snapshotRules(o.strategy_snapshot)), {}, { original: ob.original, tape: oTape });
      const b = measurePart(ob.replay.originalPoints);
      const a = measurePart(oc.replay.points);
      otherRuns.push({ run_id: o.run_id, total_return: { before: b.total_return, after: a.total_return }, max_drawdown: { before: b.max_drawdown, after: a.max_drawdown }, helped: judge(b, a).keep });
    }
    return {
      oos: {
        enforcement_params: c.enforcement_params,
        chosen_on: split.first,
        measured_on: split.rest,
        effect: {
          total_return: { before: beforeRest!.total_return, after: t.rest!.total_return },
          max_drawdown: { before: beforeRest!.max_drawdown, after: t.rest!.max_drawdown },
          worst_day: { before: beforeRest!.worst_day, after: t.rest!.worst_day },
          score: v.score,
        },
        helped: v.keep,
        why: v.why,
        other_runs: otherRuns,
      },
      note: null,
    };
  };
  const ranked: Array<Picked & { oosResult: { oos: OutOfSample | null; note: string | null } }> = [];
  for (const p of picked) ranked.push({ ...p, oosResult: await outOfSample(p) });
  // honest order: what helped out of sample first, by its out-of-sample score; then the rest by the in-sample score
  ranked.sort((a, b) => Number(b.oosResult.oos?.helped ?? false) - Number(a.oosResult.oos?.helped ?? false) || (b.oosResult.oos?.effect.score ?? b.score) - (a.oosResult.oos?.effect.score ?? a.score));
  const suggestions: Suggestion[] = ranked.slice(0, max).map((s, i) => ({
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
    out_of_sample: s.oosResult.oos,
    out_of_sample_note: s.oosResult.note,
  }));
  return {
    partial: base.replay.partial,
    nothingToSuggest: suggestions.length
      ? null
      : findings.length
        ? `no candidate rule reduced the max drawdown or the worst day without costing more return than it saved or stopping the agent trading (${findings.length} finding(s) checked).`
        : `no detector fired: no position above ${DETECT.concentration * 100}% of the account, drawdown within ${DETECT.drawdown * 100}%, no large loss, loss cluster, cash exhaustion or loss streak.`,
    findings: findings.map((f) => ({ kind: f.kind, text: f.text, candidates: f.candidates.length, suggested: suggestedKinds.has(f.kind), why_not: suggestedKinds.has(f.kind) ? null : (whyNot.get(f.kind) ?? null) })),
    suggestions,
    skipped,
    candidatesTried: memo.size,
    walkForward: split,
  };
}

/** The model's other finished runs (newest first, at most 2) that the walk-forward also measures on. */
async function otherFinishedRuns(deps: Deps, run: RunRow): Promise<RunRow[]> {
  const rows = await deps.sql`
    select * from runs where model_id = ${run.model_id} and id <> ${run.run_id} and status in ('completed', 'stopped') and kind = 'replay'
    order by id desc limit 2`;
  return rows.map((r) => toRun(r));
}
