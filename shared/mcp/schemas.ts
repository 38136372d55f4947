// Argument schemas shared by many tools, each with a message a person can act on.
import { z } from 'zod';

/** What an id argument names and where it comes from, for its description. */
const ID_WORDS: Record<string, string> = {
  model_id: 'The model id',
  run_id: 'The run id',
  order_id: 'The order id',
  rule_id: 'The rule id',
};

/**
 * Metadata that leaves JSON Schema keywords out of tools/list (an undefined key is not sent).
 * tools/list shows the bounds an agent chooses within (page sizes, steps, fractions, settings);
 * guards it never meets in use (an id's range, a price's $0.0001–$1,000,000, a ticker's shape,
 * the length of free text or of an opaque cursor, 500 symbols in a list, a tool's refusal of unknown arguments) would
 * cost every agent tokens on every list. The server still enforces them, with the same refusal
 * sentence.
 */
export const unlisted = (...keywords: ('minimum' | 'maximum' | 'minLength' | 'maxLength' | 'pattern' | 'maxItems' | 'additionalProperties')[]) =>
  Object.fromEntries(keywords.map((k) => [k, undefined]));

/** A positive whole id (never exclusiveMinimum, which Gemini refuses; its range is not listed). */
export const idSchema = (what: string) =>
  z
    .number({ error: `${what} must be a whole number.` })
    .int({ error: `${what} must be a whole number.` })
    .min(1, { error: `${what} must be positive.` })
    .max(2_147_483_647, { error: `${what} is out of range.` })
    .meta({ ...unlisted('minimum', 'maximum'), description: ID_WORDS[what] ?? `${what}, a positive whole number` });

/**
 * A ticker: 1–10 characters, a letter first, then letters, digits, '.' or '-', in any case
 * (upper-cased here). Its shape is not listed in tools/list (see unlisted): a client that
 * validates accepts any string, and the server refuses a non-ticker in one sentence.
 */
export const symbolSchema = z
  .string({ error: 'symbol must be a string.' })
  .trim()
  .min(1, { error: 'symbol must not be empty.' })
  .max(10, { error: 'symbol must be at most 10 characters (a ticker such as AAPL).' })
  .regex(/^[A-Za-z][A-Za-z0-9.-]{0,9}$/, { error: 'symbol must be a ticker such as AAPL or BRK.B (letters, digits, . or -).' })
  .toUpperCase()
  .meta({ ...unlisted('minLength', 'maxLength', 'pattern'), description: 'The stock ticker' });

/**
 * Parameters that mean exactly what the same-named parameters of `tool` mean, described
 * "As in <tool>" so a list that shows both says it once (use only beside a tool always
 * listed with it: same server and toolset).
 */
export function asIn<T extends Record<string, z.ZodType>>(tool: string, shape: T): T {
  return Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, s.describe(`As in ${tool}`)])) as T;
}

/** Free text of at most `max` characters (enforced, not listed: see unlisted). */
export const freeTextSchema = (max: number) => z.string().max(max).meta(unlisted('maxLength'));

export const symbolListSchema = z.array(symbolSchema).max(500, { error: 'At most 500 symbols.' }).meta(unlisted('maxItems'));

/** The instants and dates any argument may name (CONTRACT §0): 1970-01-01 … 2100-12-31, UTC. */
export const EARLIEST_MS = Date.UTC(1970, 0, 1);
export const LATEST_MS = Date.UTC(2101, 0, 1) - 1;

/** An instant (ISO-8601) or a date (YYYY-MM-DD), between 1970-01-01 and 2100-12-31. */
export const timeSchema = z
  .string()
  .max(40)
  .meta(unlisted('maxLength'))
  .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'must be an ISO-8601 time or a YYYY-MM-DD date.', abort: true })
  .refine(
    (s) => {
      const t = Date.parse(s);
      return t >= EARLIEST_MS && t <= LATEST_MS;
    },
    { error: 'must lie between 1970-01-01 and 2100-12-31.' },
  )
  .describe('ISO-8601 time or YYYY-MM-DD, 1970-01-01 to 2100-12-31');

/** Argument names whose text is free-form: newline, carriage return and tab are allowed there. */
export const FREE_TEXT_FIELDS = new Set(['content', 'reasoning', 'reason', 'instructions', 'note', 'description', 'context']);

