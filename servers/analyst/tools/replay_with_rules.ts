import { z } from 'zod';
import { alternativeRules, downsample } from '../../../shared/domain/counterfactual.js';
import { parseEnforcementParams, ruleFieldsSchema } from '../../../shared/domain/rules/schema.js';
import { formatCents, toCents } from '../../../shared/domain/money.js';
import { ToolError } from '../../../shared/mcp/errors.js';
import { clip, decodeCursor, pageInput, pageOutput, toPage } from '../../../shared/mcp/paging.js';
import { idSchema, unlisted } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY, stopIfCancelled } from '../../../shared/mcp/tool.js';
import type { RunMetrics } from '../../../shared/store/analyst.js';
import { getOwnedRun, type RunRow } from '../../../shared/store/runs.js';
import type { RuleRecord } from '../../../shared/domain/types.js';
import { jobDeps, offload } from '../../../shared/workers/offload.js';
import type { JobContext } from '../../../shared/workers/pool.js';
import { counterfactual, type Counterfactual, type ReplaySettings } from '../../../shared/trading/counterfactual.js';
import { HEADLINE_FIELDS, headlineOutput } from './metric-fields.js';
import { modelFields } from '../../runs/tools/model-fields.js';

const CURVE_POINTS = 60;
const CHANGED_BUDGET = 5 * 1024;
const EXITS_BUDGET = 2 * 1024;

/** A rule of the alternative set: create_rule's fields without model_id (created_by is ignored). */
export const alternativeRuleSchema = ruleFieldsSchema.omit({ created_by: true }).extend({
  // create_rule describes these at length; here they point there, to keep tools/list short
  rule_name: ruleFieldsSchema.shape.rule_name.meta(unlisted('minLength', 'maxLength')).describe('Unique name in this set'),
  rule_description: ruleFieldsSchema.shape.rule_description.meta(unlisted('maxLength')).describe('Why, for people'),
  rule_category: ruleFieldsSchema.shape.rule_category.describe('As in create_rule (strategy, entry_exit: advisory)'),
  enforcement_params: ruleFieldsSchema.shape.enforcement_params.describe("The category's parameters as create_rule takes them (fractions 0–1)"),
  applies_to_symbols: ruleFieldsSchema.shape.applies_to_symbols.describe('Only these symbols'),
  exclude_symbols: ruleFieldsSchema.shape.exclude_symbols.describe('Never these symbols'),
  priority: ruleFieldsSchema.shape.priority.describe('Violations are reported highest first'),
  is_active: ruleFieldsSchema.shape.is_active.describe('Inactive rules are never enforced'),
});

export const settingsSchema = z
  .object({
    // an override left out keeps the run's frozen value, so no model default is stated here
    allow_short: modelFields.allow_short.describe('Allow short and cover'),
    commission_per_share: modelFields.commission_per_share.describe('USD per share'),
    slippage_bps: modelFields.slippage_bps.describe('Against the trader, basis points'),
    max_drawdown_halt_pct: modelFields.max_drawdown_halt_pct.describe('Halt this far below the peak (fraction)'),
  })
  .strict()
  .describe("Overrides of the run's frozen settings");

const outcomeOutput = z.object({ status: z.string(), quantity: z.number(), fill_price: z.number().nullable(), reasons: z.array(z.string()) });
const exitOutput = z.object({
  time: z.string(),
  symbol: z.string(),
  side: z.string(),
  quantity: z.number(),
  price: z.number(),
  trigger: z.string().describe("'stop_loss', 'take_profit' (the order's own levels) or the exit rule's name"),
  reason: z.string().nullable(),
  realized_pnl: z.number().nullable().describe('Dollars, net of commission (null for an exit of the original run)'),
  in_original: z.boolean(),
});

export const comparisonOutput = z.object({
  original: headlineOutput,
  counterfactual: headlineOutput,
  difference: z.record(z.string(), z.number().nullable()).describe('counterfactual − original, per numeric metric (null when either is null)'),
});

