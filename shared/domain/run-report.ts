// A run's key facts in words: the metrics headline, the worst round trips with the reasoning
// behind them, the rule rejections, and the markdown report built from them. Pure: the
// numbers come from the analyst's one loader (metrics and FIFO round trips); this only words them.
import type { RunFacts } from '../store/run-facts.js';
import type { AnalyzedRoundTrip } from '../store/analyst.js';
import { formatCents, toCents } from './money.js';
import { nyLocal } from './ny-time.js';
import { SEVERITIES, type ThreatEvent } from './threats.js';
import type { RiskScore } from './risk-score.js';
import { HINDSIGHT, type SuggestResult } from './suggestions.js';
import { quoted, quotedWithin, untrustedNotice } from '../mcp/untrusted.js';

const REASON_CHARS = 300;

/** $1,234.56 / -$1,234.56 */
export const usd = (dollars: number) => formatCents(toCents(dollars));
/** 0.0123 → "1.23%" */
export const pct = (fraction: number | null, digits = 2) => (fraction === null ? 'n/a' : `${(fraction * 100).toFixed(digits)}%`);
const num = (x: number | null, digits = 2) => (x === null ? 'n/a' : x.toFixed(digits));
/** UTC ISO → "2025-06-10 09:35 New York" */
export const nyTime = (isoUtc: string | null) => {
  if (!isoUtc) return 'n/a';
  const l = nyLocal(new Date(isoUtc));
  return `${l.date} ${l.hhmm}`;
};
const clip = (s: string, n = REASON_CHARS) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
// stored reasoning is untrusted text: quoted between markers (see shared/mcp/untrusted.ts), never as the report's own words
const quote = (s: string | null | undefined) => (s ? quoted(clip(s.replace(/\s+/g, ' ').trim())) : 'none recorded');

/** Whether any of the round trips quotes stored reasoning (entry or exit). */
export function quotesReasoning(trips: readonly AnalyzedRoundTrip[]): boolean {
  return trips.some((t) => Boolean(t.entry_reasoning ?? t.entry_decision?.content) || Boolean(t.exit_reasoning ?? t.exit_decision?.content));
}
const held = (seconds: number) => (seconds >= 2 * 86_400 ? `${(seconds / 86_400).toFixed(1)} days` : seconds >= 5_400 ? `${(seconds / 3_600).toFixed(1)} h` : `${Math.round(seconds / 60)} min`);

/** "Momentum — run #3" */
export function runTitle(f: Pick<RunFacts, 'model_name' | 'run'>): string {
  return `${f.model_name} — run #${f.run.run_number}`;
}

/** One sentence: what the run did, from the metrics (every figure from calculate_metrics' numbers). */
export function metricsHeadline(f: RunFacts): string {
  const m = f.metrics;
  const steps = f.run.kind === 'live' ? 'live minute steps' : `${f.run.timespan} steps`;
  const parts = [
    m.total_return === null
      ? `${runTitle(f)} (run ${f.run.run_id}) has no return yet (${m.periods} ${steps})`
      : `${runTitle(f)} (run ${f.run.run_id}) ${m.total_return < 0 ? 'lost' : 'returned'} ${pct(Math.abs(m.total_return))} (${usd(m.start_value!)} → ${usd(m.end_value!)}) over ${m.periods} ${steps}`,
    `max drawdown ${pct(m.max_drawdown)}`,
    `Sharpe ${num(m.sharpe)}`,
    m.round_trips
      ? `${m.round_trips} round trip(s), ${pct(m.win_rate, 0)} won, profit factor ${num(m.profit_factor)}`
      : 'no closed round trip',
    `${f.rejected_orders} refused order(s)`,
  ];
  return `${parts.join('; ')}.`;
}

