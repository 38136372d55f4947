import { z } from 'zod';
import { barEnd, endInstant, firstStep, lastStep, startInstant } from '../../../shared/domain/calendar.js';
import { ToolError } from '../../../shared/mcp/errors.js';
import { freeTextSchema, idSchema, symbolListSchema, timeSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { recordEquity, startRun, type NewRun } from '../../../shared/store/runs.js';
import { toCents } from '../../../shared/domain/money.js';
import { runOutput, runSummary, snapshotOutput } from './run-fields.js';

const MAX_REPLAY_DAYS = 366 * 10;

export const startRunTool = defineTool({
  name: 'start_run',
  title: 'Start run',
  description:
    'Start a run of a model with a fresh portfolio at its initial_cash; one running run per model; freezes the strategy_snapshot. A symbol no source serves is refused.',
  scope: 'trade',
  input: {
    model_id: idSchema('model_id'),
    kind: z.enum(['replay', 'live']).describe('replay steps a simulated clock through [start, end] of stored bars; live uses the wall clock'),
    timespan: z.enum(['day', 'minute']).optional().describe('Replay step (required for replay)'),
    start: timeSchema.optional().describe('Replay start: a date means its first step'),
    end: timeSchema.optional().describe('Replay end: a date means its last step (inclusive)'),
    symbols: symbolListSchema.optional().describe('Symbols whose bars advance_run returns'),
    session: z.enum(['regular', 'extended']).optional().describe('Minute replays: regular (default) or extended hours'),
    label: freeTextSchema(200).optional().describe('A name for people'),
  },
  output: { ...runOutput, strategy_snapshot: snapshotOutput },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(args, { deps, auth }) {
    const input: NewRun = { kind: args.kind, symbols: args.symbols, label: args.label, session: args.session };
    if (args.kind === 'replay') Object.assign(input, replayRange(args.timespan, args.start, args.end, args.session ?? 'regular'));
    else if (args.timespan || args.start || args.end) {
      throw new ToolError('BAD_RUN', 'A live run uses the wall clock: leave timespan, start and end out.');
    }
    // A symbol no source serves would replay as silence: refuse it before anything is written.
    for (const symbol of args.symbols ?? []) {
      if (!(await deps.market.isKnown(symbol))) {
        throw new ToolError(
          'UNKNOWN_SYMBOL',
          `Unknown symbol ${symbol.toUpperCase()}: no source serves it (no imported bars, no Polygon key or a ticker Polygon does not know, not a simulated symbol), so the run was not started; list_symbols shows what is available.`,
        );
      }
    }
    const run = await deps.sql.begin(async (tx) => {
      const created = await startRun(tx, auth.userId, args.model_id, input);
      if (created.kind === 'replay') await recordEquity(tx, created.run_id, new Date(created.clock), toCents(created.cash), 0);
      return created;
    });
    const { peak_value: _p, realized_pnl: _r, ...data } = run;
    return { data, summary: `Started. ${runSummary(run)} ${run.strategy_snapshot.rules.length} active rule(s) frozen in the snapshot.` };
  },
});

function replayRange(timespan: 'day' | 'minute' | undefined, start?: string, end?: string, session: 'regular' | 'extended' = 'regular') {
  if (!timespan || !start || !end) {
    throw new ToolError('BAD_RUN', 'A replay run needs timespan (day or minute), start and end.');
  }
  const from = startInstant(start);
  const to = endInstant(end);
  if (to < from) throw new ToolError('BAD_RUN', `end (${end}) is before start (${start}).`);
  if ((to.getTime() - from.getTime()) / 86_400_000 > MAX_REPLAY_DAYS) {
    throw new ToolError('BAD_RUN', 'A replay may span at most 10 years.');
  }
  const first = firstStep(timespan, from, session);
  const last = lastStep(timespan, to, session);
  if (first > last) throw new ToolError('BAD_RUN', `There is no open ${timespan === 'day' ? 'trading day' : 'market minute'} between ${start} and ${end}.`);
  // A replay is history: its last bar must have closed by now (a live run covers the present).
  if (barEnd(timespan, last) > new Date()) {
    throw new ToolError('BAD_RUN', `A replay must end in the past: its last step ${last.toISOString()} has not closed yet; end it earlier or start a live run.`);
  }
  return { timespan, start: first, end: last, clock: first };
}
