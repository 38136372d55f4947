import { z } from 'zod';
import { CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR, isHalfDay, marketStatus } from '../../../shared/domain/calendar.js';
import { ToolError } from '../../../shared/mcp/errors.js';
import { nyLocal } from '../../../shared/domain/ny-time.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { asOfInput, asOfOutput, resolveAsOf } from './as-of.js';

export const getMarketStatusTool = defineTool({
  name: 'get_market_status',
  title: 'Get market status',
  description:
    `US equity session at 'now' (a run's clock, \`at\`, or the wall clock) on the NYSE calendar: pre/regular/after/closed, holiday, half day, next open and next close. The calendar is not market data: \`at\` may be a future date (calendar years ${CALENDAR_FIRST_YEAR}–${CALENDAR_LAST_YEAR}).`,
  scope: 'read',
  input: { ...asOfInput },
  output: {
    session: z.enum(['pre', 'regular', 'after', 'closed']),
    is_holiday: z.boolean(),
    is_half_day: z.boolean(),
    next_open: z.string(),
    next_close: z.string(),
    new_york_time: z.string().describe('YYYY-MM-DD HH:MM in America/New_York'),
    ...asOfOutput,
  },
  annotations: READ_ONLY,
  async handler(args, { deps, auth }) {
    const { now, runId } = await resolveAsOf(deps, auth, args, { calendar: true });
    const ny = nyLocal(now);
    const year = Number(ny.date.slice(0, 4));
    if (year < CALENDAR_FIRST_YEAR || year > CALENDAR_LAST_YEAR) {
      throw new ToolError('OUT_OF_CALENDAR', `The NYSE calendar here covers ${CALENDAR_FIRST_YEAR}–${CALENDAR_LAST_YEAR}; ${ny.date} is outside it.`);
    }
    const s = marketStatus(now);
    const data = { ...s, is_half_day: isHalfDay(ny.date), new_york_time: `${ny.date} ${ny.hhmm}`, as_of: now.toISOString(), run_id: runId };
    return {
      data,
      summary: `At ${data.new_york_time} New York the market is ${s.session === 'regular' ? 'open (regular session)' : s.session === 'closed' ? 'closed' : `in its ${s.session}-market session`}${s.is_holiday ? ' (holiday)' : ''}${data.is_half_day ? ' (half day)' : ''}; next open ${s.next_open}, next close ${s.next_close}.`,
    };
  },
});
