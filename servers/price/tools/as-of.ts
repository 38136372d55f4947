// "now" for a price tool: the run's clock (replay: its simulated clock; live: the wall
// clock), else `at`, never later than the wall clock. Nothing after it is returned.
import { z } from 'zod';
import type { AuthContext } from '../../../shared/auth/keys.js';
import { dayBarStart } from '../../../shared/domain/calendar.js';
import type { Deps } from '../../../shared/deps.js';
import { DATE_ONLY, idSchema, timeSchema } from '../../../shared/mcp/schemas.js';
import { getOwnedRun } from '../../../shared/store/runs.js';

export const asOfInput = {
  run_id: idSchema('run_id').optional().describe("A run: 'now' is its clock"),
  at: timeSchema.optional().describe("'now' as an ISO instant (a YYYY-MM-DD date means its 09:30 ET open); never later than the run clock or the wall clock"),
};

export const asOfOutput = {
  as_of: z.string().describe('The instant the answer is as of'),
  run_id: z.number().nullable(),
};

export interface AsOf {
  now: Date;
  runId: number | null;
}

/**
 * "now" for a tool: the run clock, else `at`, else the wall clock, never later than the wall
 * clock. `calendar: true` (calendar questions, not market data) lets `at` lie in the future.
 */
export async function resolveAsOf(
  deps: Deps,
  auth: AuthContext,
  args: { run_id?: number; at?: string },
  opts: { calendar?: boolean } = {},
): Promise<AsOf> {
  let now = args.at !== undefined && opts.calendar ? Infinity : Date.now();
  if (args.run_id !== undefined) {
    const run = await getOwnedRun(deps.sql, auth.userId, args.run_id);
    now = Math.min(now, Date.parse(run.clock), Date.now());
  }
  if (args.at !== undefined) {
    const at = DATE_ONLY.test(args.at) ? dayBarStart(args.at).getTime() : Date.parse(args.at);
    now = Math.min(now, at);
  }
  return { now: new Date(now), runId: args.run_id ?? null };
}

export const barOutput = z.object({
  t: z.string().describe('Bar start (UTC)'),
  o: z.number(),
  h: z.number(),
  l: z.number(),
  c: z.number(),
  v: z.number().nullable(),
});

export const timespanSchema = z.enum(['minute', 'hour', 'day']).describe('Bar length: minute, hour or day');
