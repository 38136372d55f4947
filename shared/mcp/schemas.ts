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

/** An instant (ISO-8601) or a date (YYYY-MM-DD). */
export const timeSchema = z
  .string()
  .max(40)
  .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'must be an ISO-8601 time or a YYYY-MM-DD date.' })
  .describe('ISO-8601 time or YYYY-MM-DD');

export const limitSchema = (fallback: number, max: number) =>
  z.number().int().min(1).max(max).default(fallback).describe(`How many to return (default ${fallback}, at most ${max})`);

export const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