/** The `n` round trips with the lowest net P&L, worst first. */
export function worstRoundTrips(trips: readonly AnalyzedRoundTrip[], n = 5): AnalyzedRoundTrip[] {
  return [...trips].sort((a, b) => a.pnl_cents - b.pnl_cents || a.entry_time.localeCompare(b.entry_time)).slice(0, n);
}

/** A round trip in one line plus its reasoning lines (markdown list items). */
export function roundTripLines(t: AnalyzedRoundTrip): string[] {
  return [
    `${t.symbol} ${t.direction} ${t.quantity} @ $${t.entry_price} → $${t.exit_price}: ${formatCents(t.pnl_cents)} (${pct(t.pnl_pct)}), held ${held(t.holding_seconds)}, closed by ${t.exit_cause}; entered ${nyTime(t.entry_time)} New York.`,
    `Entry reasoning: ${quote(t.entry_reasoning ?? t.entry_decision?.content)}`,
    `Exit reasoning: ${quote(t.exit_reasoning ?? t.exit_decision?.content)}`,
  ];
}

/** The rejections as lines: "rule <untrusted>Max 20%</untrusted> (MAX_POSITION_PCT): 3 order(s), latest: position would be …". */
export function rejectionLines(f: RunFacts, max = 8): string[] {
  return f.rejections.slice(0, max).map((r) => `${r.source} ${r.source === 'rule' ? quoted(r.name) : r.name} (${r.code}): ${r.orders} order(s), latest: ${latestMessage(r, 160)}`);
}

/**
 * The line naming who wrote the rejections' stored text (rule names, approvers' notes: quoted in
 * the rejection lines and rows); null when they show none.
 */
export function rejectionsNotice(f: RunFacts): string | null {
  return f.rejections.some((r) => r.stored.length) ? `${untrustedNotice(f.rejection_writers)} (rule names, approvers' notes)` : null;
}

/** A group's latest message, clipped, its stored text quoted (a rule's name dropped from the head: the row names the rule). */
function latestMessage(r: RunFacts['rejections'][number], max: number): string {
  return quotedWithin(r.source === 'rule' ? r.example.replace(`Rule '${r.name}': `, '') : r.example, r.stored, max);
}

/**
 * The markdown report of aibt://runs/{run_id}/report: header, metrics table, round-trip
 * summary with findings, the worst five round trips with their reasoning, rejections by rule,
 * then (when given) the threats with the risk score and the suggested rules with their measured effect.
 * `writers`: the keys that wrote the run's reasoning, named above the quoted reasoning (untrusted content).
 */
