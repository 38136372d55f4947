// Argument schemas shared by many tools, each with a message a person can act on.
import { z } from 'zod';

export const idSchema = (what: string) =>
  z
    .number({ error: `${what} must be a whole number.` })
    .int({ error: `${what} must be a whole number.` })
    .positive({ error: `${what} must be positive.` })
    .max(2_147_483_647, { error: `${what} is out of range.` })
    .describe(what);

/**
 * A ticker: 1–10 characters, a letter first, then letters, digits, '.' or '-', in any case
 * (upper-cased here). The pattern is checked before the upper-casing, so the JSON Schema a
 * client validates against accepts exactly what the server accepts (lowercase included).
 */
export const symbolSchema = z
  .string({ error: 'symbol must be a string.' })
  .trim()
  .min(1, { error: 'symbol must not be empty.' })
  .max(10, { error: 'symbol must be at most 10 characters (a ticker such as AAPL).' })
  .regex(/^[A-Za-z][A-Za-z0-9.-]{0,9}$/, { error: 'symbol must be a ticker such as AAPL or BRK.B (letters, digits, . or -).' })
  .toUpperCase()
  .describe('Ticker, e.g. AAPL');

export const symbolListSchema = z.array(symbolSchema).max(500, { error: 'At most 500 symbols.' });

/** The instants and dates any argument may name (CONTRACT §0): 1970-01-01 … 2100-12-31, UTC. */
export const EARLIEST_MS = Date.UTC(1970, 0, 1);
export const LATEST_MS = Date.UTC(2101, 0, 1) - 1;

/** An instant (ISO-8601) or a date (YYYY-MM-DD), between 1970-01-01 and 2100-12-31. */
export const timeSchema = z
  .string()
  .max(40)
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

/**
 * For a tool's whole input object (superRefine): every string, at any depth and in object
 * keys too, refuses NUL and other control characters; newline and tab only inside
 * FREE_TEXT_FIELDS. One issue per offending field, naming it.
 */
export function refuseControlCharacters(value: unknown, ctx: z.RefinementCtx): void {
  const visit = (v: unknown, path: (string | number)[], freeText: boolean, depth: number): void => {
    if (depth > 32) return;
    if (typeof v === 'string') {
      if (CONTROL.test(v) || (!freeText && LINE_OR_TAB.test(v))) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: freeText
            ? 'must not contain control characters such as NUL (newline and tab are allowed).'
            : 'must not contain control characters such as NUL, newline or tab.',
        });
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, [...path, i], freeText, depth + 1));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (CONTROL.test(k) || LINE_OR_TAB.test(k)) {
          ctx.addIssue({ code: 'custom', path: [...path, k], message: 'a key must not contain control characters such as NUL.' });
          continue;
        }
        visit(x, [...path, k], freeText || (depth === 0 && FREE_TEXT_FIELDS.has(k)), depth + 1);
      }
    }
  };
  visit(value, [], false, 0);
}

export const limitSchema = (fallback: number, max: number) =>
  z.number().int().min(1).max(max).default(fallback).describe(`How many to return (default ${fallback}, at most ${max})`);

export const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** One refusal of an order, as the order tools and advance_run return it (a gate's or a rule's). */
export const rejectionOutput = z.object({
  source: z.string(),
  code: z.string(),
  rule_name: z.string().optional(),
  rule_id: z.string().optional(),
  message: z.string(),
});
