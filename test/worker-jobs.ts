// Jobs for shared/workers/pool.test.ts: a computation that holds its thread, reads through the data port,
// progress, and errors of both kinds.
import { ToolError } from '../shared/mcp/errors.js';
import type { JobContext } from '../shared/workers/pool.js';

/** Keeps its thread busy for `ms` (a synchronous loop, as a heavy computation does); returns the thread's id. */
export async function spin(input: { ms: number }): Promise<{ threadId: number; ms: number }> {
  const { threadId } = await import('node:worker_threads');
  const t0 = performance.now();
  let x = 0;
  while (performance.now() - t0 < input.ms) x += Math.sqrt(x + 1);
  return { threadId, ms: performance.now() - t0 + (x < 0 ? 1 : 0) };
}

/** Reads rows and a market answer through the data port, with progress between. */
export async function read(input: { n: number }, ctx: JobContext): Promise<{ rows: Record<string, unknown>[]; known: boolean }> {
  ctx.progress(0, 2, 'reading');
  const rows = await ctx.sql`select g as id, g * 1.5 as half, 'r' || g as label, now() as at, null::int as nothing from generate_series(1, ${input.n}) g`;
  ctx.progress(1, 2);
  const known = await ctx.market.isKnown('AAPL');
  ctx.progress(2, 2);
  return { rows: [...rows], known };
}

export function fail(input: { tool: boolean }): never {
  if (input.tool) throw new ToolError('RUN_NOT_ANALYSABLE', 'Run 7 cannot be analysed: an oversell of JPM on 2024-06-05.');
  throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
}

/** Grows its heap past any worker limit. */
export function hog(): number {
  const keep: number[][] = [];
  for (;;) keep.push(new Array(1_000_000).fill(keep.length));
}

/** The same read twice, then a different one: the job's own copy answers the second. */
export async function readTwice(_input: unknown, ctx: JobContext): Promise<number[]> {
  const a = await ctx.sql`select count(*)::int as n from users`;
  const b = await ctx.sql`select count(*)::int as n from users`;
  b.pop(); // a caller may change its list: the next answer is whole again
  const c = await ctx.sql`select count(*)::int as n from users`;
  return [a.length, b.length, c.length];
}