// C0 controls and DEL; the free-text whitespace (\t \n \r) is handled separately.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const LINE_OR_TAB = /[\t\n\r]/;
/** A UTF-16 surrogate without its partner: not a character, and not storable as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Arguments nested deeper than this are refused (no tool takes more than a few levels). */
export const MAX_ARGUMENT_DEPTH = 64;
/** A non-zero number smaller than this in size is refused (denormals and the like carry no meaning here). */
export const SMALLEST_NUMBER = 1e-9;

/**
 * For a tool's whole input object (superRefine): every string, at every depth and in object
 * keys too, refuses NUL and other control characters (newline and tab only inside
 * FREE_TEXT_FIELDS) and lone surrogates; a non-zero number under SMALLEST_NUMBER in size is
 * refused; nesting deeper than MAX_ARGUMENT_DEPTH is refused. One issue per offending field,
 * naming it. The walk is iterative: any depth is checked without deep recursion.
 */
export function refuseControlCharacters(value: unknown, ctx: z.RefinementCtx): void {
  const stack: { v: unknown; path: (string | number)[]; freeText: boolean }[] = [{ v: value, path: [], freeText: false }];
  while (stack.length) {
    const { v, path, freeText } = stack.pop()!;
    if (typeof v === 'string') {
      if (CONTROL.test(v) || (!freeText && LINE_OR_TAB.test(v))) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: freeText
            ? 'must not contain control characters such as NUL (newline and tab are allowed).'
            : 'must not contain control characters such as NUL, newline or tab.',
        });
      } else if (LONE_SURROGATE.test(v)) {
        ctx.addIssue({ code: 'custom', path, message: 'must be valid Unicode text: it holds a lone surrogate (half of a UTF-16 pair).' });
      }
    } else if (typeof v === 'number') {
      if (v !== 0 && Math.abs(v) < SMALLEST_NUMBER) ctx.addIssue({ code: 'custom', path, message: `must be 0 or at least ${SMALLEST_NUMBER} in size.` });
    } else if (v && typeof v === 'object') {
      if (path.length >= MAX_ARGUMENT_DEPTH) {
        ctx.addIssue({ code: 'custom', path: path.slice(0, 1), message: `is nested deeper than ${MAX_ARGUMENT_DEPTH} levels.` });
        continue;
      }
      if (Array.isArray(v)) {
        v.forEach((x, i) => stack.push({ v: x, path: [...path, i], freeText }));
        continue;
      }
      for (const [k, x] of Object.entries(v)) {
        const badKey = CONTROL.test(k) || LINE_OR_TAB.test(k) ? 'a key must not contain control characters such as NUL.' : LONE_SURROGATE.test(k) ? 'a key must be valid Unicode text, without lone surrogates.' : null;
        if (badKey) {
          ctx.addIssue({ code: 'custom', path: [...path, k], message: badKey });
          continue;
        }
        stack.push({ v: x, path: [...path, k], freeText: freeText || (path.length === 0 && FREE_TEXT_FIELDS.has(k)) });
      }
    }
  }
}

/**
 * A share price in dollars at the US equity tick (SEC Rule 612, the sub-penny rule): whole
 * cents at $1.00 and above, $0.0001 steps below; at least $0.0001, at most $1,000,000.
 */
export const priceSchema = (what: string) =>
  z
    .number({ error: `${what} must be a number.` })
    .min(0.0001, { error: `${what} must be at least $0.0001.` })
    .max(1_000_000, { error: `${what} must be at most 1,000,000.` })
    .refine((x) => onTick(x, x >= 1 ? 100 : 10_000), {
      error: `${what} must be in whole cents ($0.0001 steps below $1), the US equity tick (SEC Rule 612).`,
    })
    .meta(unlisted('minimum', 'maximum'));

function onTick(x: number, perDollar: number): boolean {
  const steps = x * perDollar;
  return Math.abs(steps - Math.round(steps)) < 1e-6;
}

export const limitSchema = (fallback: number, max: number) =>
  z.number().int().min(1).max(max).default(fallback).describe('How many to return');

export const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** One refusal of an order, as the order tools and advance_run return it (a gate's or a rule's). */
export const rejectionOutput = z.object({
  source: z.string(),
  code: z.string(),
  rule_name: z.string().optional(),
  rule_id: z.string().optional(),
  message: z.string(),
});
