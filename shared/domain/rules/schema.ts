// The shape of every rule's enforcement_params, one strict zod schema per category
// (CONTRACT §3). Unknown keys are refused so a typo never silently disables a limit.

import { z } from 'zod';
import type { RuleCategory } from '../types.js';

export const RULE_CATEGORIES = [
  'position_sizing',
  'risk',
  'timing',
  'screening',
  'stop_loss',
  'strategy',
  'entry_exit',
] as const satisfies readonly RuleCategory[];

/** Categories code enforces (orders refused or exits executed); the rest are advisory. */
export const ENFORCED_CATEGORIES = [
  'position_sizing',
  'risk',
  'timing',
  'screening',
  'stop_loss',
] as const satisfies readonly RuleCategory[];

/** Categories evaluated when an order is checked (stop_loss acts on the clock instead). */
export const ORDER_CATEGORIES = ['position_sizing', 'risk', 'timing', 'screening'] as const satisfies readonly RuleCategory[];

export const ADVISORY_CATEGORIES = ['strategy', 'entry_exit'] as const satisfies readonly RuleCategory[];

export const ruleCategorySchema = z
  .enum(RULE_CATEGORIES)
  .describe(
    'position_sizing, risk, timing, screening and stop_loss are enforced by code; strategy and entry_exit are advisory guidance.',
  );

// --- field builders: each message completes the sentence "enforcement_params.<field> …" ---

const FRACTION_HINT = '(a fraction: 0.2 means 20%)';

function num(kind: string) {
  return z.number({ error: (iss) => (iss.input === undefined ? 'is required' : `must be ${kind}`) });
}

/** 0 < x ≤ 1 */
const fraction = () =>
  num(`a number ${FRACTION_HINT}`)
    .gt(0, `must be greater than 0 ${FRACTION_HINT}`)
    .lte(1, `must be at most 1 ${FRACTION_HINT}`);

/** 0 ≤ x ≤ 1 */
const fractionOrZero = () =>
  num(`a number ${FRACTION_HINT}`)
    .gte(0, `must be at least 0 ${FRACTION_HINT}`)
    .lte(1, `must be at most 1 ${FRACTION_HINT}`);

/** 0 < x < 1 */
const openFraction = () =>
  num(`a number ${FRACTION_HINT}`)
    .gt(0, `must be greater than 0 ${FRACTION_HINT}`)
    .lt(1, `must be less than 1 ${FRACTION_HINT}`);

const positiveInt = (unit: string) =>
  num(`a whole number of ${unit}`)
    .int(`must be a whole number of ${unit}`)
    .gt(0, `must be a positive whole number of ${unit}`)
    .lte(1_000_000_000, `must be at most 1,000,000,000 ${unit}`);

const dollars = () =>
  num('an amount in dollars')
    .gt(0, 'must be an amount in dollars greater than 0')
    .lte(1_000_000_000_000, 'must be at most 1,000,000,000,000 dollars');

export const HHMM_RE = /^([01]\d|2[0-3]):[0-5]\d$/;

const hhmm = () =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a 24-hour time "HH:MM" (00:00 to 23:59, New York time)') })
    .regex(HHMM_RE, 'must be a 24-hour time "HH:MM" (00:00 to 23:59, New York time)');

/** Upper-case exchange tickers: AAPL, BRK.B, BF-B. */
export const TICKER_RE = /^[A-Z][A-Z0-9.\-]{0,14}$/;

export const tickerSchema = z
  .string({ error: 'must be a ticker string' })
  .regex(TICKER_RE, 'must be an upper-case ticker like AAPL or BRK.B')
  // the pattern is enforced with its sentence, not listed in tools/list (see unlisted in shared/mcp/schemas.ts)
  .meta({ pattern: undefined, description: 'Upper-case ticker such as AAPL' });