/** Headline metrics of both runs and their difference (counterfactual − original). */
export function metricComparison(a: RunMetrics, b: RunMetrics) {
  const pick = (m: RunMetrics) => Object.fromEntries(HEADLINE_FIELDS.map((f) => [f, m[f]])) as Pick<RunMetrics, (typeof HEADLINE_FIELDS)[number]>;
  const difference: Record<string, number | null> = {};
  for (const f of HEADLINE_FIELDS) {
    const x = a[f];
    const y = b[f];
    difference[f] = typeof x === 'number' && typeof y === 'number' ? y - x : null;
  }
  return { original: pick(a), counterfactual: pick(b), difference };
}

/** Parses an alternative rule set, or refuses it with create_rule's sentence naming the rule's index. */
export function parseAlternativeRules(rules: z.infer<typeof alternativeRuleSchema>[]) {
  const parsed = alternativeRules(rules, (c, p) => parseEnforcementParams(c, p) as { ok: true; params: unknown } | { ok: false; error: string });
  if (!parsed.ok) throw new ToolError('INVALID_PARAMS', parsed.error);
  return parsed.rules;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);

export const replayWithRulesTool = defineTool({
  name: 'replay_with_rules',
  title: 'Replay a run under other rules',
  description:
    "Replay a run's recorded agent orders in memory under another rule set and settings, on its stored bars, through the trade server's own gates, rules, fills and clock exits; writes nothing. Returns orders whose outcome changed (paged), the exits made, the equity curve (down-sampled) and both runs' metrics (as calculate_metrics). A running run replays up to its clock.",
  scope: 'read',
  input: {
    run_id: idSchema('run_id'),
    rules: z.array(alternativeRuleSchema).max(50, { error: 'rules may list at most 50 rules.' }).describe('The whole alternative rule set (replaces the run’s frozen rules)'),
    settings: settingsSchema.optional(),
    ...pageInput(50, 200),
  },
  output: {
    run_id: z.number(),
    partial: z.boolean().describe('The run is still running: replayed up to its clock'),
    as_of: z.string(),
    rules_replayed: z.number(),
    settings: z.object({ allow_short: z.boolean(), commission_per_share: z.number(), slippage_bps: z.number(), max_drawdown_halt_pct: z.number() }),
    orders_replayed: z.number(),
    orders_changed: z.number(),
    changed_orders: z.array(
      z.object({
        order_id: z.number(),
        clock: z.string(),
        side: z.string(),
        symbol: z.string(),
        changes: z.array(z.string()).describe('status, fill_price, quantity, reasons'),
        original: outcomeOutput,
        counterfactual: outcomeOutput,
      }),
    ),
    ...pageOutput,
    exits: z.array(exitOutput).describe('Exits the clock made in the counterfactual (the first ones, within ~2 KB)'),
    exits_total: z.number(),
    exits_removed: z.number().describe('Exits of the original run the counterfactual did not make'),
    halts: z.array(z.object({ clock: z.string(), reason: z.string() })).describe('Circuit breakers the counterfactual tripped'),
    equity_curve: z.array(z.object({ clock: z.string(), value: z.number(), original_value: z.number().nullable() })).describe(`At most ${CURVE_POINTS} points (min/max per bucket), dollars`),
    final: z.object({
      original: z.object({ value: z.number().nullable() }),
      counterfactual: z.object({ value: z.number(), cash: z.number(), realized_pnl: z.number(), positions: z.array(z.object({ symbol: z.string(), quantity: z.number(), avg_cost: z.number() })) }),
    }),
    metrics: comparisonOutput,
    notes: z.array(z.string()),
  },
  annotations: READ_ONLY,
  async handler({ run_id, rules, settings, limit, cursor }, ctx) {
    const { deps, auth, progress, signal } = ctx;
    const after = decodeCursor(cursor, 'number') ?? 0;
    const run = await getOwnedRun(deps.sql, auth.userId, run_id);
    const ruleSet = parseAlternativeRules(rules);
    await progress(0, 1, 'replaying under the alternative rules');
    // replayed in a worker thread, off the loop that serves orders; only the shaped page comes back
    const out = await offload<ReplayJobOutput>(ctx, import.meta.url, 'replayJob', { run, rules: ruleSet, settings: settings ?? {}, limit, after });
    stopIfCancelled({ signal });
    await progress(1, 1);
    return out;
  },
});

type ReplayJobOutput = { data: ReturnType<typeof shape>; summary: string };

