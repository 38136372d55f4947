// The one list convention every tool follows, so an agent learns it once:
// - order: ascending by the list's key (id, run_number, bar start time; symbols
//   alphabetically), so a new row never shifts a page already read;
// - `limit` (how many at most) and `cursor` (opaque, from the previous page's
//   `next_cursor`) in; `truncated` and `next_cursor` out;
// - a page also stops early when its rows would pass RESULT_BUDGET_BYTES of JSON, so a
//   whole tool result stays under RESULT_CAP_BYTES whatever the rows hold.
import { z } from 'zod';
import { ToolError } from './errors.js';
import { unlisted } from './schemas.js';

/** The documented cap on one tool result (content text plus structuredContent), in bytes of JSON. */
export const RESULT_CAP_BYTES = 16 * 1024;
/** The share of the cap a page of rows may use; the rest is left for the summary and other fields. */
export const RESULT_BUDGET_BYTES = 10 * 1024;

const CURSOR_PREFIX = 'c1.';

/** `limit` and `cursor` arguments of a paged list tool. */
export function pageInput(fallback: number, max: number) {
  return {
    limit: z
      .number({ error: 'limit must be a whole number.' })
      .int({ error: 'limit must be a whole number.' })
      .min(1, { error: 'limit must be at least 1.' })
      .max(max, { error: `limit must be at most ${max}.` })
      .default(fallback)
      .describe(`Rows per page; a page stops before ~${RESULT_BUDGET_BYTES / 1024} KB`),
    cursor: z
      .string({ error: 'cursor must be a string.' })
      .max(200, { error: 'cursor must be the next_cursor of a previous page.' })
      .meta(unlisted('maxLength'))
      .optional()
      .describe('next_cursor of the previous page'),
  };
}

/** `truncated` and `next_cursor` fields of a paged list result. */
export const pageOutput = {
  truncated: z.boolean().describe('More rows follow: call again with cursor = next_cursor'),
  next_cursor: z.string().nullable().describe('Pass as cursor to get the next page; null on the last page'),
};

export type PageKey = string | number;

/** An opaque cursor continuing after `key` (base64url JSON, so a client never parses it). */
export function encodeCursor(key: PageKey): string {
  return CURSOR_PREFIX + Buffer.from(JSON.stringify({ a: key })).toString('base64url');
}

/**
 * The key a cursor continues after, or undefined without a cursor.
 * @throws ToolError BAD_CURSOR when the cursor is not one this server gave (or of another key type).
 */
export function decodeCursor(cursor: string | undefined, kind: 'number'): number | undefined;
export function decodeCursor(cursor: string | undefined, kind: 'string'): string | undefined;
export function decodeCursor(cursor: string | undefined, kind: 'number' | 'string'): PageKey | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const bad = new ToolError('BAD_CURSOR', 'cursor is not a next_cursor this tool returned; omit it to start from the first page.');
  if (!cursor.startsWith(CURSOR_PREFIX)) throw bad;
  let key: unknown;
  try {
    key = (JSON.parse(Buffer.from(cursor.slice(CURSOR_PREFIX.length), 'base64url').toString('utf8')) as { a?: unknown }).a;
  } catch {
    throw bad;
  }
  if (typeof key !== kind || (kind === 'number' && !Number.isSafeInteger(key))) throw bad;
  return key as PageKey;
}

export interface Page<T> {
  items: T[];
  truncated: boolean;
  next_cursor: string | null;
}

/**
 * Cuts `rows` (ascending, fetched as limit + 1 after the cursor so one extra row says more
 * follow) to at most `limit` rows and at most `budget` bytes of JSON.
 * With `keep: 'last'` (a "latest N" read) the newest rows are kept and no cursor is given.
 */
export function toPage<T>(
  rows: T[],
  opts: { limit: number; key: (row: T) => PageKey; budget?: number; keep?: 'first' | 'last' },
): Page<T> {
  const budget = opts.budget ?? RESULT_BUDGET_BYTES;
  const last = opts.keep === 'last';
  const ordered = last ? [...rows].reverse() : rows;
  const items: T[] = [];
  let bytes = 2;
  for (const row of ordered) {
    if (items.length >= opts.limit) break;
    const size = Buffer.byteLength(JSON.stringify(row)) + 1;
    // always at least one row, so a page can never be empty while rows remain
    if (items.length > 0 && bytes + size > budget) break;
    items.push(row);
    bytes += size;
  }
  const truncated = items.length < rows.length;
  if (last) items.reverse();
  const next_cursor = truncated && !last ? encodeCursor(opts.key(items.at(-1)!)) : null;
  return { items, truncated, next_cursor };
}

/**
 * Bytes of a tool result's JSON as the cap counts them: the text blocks and structuredContent.
 * Image blocks (equity_chart's PNG) are left out: a picture is asked for by name, and
 * clients hand it to the model as an image, not as text tokens.
 */
export function resultBytes(result: { content?: unknown; structuredContent?: unknown }): number {
  const content = Array.isArray(result.content) ? result.content.filter((c: { type?: string }) => c?.type !== 'image') : result.content;
  return Buffer.byteLength(JSON.stringify({ content, structuredContent: result.structuredContent }));
}

/** A summary line cut to `max` characters, so summaries stay bounded too. */
export function clip(text: string, max = 2000): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