const tickerList = () =>
  z
    .array(tickerSchema, { error: (iss) => (iss.input === undefined ? 'is required' : 'must be a list of tickers') })
    .min(1, 'must list at least one ticker')
    .max(500, 'must list at most 500 tickers');

const window = () =>
  z
    .strictObject({ start: hhmm(), end: hhmm() }, { error: 'must be an object {start, end} with "HH:MM" times' })
    .superRefine((w, ctx) => {
      if (w.end <= w.start) {
        ctx.addIssue({ code: 'custom', path: ['end'], message: `(${w.end}) must be after start (${w.start})` });
      }
    });

// --- one schema per category ---

const positionSizingSchema = z.strictObject({
  max_position_pct: fraction().optional().describe('Position value after the order ≤ this fraction of portfolio value.'),
  max_order_value: dollars().optional().describe('Order notional (quantity × price) ≤ this many dollars.'),
  max_order_qty: positiveInt('shares').optional().describe('Order quantity ≤ this many shares.'),
  risk_per_trade_pct: fraction()
    .optional()
    .describe("quantity × |entry − the order's stop_loss| (else the tightest stop_loss rule) ≤ this fraction of portfolio value."),
  downsize: z
    .boolean({ error: 'must be true or false' })
    .optional()
    .describe("true: an opening order over this rule's limits is cut to the largest quantity they allow instead of refused."),
});

const riskSchema = z.strictObject({
  max_positions: positiveInt('positions').optional().describe('At most this many open positions.'),
  min_cash_reserve_pct: fractionOrZero().optional().describe('Cash after the order ≥ this fraction of portfolio value.'),
  max_trades_per_run: positiveInt('trades').optional(),
  max_trades_per_day: positiveInt('trades').optional(),
  daily_loss_limit_pct: fraction().optional().describe('Loss since the day start ≥ this fraction halts new risk.'),
  daily_loss_limit_abs: dollars().optional().describe('Loss since the day start ≥ this many dollars halts new risk.'),
  max_drawdown_pct: fraction().optional().describe('Drawdown from the run peak ≥ this fraction halts new risk.'),
  cooldown_after_losses: positiveInt('round trips').optional().describe('After this many losing round trips in a row, no new risk for cooldown_minutes.'),
  cooldown_minutes: positiveInt('minutes').optional().describe('Run-clock minutes of the cooldown after the last loss of the streak.'),
  halt_after_losses: positiveInt('round trips').optional().describe('This many losing round trips in a row halt the model (reason loss_streak).'),
}).superRefine((p, ctx) => {
  if ((p.cooldown_after_losses === undefined) !== (p.cooldown_minutes === undefined)) {
    const missing = p.cooldown_after_losses === undefined ? 'cooldown_after_losses' : 'cooldown_minutes';
    ctx.addIssue({ code: 'custom', path: [missing], message: 'is required with ' + (missing === 'cooldown_minutes' ? 'cooldown_after_losses' : 'cooldown_minutes') + ' (both or neither)' });
  }
});

const timingSchema = z.strictObject({
  blackout_windows: z
    .array(window(), { error: 'must be a list of {start, end} windows' })
    .min(1, 'must list at least one window')
    .max(48, 'must list at most 48 windows')
    .optional()
    .describe('New York times [start, end) in which no new risk is taken.'),
  trading_hours: window().optional().describe('New York times [start, end) outside which no new risk is taken.'),
  no_new_positions_after: hhmm().optional(),
  flatten_by: hhmm().optional().describe('From this New York time on, every position is closed by the clock.'),
});

const screeningSchema = z
  .strictObject({
    allowed_symbols: tickerList().optional(),
    denied_symbols: tickerList().optional(),
  })
  .superRefine((p, ctx) => {
    const both = (p.allowed_symbols ?? []).filter((s) => (p.denied_symbols ?? []).includes(s));
    if (both.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['denied_symbols'],
        message: `lists ${both.join(', ')}, which allowed_symbols also lists`,
      });
    }
  });