/** Worker job: the run replayed under the rules and settings, shaped for the page asked for. */
export async function replayJob(input: { run: RunRow; rules: RuleRecord[] | null; settings: ReplaySettings; limit: number; after: number }, ctx: JobContext): Promise<ReplayJobOutput> {
  const cf = await counterfactual(jobDeps(ctx), input.run, input.rules, input.settings);
  return { data: shape(cf, input.run.run_id, input.limit, input.after), summary: summarize(cf, input.run.run_id) };
}

function shape(cf: Counterfactual, runId: number, limit: number, after: number) {
  const { replay } = cf;
  const page = toPage(
    cf.changed.filter((c) => c.order_id > after),
    { limit, key: (c) => c.order_id, budget: CHANGED_BUDGET },
  );
  const exits = toPage(cf.exits, { limit: 50, key: (e) => e.time, budget: EXITS_BUDGET }).items;
  const originalAt = new Map(replay.originalPoints.map((p) => [p.clock, p.value]));
  const curve = downsample(replay.points, CURVE_POINTS, (p) => p.value).map((p) => ({ clock: p.clock, value: p.value, original_value: originalAt.get(p.clock) ?? null }));
  const last = replay.points.at(-1)!;
  const notes = [...cf.counterfactual.notes.map((n) => `counterfactual: ${n}`)].slice(0, 6);
  if (replay.partial) notes.unshift(`The run is still running: replayed up to its clock ${replay.asOf}; figures are partial.`);
  if (replay.cut.size) notes.push(`${replay.cut.size} closing order(s) were cut to the counterfactual holding.`);
  return {
    run_id: runId,
    partial: replay.partial,
    as_of: replay.asOf,
    rules_replayed: replay.rules.length,
    settings: {
      allow_short: replay.model.allow_short,
      commission_per_share: replay.model.commission_per_share,
      slippage_bps: replay.model.slippage_bps,
      max_drawdown_halt_pct: replay.model.max_drawdown_halt_pct,
    },
    orders_replayed: replay.orders.length,
    orders_changed: cf.changed.length,
    changed_orders: page.items,
    truncated: page.truncated,
    next_cursor: page.next_cursor,
    exits,
    exits_total: cf.exits.length,
    exits_removed: cf.exitsRemoved.length,
    halts: replay.book.halts.slice(0, 5),
    equity_curve: curve,
    final: {
      original: { value: replay.originalPoints.at(-1)?.value ?? null },
      counterfactual: {
        value: last.value,
        cash: replay.book.cashCents / 100,
        realized_pnl: replay.book.realizedPnlCents / 100,
        positions: [...replay.book.positions.values()].slice(0, 20).map((p) => ({ symbol: p.symbol, quantity: p.quantity, avg_cost: p.avgCost })),
      },
    },
    metrics: metricComparison(cf.original, cf.counterfactual),
    notes,
  };
}

function summarize(cf: Counterfactual, runId: number): string {
  const { replay, original: a, counterfactual: b } = cf;
  const last = replay.points.at(-1)!;
  const origLast = replay.originalPoints.at(-1)?.value ?? null;
  const newExits = cf.exits.filter((e) => !e.in_original).length;
  return clip(
    `Run ${runId} replayed${replay.partial ? ' up to its clock (partial, the run is still running)' : ''} under ${replay.rules.length} rule(s): ` +
      `${cf.changed.length} of ${replay.orders.length} order(s) changed outcome, ${newExits} new exit(s)${cf.exitsRemoved.length ? `, ${cf.exitsRemoved.length} original exit(s) no longer made` : ''}${replay.book.halts.length ? `, ${replay.book.halts.length} halt(s)` : ''}. ` +
      `Total return ${pct(a.total_return)} → ${pct(b.total_return)}, max drawdown ${pct(a.max_drawdown)} → ${pct(b.max_drawdown)}, Sharpe ${a.sharpe?.toFixed(2) ?? 'n/a'} → ${b.sharpe?.toFixed(2) ?? 'n/a'}, round trips ${a.round_trips} → ${b.round_trips}; ` +
      `final value ${origLast === null ? 'n/a' : formatCents(toCents(origLast))} → ${formatCents(toCents(last.value))}. Nothing was written.`,
    1500,
  );
}