export function reportMarkdown(
  f: RunFacts,
  threats?: { events: ThreatEvent[]; risk: RiskScore },
  suggested?: SuggestResult,
  writers: readonly (string | null)[] = [],
): string {
  const m = f.metrics;
  const r = f.run;
  const out: string[] = [];
  out.push(`# ${runTitle(f)}`, '');
  const kind = r.kind === 'live' ? 'Live run (minute steps)' : `Replay, ${r.timespan} steps, ${nyTime(r.start)} → ${nyTime(r.end)} New York`;
  out.push(
    // a replay's ended_at is its clock, started_at the wall clock: only a live run's pair reads as one span
    `${kind}; run id ${r.run_id}, status ${r.status}; symbols ${r.symbols.length ? r.symbols.join(', ') : 'any'}${r.kind === 'live' ? `; started ${r.started_at}${r.ended_at ? `, ended ${r.ended_at}` : ''} (UTC)` : ''}.`,
    '',
    metricsHeadline(f),
    '',
  );

  out.push('## Metrics', '', '| metric | value |', '|---|---|');
  const row = (k: string, v: string) => out.push(`| ${k} | ${v} |`);
  row('Start → end value', m.start_value === null ? 'n/a' : `${usd(m.start_value)} → ${usd(m.end_value!)}`);
  row('Total return', pct(m.total_return));
  row('Annualized return', pct(m.annualized_return));
  row('Volatility (annualized)', pct(m.volatility));
  row('Sharpe', num(m.sharpe));
  row('Sortino', num(m.sortino));
  row(
    'Max drawdown',
    m.max_drawdown === null
      ? 'n/a'
      : `${pct(m.max_drawdown)}${m.drawdown.start ? ` (peak ${nyTime(m.drawdown.start)}, valley ${nyTime(m.drawdown.valley)}, ${m.drawdown.recovery ? `recovered ${nyTime(m.drawdown.recovery)}` : 'not recovered'})` : ''}`,
  );
  row('Calmar', num(m.calmar));
  row('Round trips', String(m.round_trips));
  row('Win rate', pct(m.win_rate, 1));
  row('Profit factor', num(m.profit_factor));
  row('Payoff ratio', num(m.payoff_ratio));
  row('Average win / loss', `${m.avg_win === null ? 'n/a' : usd(m.avg_win)} / ${m.avg_loss === null ? 'n/a' : usd(m.avg_loss)}`);
  row('Exposure', pct(m.exposure, 1));
  row('Turnover', m.turnover === null ? 'n/a' : `${m.turnover.toFixed(2)}×`);
  row('Commission / slippage paid', `${usd(m.commission_paid)} / ${usd(m.slippage_paid)}`);
  row('Periods per year', String(m.periods_per_year));
  out.push('');
  if (m.notes.length) out.push(...m.notes.map((n) => `- ${n}`), '');

  out.push('## Round trips', '');
  const closed = f.round_trips;
  const won = closed.filter((t) => t.pnl_cents > 0).length;
  const net = closed.reduce((s, t) => s + t.pnl_cents, 0);
  out.push(
    closed.length
      ? `${closed.length} closed round trip(s) (FIFO): ${won} won, ${closed.length - won} lost or broke even, net ${formatCents(net)}.`
      : 'No closed round trip.',
  );
  if (f.open_lots.length) {
    out.push(
      `Still open: ${f.open_lots
        .map((l) => `${l.symbol} ${l.direction} ${l.quantity} @ $${l.entry_price}${l.unrealized_pnl_cents === null ? '' : ` (unrealized ${formatCents(l.unrealized_pnl_cents)} at $${l.last_price})`}`)
        .join('; ')}.`,
    );
  }
  out.push('');
  if (f.findings.length) out.push(...f.findings.map((s) => `- ${s}`), '');

  out.push('## Worst five round trips', '');
  const worst = worstRoundTrips(closed, 5);
  if (!worst.length) out.push('None: the run closed no round trip.', '');
  if (quotesReasoning(worst)) out.push(untrustedNotice([...writers]), '');
  worst.forEach((t, i) => {
    const [line, ...why] = roundTripLines(t);
    out.push(`${i + 1}. ${line}`, ...why.map((w) => `   - ${w}`));
  });
  if (worst.length) out.push('');

  out.push('## Rejections by rule', '');
  if (!f.rejections.length) out.push('No order was refused.');
  else {
    const notice = rejectionsNotice(f);
    out.push(`${f.rejected_orders} order(s) refused.`, '', ...(notice ? [notice, ''] : []), '| rule or gate | code | orders | latest message |', '|---|---|---|---|');
    const cell = (s: string) => s.replace(/\|/g, '/');
    for (const g of f.rejections) out.push(`| ${cell(g.source === 'rule' ? `rule ${quoted(g.name)}` : `gate ${g.name}`)} | ${g.code} | ${g.orders} | ${cell(latestMessage(g, 160))} |`);
  }
  out.push('');
  // a threat names the rules that refused orders: their names quoted as in the rejections above
  if (threats) out.push(...threatLines(threats.events, threats.risk, 10, f.rejections.flatMap((g) => g.stored)));
  if (suggested) out.push(...suggestionLines(suggested));
  return out.join('\n');
}

/**
 * The report's threats section: the risk score with its three largest factors, then the
 * threat events worst first (at most `max`), each with its recommendation; `stored` (rule names,
 * approvers' notes) quoted where a message names them.
 */