const stopLossSchema = z.strictObject({
  stop_loss_pct: openFraction().optional().describe('Exit when price moves this fraction against the average cost.'),
  take_profit_pct: num(`a number ${FRACTION_HINT}`)
    .gt(0, `must be greater than 0 ${FRACTION_HINT}`)
    .lte(10, `must be at most 10 ${FRACTION_HINT}`)
    .optional()
    .describe('Exit when price moves this fraction in favour of the average cost.'),
  trailing_stop_pct: openFraction().optional().describe('Exit when price falls this fraction from its best since entry.'),
});

const guidanceSchema = z.strictObject({
  guidance: z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be text') })
    .trim()
    .min(1, 'must not be empty')
    .max(10_000, 'must be at most 10,000 characters'),
});

export const enforcementParamsSchemas = {
  position_sizing: positionSizingSchema,
  risk: riskSchema,
  timing: timingSchema,
  screening: screeningSchema,
  stop_loss: stopLossSchema,
  strategy: guidanceSchema,
  entry_exit: guidanceSchema,
} as const satisfies Record<RuleCategory, z.ZodType>;

export type PositionSizingParams = z.infer<typeof positionSizingSchema>;
export type RiskParams = z.infer<typeof riskSchema>;
export type TimingParams = z.infer<typeof timingSchema>;
export type ScreeningParams = z.infer<typeof screeningSchema>;
export type StopLossParams = z.infer<typeof stopLossSchema>;
export type GuidanceParams = z.infer<typeof guidanceSchema>;
export type ParamsFor<C extends RuleCategory> = z.infer<(typeof enforcementParamsSchemas)[C]>;
export type EnforcementParams = ParamsFor<RuleCategory>;

export type ParseParamsResult<C extends RuleCategory> =
  | { ok: true; params: ParamsFor<C> }
  | { ok: false; error: string };

