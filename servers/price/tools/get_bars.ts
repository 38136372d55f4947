import { z } from 'zod';
import { decodeCursor, encodeCursor, pageInput, pageOutput, toPage } from '../../../shared/mcp/paging.js';
import { DATE_ONLY, symbolSchema, timeSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { asOfInput, asOfOutput, barOutput, resolveAsOf, timespanSchema } from './as-of.js';
import { nyToUtc } from '../../../shared/domain/ny-time.js';
import { endInstant } from '../../../shared/domain/calendar.js';

export const getBarsTool = defineTool({
  name: 'get_bars',
  title: 'Get bars',
  description:
    "Closed bars ascending, as of 'now' (run clock, `at`, or wall clock); `to` after now is clamped. With `from` (or `cursor`): the earliest `limit` bars from it, paged by next_cursor; else the latest `limit` (truncated: earlier bars exist). Prices unadjusted, except bars before a split 'now' has reached, on the new share basis (÷ ratio); dividends never adjust.",
  scope: 'read',
  input: {
    symbol: symbolSchema,
    timespan: timespanSchema,
    from: timeSchema.optional().describe('Bars starting at or after (a date: its New York midnight)'),
    to: timeSchema.optional().describe('Bars closed at or before (a date: through its end); clamped to now'),
    ...pageInput(100, 1000),
    ...asOfInput,
  },
  output: {
    symbol: z.string(),
    timespan: z.string(),
    bars: z.array(barOutput),
    source: z.enum(['polygon', 'imported', 'simulated']),
    ...pageOutput,
    ...asOfOutput,
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, { deps, auth }) {
    const { now, runId } = await resolveAsOf(deps, auth, args);
    // a cursor continues just after the start of the last bar it was given
    const after = decodeCursor(args.cursor, 'string');
    const from = after
      ? new Date(Date.parse(after) + 1)
      : args.from
        ? DATE_ONLY.test(args.from)
          ? nyToUtc(args.from, '00:00')
          : new Date(args.from)
        : undefined;
    const to = args.to ? (DATE_ONLY.test(args.to) ? endInstant(args.to) : new Date(args.to)) : undefined;
    const forward = from !== undefined;
    const r = await deps.market.barsAsOf(args.symbol, args.timespan, { from, to, limit: forward ? args.limit + 1 : args.limit, asOf: now });
    const rows = r.bars.map((b) => ({ t: b.t, o: b.o, h: b.h!, l: b.l!, c: b.c!, v: b.v }));
    const page = toPage(rows, { limit: args.limit, key: (b) => b.t, keep: forward ? 'first' : 'last' });
    const bars = page.items;
    const truncated = page.truncated || r.truncated;
    const next_cursor = forward && truncated && bars.length ? encodeCursor(bars.at(-1)!.t) : null;
    const span = bars.length ? ` from ${bars[0]!.t} to ${bars.at(-1)!.t}` : '';
    return {
      data: { symbol: args.symbol, timespan: args.timespan, bars, source: r.source, truncated, next_cursor, as_of: now.toISOString(), run_id: runId },
      summary: `${bars.length} closed ${args.timespan} bar(s) of ${args.symbol}${span}, as of ${now.toISOString()}; source ${r.source}.${truncated ? (forward ? ' More follow: pass next_cursor.' : ' Earlier bars exist: pass from to read forward.') : ''}`,
    };
  },
});