export function threatLines(events: readonly ThreatEvent[], risk: RiskScore, max = 10, stored: readonly string[] = []): string[] {
  const out = ['## Threats', ''];
  const byName = new Map(risk.factors.map((x) => [x.name, x]));
  out.push(
    `Risk score ${risk.score.toFixed(1)}/100 (${risk.band}); largest factors: ${risk.top.map((n) => `${n.replace(/_/g, ' ')} ${byName.get(n)!.contribution.toFixed(1)}`).join(', ')}.` +
      (risk.missing_protections.length ? ` Missing protections: ${risk.missing_protections.join(', ')}.` : '') +
      ` Largest position weight at any equity point: ${(byName.get('concentration')!.raw * 100).toFixed(1)}%.`,
    '',
  );
  if (!events.length) return [...out, 'No threat detected.', ''];
  const worst = [...events].sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || a.clock.localeCompare(b.clock));
  for (const e of worst.slice(0, max)) {
    out.push(`- **${e.severity}** ${e.type.replace(/_/g, ' ')} (${nyTime(e.clock)} New York): ${quotedWithin(e.message, stored, 200)} Recommendation: ${e.recommendation.text}`);
  }
  if (worst.length > max) out.push(`- … and ${worst.length - max} more (detect_threats lists them all).`);
  out.push('');
  return out;
}

/**
 * The report's suggestions section: each suggested rule (as suggest_rules ranks it) with the
 * finding behind it and its effect measured by replaying the run under it, before → after:
 * max drawdown, total return, worst day (percent), Sharpe, round trips. Or why there is none.
 */
export function suggestionLines(s: SuggestResult): string[] {
  const out = ['## Suggested rules', ''];
  if (!s.suggestions.length) return [...out, `Nothing to suggest: ${s.nothingToSuggest}`, ''];
  const wf = s.walkForward;
  out.push(
    `Measured by replaying the run's own orders under its rules plus each suggestion (replay_with_rules)${s.partial ? ', up to its clock (the run is still running)' : ''}; ${s.candidatesTried} candidate rule(s) tried; suggest_rules with apply: true creates them.`,
    '',
    HINDSIGHT + (wf ? ` Here: chosen on ${wf.first.from}…${wf.first.to} (${wf.first.sessions} session(s)), measured on ${wf.rest.from}…${wf.rest.to} (${wf.rest.sessions}).` : ' This run has fewer than 2 sessions: no out-of-sample test.'),
    '',
    '| # | rule | finding | in-sample max drawdown | in-sample total return | worst day | Sharpe | round trips | out-of-sample max drawdown | out-of-sample total return |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  const arrow = (c: { before: number | null; after: number | null }, f: (x: number | null) => string) => `${f(c.before)} → ${f(c.after)}`;
  for (const x of s.suggestions) {
    const e = x.effect;
    out.push(
      `| ${x.rank} | '${x.rule.rule_name}' (${x.rule.rule_category} ${JSON.stringify(x.rule.enforcement_params)}) | ${clip(x.text, 200).replace(/\|/g, '/')} | ${arrow(e.max_drawdown, (v) => pct(v))} | ${arrow(e.total_return, (v) => pct(v))} | ${arrow(e.worst_day, (v) => pct(v))} | ${arrow(e.sharpe, (v) => num(v))} | ${arrow(e.round_trips, (v) => (v === null ? 'n/a' : String(v)))} | ${x.out_of_sample ? `${arrow(x.out_of_sample.effect.max_drawdown, (v) => pct(v))}${x.out_of_sample.helped ? '' : ' (did not help)'}` : 'n/a'} | ${x.out_of_sample ? arrow(x.out_of_sample.effect.total_return, (v) => pct(v)) : 'n/a'} |`,
    );
  }
  out.push('');
  return out;
}