/** Validate enforcement_params for a category; on failure, one sentence naming the field. */
export function parseEnforcementParams<C extends RuleCategory>(category: C, params: unknown): ParseParamsResult<C> {
  const schema = enforcementParamsSchemas[category] as z.ZodType | undefined;
  if (!schema) {
    return { ok: false, error: `rule_category '${String(category)}' is not one of ${RULE_CATEGORIES.join(', ')}.` };
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    return { ok: false, error: `enforcement_params must be an object of parameters for category ${category}.` };
  }
  const allowed = allowedFields(category);
  const given = Object.entries(params).filter(([, v]) => v !== undefined);
  if (given.length === 0) {
    return {
      ok: false,
      error: `enforcement_params for category ${category} needs at least one of: ${allowed.join(', ')}.`,
    };
  }
  const parsed = schema.safeParse(params);
  if (parsed.success) return { ok: true, params: parsed.data as ParamsFor<C> };
  // Unknown keys first: a misspelt field is the likeliest mistake and explains the rest.
  const issues = [...parsed.error.issues].sort(
    (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
  );
  return { ok: false, error: describeIssue(issues[0]!, category, params, allowed) };
}

const parsedParams = new WeakMap<object, Partial<Record<RuleCategory, ParseParamsResult<RuleCategory>>>>();

/**
 * parseEnforcementParams remembered per params object and category: a loaded rule's
 * enforcement_params are read, never changed, and the engine asks for them per order and per
 * bar (a counterfactual asks thousands of times for the same rule). The result is shared: read it only.
 */
export function ruleParams<C extends RuleCategory>(category: C, params: unknown): ParseParamsResult<C> {
  if (typeof params !== 'object' || params === null) return parseEnforcementParams(category, params);
  let byCategory = parsedParams.get(params);
  if (!byCategory) parsedParams.set(params, (byCategory = {}));
  return (byCategory[category] ??= parseEnforcementParams(category, params)) as ParseParamsResult<C>;
}

/** The enforcement_params field names a category accepts. */
export function allowedFields(category: RuleCategory): string[] {
  return Object.keys(enforcementParamsSchemas[category].shape);
}

function describeIssue(issue: z.core.$ZodIssue, category: RuleCategory, params: object, allowed: string[]): string {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const where = 'enforcement_params' + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    const plural = issue.keys.length > 1 ? 'unknown fields' : 'an unknown field';
    const scope = path.length === 0 ? ` for category ${category} (allowed: ${allowed.join(', ')})` : ' (allowed: start, end)';
    return `${where} has ${plural} ${keys}${scope}.`;
  }
  const value = valueAt(params, path);
  const got = issue.code === 'custom' || value === undefined ? '' : `, got ${JSON.stringify(value)}`;
  return `${where} ${issue.message}${got}.`;
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

// --- the rule's own fields, for the rules server's tools ---

const symbolList = (what: string) =>
  z.array(tickerSchema).max(500, 'must list at most 500 tickers').meta({ maxItems: undefined, description: what }); // the cap is enforced, not listed

export const ruleFieldsSchema = z.object({
  rule_name: z.string().trim().min(1).max(100).describe('Unique per model; quoted in every violation and exit.'),
  rule_description: z.string().max(2000).default('').describe('Why the rule exists, for people.'),
  rule_category: ruleCategorySchema,
  enforcement_params: z
    .record(z.string(), z.unknown())
    .describe(
      'Parameters for the category. Fractions are 0–1 (0.2 = 20%), times are "HH:MM" New York. ' +
        'position_sizing: max_position_pct, max_order_value, max_order_qty, risk_per_trade_pct, downsize. ' +
        'risk: max_positions, min_cash_reserve_pct, max_trades_per_run, max_trades_per_day, daily_loss_limit_pct, daily_loss_limit_abs, max_drawdown_pct, cooldown_after_losses, cooldown_minutes, halt_after_losses. ' +
        'timing: blackout_windows [{start,end}], trading_hours {start,end}, no_new_positions_after, flatten_by. ' +
        'screening: allowed_symbols, denied_symbols. stop_loss: stop_loss_pct, take_profit_pct, trailing_stop_pct. ' +
        'strategy, entry_exit: guidance (text).',
    ),
  applies_to_symbols: symbolList('When set, the rule applies only to these symbols.').optional(),
  exclude_symbols: symbolList('Symbols the rule never applies to.').optional(),
  priority: z.number().int().min(1).max(10).default(5).describe('1–10; violations are reported highest first.'),
  is_active: z.boolean().default(true).describe('Inactive rules are kept but never enforced.'),
  created_by: z.enum(['user', 'ai_suggested', 'template']).default('user').describe('Who made it: user, ai_suggested or template'),
});

/** The same fields with no defaults, every one optional: for update_rule. */
export const ruleUpdateFieldsSchema = z.object({
  rule_name: z.string().trim().min(1).max(100).optional().describe('New unique name for the rule'),
  rule_description: z.string().max(2000).optional().describe('New explanation for people'),
  rule_category: ruleCategorySchema.optional(),
  enforcement_params: ruleFieldsSchema.shape.enforcement_params.optional(),
  applies_to_symbols: symbolList('When set, the rule applies only to these symbols; null clears it.').nullable().optional().describe('When set, the rule applies only to these symbols; null clears it.'),
  exclude_symbols: symbolList('Symbols the rule never applies to; null clears it.').nullable().optional().describe('Symbols the rule never applies to; null clears it.'),
  priority: z.number().int().min(1).max(10).optional().describe('1–10; violations are reported highest first'),
  is_active: z.boolean().optional().describe('false keeps the rule but stops enforcing it'),
  created_by: z.enum(['user', 'ai_suggested', 'template']).optional().describe('Who made it: user, ai_suggested or template'),
});

export type RuleFields = z.infer<typeof ruleFieldsSchema>;
export type RuleFieldsInput = z.input<typeof ruleFieldsSchema>;
export type RuleUpdateFields = z.infer<typeof ruleUpdateFieldsSchema>;
