import { z } from 'zod';
import { nextStep } from '../../../shared/domain/calendar.js';
import { formatCents, fromCents } from '../../../shared/domain/money.js';
import type { Bar } from '../../../shared/domain/types.js';
import { ToolError } from '../../../shared/mcp/errors.js';
import { RESULT_BUDGET_BYTES, toPage } from '../../../shared/mcp/paging.js';
import { idSchema, rejectionOutput, unlisted } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import type { Deps } from '../../../shared/deps.js';
import { stopping } from '../../../shared/gate.js';
import { loadPositions, markAccount, type MarkedAccount } from '../../../shared/store/accounts.js';
import { openOrders } from '../../../shared/store/orders.js';
import { completeRun, getOwnedRun, lockOwnedRun, recordEquity, requireRunning, type RunRow } from '../../../shared/store/runs.js';
import { onClockStep, type ClockEvent, type ClockRefusalEvent } from '../../../shared/trading/clock.js';
import { afterRunEnd } from '../../../shared/trading/run-end.js';
import { finalStatsOutput } from './run-fields.js';

export const MAX_STEPS_PER_CALL = 390;

/** The order an exit filled or a refusal refused. */
const orderRef = { order_id: z.number(), symbol: z.string(), side: z.string(), quantity: z.number() };
const barOutput = z.object({ t: z.string(), o: z.number(), h: z.number(), l: z.number(), c: z.number(), v: z.number().nullable() });

export const advanceRunTool = defineTool({
  name: 'advance_run',
  title: 'Advance run',
  description:
    "Move a replay run's clock by steps open minutes or trading days (never past its end): per symbol the count of bars closed meanwhile and the latest, the portfolio at the new clock and exits triggered. At the end the next call completes the run (done, final_stats).",
  scope: 'trade',
  input: {
    run_id: idSchema('run_id'),
    steps: z.number().int().min(1).max(MAX_STEPS_PER_CALL).default(1).describe('Clock steps to take'),
    include_bars: z.boolean().default(false).describe('Also return the closed bars (the latest, capped; bars_truncated says so)'),
    client_request_id: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .meta(unlisted('minLength', 'maxLength'))
      .describe('Your id for this call (1–64 characters): a retry with it returns the first answer, not advancing again'),
  },
  output: {
    run_id: z.number(),
    clock: z.string(),
    previous_clock: z.string(),
    steps_taken: z.number(),
    symbols: z
      .record(z.string(), z.object({ bars_closed: z.number(), latest: barOutput.nullable() }))
      .describe("Per run symbol: how many bars of the run's timespan closed in (previous_clock, clock], and the latest of them"),
    bars: z
      .record(z.string(), z.array(barOutput))
      .optional()
      .describe('With include_bars: per symbol, the closed bars ascending (the latest ones when capped)'),
    bars_truncated: z.boolean().describe('include_bars returned fewer bars than closed, to keep the result under ~16 KB'),
    portfolio: z.object({ cash: z.number(), positions_value: z.number(), total_value: z.number() }),
    exits_triggered: z
      .array(
        z.object({
          ...orderRef,
          price: z.number(),
          trigger: z.string(),
          reason: z.string(),
          time: z.string().describe('Fill time, UTC: the end of the bar that touched the level, or the open it gapped through'),
        }),
      )
      .describe('Fills the clock made: resting limits, stops, targets, trailing stops, flattens (market orders: slippage and commission apply)'),
    orders_refused: z
      .array(
        z.object({
          ...orderRef,
          time: z.string(),
          rejections: z.array(rejectionOutput),
          reason: z.string(),
        }),
      )
      .describe('Resting orders refused when the clock reached them (e.g. no buying power then)'),
    halted_reason: z.string().nullable().describe('Set when a step halted the model (margin_call or a circuit breaker)'),
    at_end: z.boolean().describe('The clock is on the last step of the range: the next call completes the run'),
    done: z.boolean().describe('The run is completed'),
    status: z.string(),
    final_stats: finalStatsOutput.describe('When done: the final stats, as end_run records them'),
    stopped_early: z.string().nullable().describe('Why fewer steps than asked were taken before the end (the server shutting down, the client cancelled), else null'),
    repeated: z.boolean().describe('True when client_request_id was seen before on this run: the first answer, nothing advanced again'),
    notes: z.array(z.string()).optional().describe('When done and the analysis after the end failed: why (the run is completed all the same)'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler({ run_id, steps, include_bars, client_request_id }, { deps, auth, progress, signal }) {
    if (deps.market.fetches) await prefetch(deps, auth.userId, run_id, steps);
    const answer = await deps.sql.begin(async (tx) => {
      const locked = await lockOwnedRun(tx, auth.userId, run_id);
      if (client_request_id !== undefined) {
        const [seen] = await tx<{ answer: { data: AdvanceData; summary: string } }[]>`
          select answer from advance_requests where run_id = ${run_id} and client_request_id = ${client_request_id}`;
        if (seen) {
          return {
            data: { ...seen.answer.data, repeated: true },
            summary: `A retry of client_request_id ${JSON.stringify(client_request_id)}: the first answer, nothing advanced again. ${seen.answer.summary}`,
          };
        }
      }
      let run = locked.run;
      if (run.kind === 'live') {
        throw new ToolError('LIVE_RUN', `Run ${run_id} is live: its clock is the wall clock; only replay runs advance.`);
      }
      requireRunning(run);
      const timespan = run.timespan!;
      const end = new Date(run.end!);
      const previous = new Date(run.clock);
      let clock = previous;
      let taken = 0;
      let account: MarkedAccount | null = null;
      const exits: ClockEvent[] = [];
      const refused: ClockRefusalEvent[] = [];
      const halts: string[] = [];
      let stoppedEarly: string | null = null;
      while (taken < steps) {
        const next = nextStep(timespan, clock, run.session);
        if (next > end) break;
        if (taken > 0 && stopping(deps)) {
          stoppedEarly = `the server is shutting down: ${taken} of ${steps} steps were taken`;
          break;
        }
        // a cancelled call stops here: the steps taken are committed together, the rest not taken
        if (taken > 0 && signal.aborted) {
          stoppedEarly = `the client cancelled: ${taken} of ${steps} steps were taken`;
          break;
        }
        // onClockStep sees the run as it was before the step: its clock is the previous one.
        // The equity point and the new clock are written with the step's own writes.
        const step = await onClockStep(tx, deps, run, next, {
          // the first step reads the model and the account as the locks returned them
          known: taken === 0 ? { model: locked.model, account: run } : {},
          alsoWrite: (a) => [recordEquity(tx, run_id, next, a.cashCents, a.positionsCents, true)],
        });
        exits.push(...step.events);
        refused.push(...step.refused);
        if (step.halted_reason) halts.push(step.halted_reason);
        account = step.account;
        run = { ...run, clock: next.toISOString() };
        clock = next;
        taken++;
        await progress(taken, steps);
      }
      let done = false;
      if (taken === 0) {
        run = await completeRun(tx, deps.market, run, 'completed', clock);
        done = true;
      }
      account ??= await markAccount(tx, deps.market, run, clock);
      const bars: Record<string, Bar[]> = {};
      for (const symbol of run.symbols) bars[symbol] = await deps.market.barsClosedBetween(symbol, timespan, previous, clock, tx);
      const answer = respond(run_id, include_bars, { run, previous, clock, taken, account, exits, refused, halts, done, bars, stoppedEarly, atEnd: clock.getTime() >= end.getTime() });
      if (client_request_id !== undefined) {
        await tx`insert into advance_requests (run_id, client_request_id, answer) values (${run_id}, ${client_request_id}, ${tx.json(answer as never)})`;
      }
      return answer;
    });
    if (!answer.data.done || answer.data.repeated) return answer;
    // the end is committed: the analytics hang off it (a failure is a note, the run stays completed)
    const notes = await afterRunEnd(deps, run_id);
    return notes.length ? { data: { ...answer.data, notes }, summary: `${answer.summary}${notes.map((n) => ` ${n}`).join('')}` } : answer;
  },
});

interface Advanced {
  run: RunRow;
  previous: Date;
  clock: Date;
  taken: number;
  account: MarkedAccount;
  exits: ClockEvent[];
  refused: ClockRefusalEvent[];
  halts: string[];
  done: boolean;
  bars: Record<string, Bar[]>;
  stoppedEarly: string | null;
  atEnd: boolean;
}

type AdvanceData = ReturnType<typeof respond>['data'];

/** The tool's answer to the steps taken. */
function respond(run_id: number, include_bars: boolean, result: Advanced) {
  const { run, account } = result;
  const closed = Object.entries(result.bars).map(([s, bs]) => [s, bs.map((b) => ({ t: b.t, o: b.o, h: b.h!, l: b.l!, c: b.c!, v: b.v }))] as const);
  // the bars are opt-in and share one budget across symbols, latest kept
  const perSymbol = Math.floor(RESULT_BUDGET_BYTES / Math.max(1, closed.length));
  const pages = include_bars ? closed.map(([s, bs]) => [s, toPage(bs, { limit: bs.length, key: (b) => b.t, keep: 'last', budget: perSymbol })] as const) : [];
  const data = {
    run_id,
    clock: result.clock.toISOString(),
    previous_clock: result.previous.toISOString(),
    steps_taken: result.taken,
    symbols: Object.fromEntries(closed.map(([s, bs]) => [s, { bars_closed: bs.length, latest: bs.at(-1) ?? null }])),
    ...(include_bars ? { bars: Object.fromEntries(pages.map(([s, p]) => [s, p.items])) } : {}),
    bars_truncated: pages.some(([, p]) => p.truncated),
    portfolio: { cash: fromCents(account.cashCents), positions_value: fromCents(account.positionsCents), total_value: fromCents(account.totalCents) },
    exits_triggered: result.exits,
    orders_refused: result.refused,
    halted_reason: result.halts.at(-1) ?? null,
    at_end: result.atEnd,
    done: result.done,
    status: run.status,
    final_stats: result.done ? run.final_stats : null,
    stopped_early: result.stoppedEarly,
    repeated: false,
  };
  const barCount = closed.reduce((n, [, b]) => n + b.length, 0);
  const returned = pages.reduce((n, [, p]) => n + p.items.length, 0);
  const barsNote = !include_bars ? '' : data.bars_truncated ? ` Bars truncated: the latest ${returned} of ${barCount} returned.` : ` Bars: all ${barCount} returned (not truncated).`;
  const summary = result.done
    ? `Run ${run_id} reached the end of its range at ${data.clock} and is completed: final value ${formatCents(account.totalCents)}${run.final_stats ? `, return ${(run.final_stats.total_return * 100).toFixed(2)}%, max drawdown ${(run.final_stats.max_drawdown * 100).toFixed(2)}%, ${run.final_stats.total_trades} trade(s)` : ''}.`
    : `Run ${run_id} advanced ${result.taken} step(s) to ${data.clock}: ${barCount} bar(s) closed across ${closed.length} symbol(s), portfolio ${formatCents(account.totalCents)}${result.exits.length ? `, ${result.exits.length} fill(s) by the clock` : ''}${result.refused.length ? `, ${result.refused.length} resting order(s) refused` : ''}.${result.halts.length ? ` Trading is now HALTED: ${result.halts.at(-1)}` : ''}${result.atEnd ? ' This is the last step of the range: the next advance completes the run.' : ''}${result.stoppedEarly ? ` Stopped early: ${result.stoppedEarly}.` : ''}`;
  return { data, summary: summary + barsNote };
}

/**
 * Reads, before the transaction, every bar and price the steps will read, so that provider
 * blocks are fetched and stored without holding the run lock and the connection (the
 * embedded database has one) across network I/O. A refused run is left to the transaction.
 */
async function prefetch(deps: Deps, userId: number, runId: number, steps: number): Promise<void> {
  const run = await getOwnedRun(deps.sql, userId, runId).catch(() => null);
  if (!run || run.kind !== 'replay' || run.status !== 'running') return;
  const timespan = run.timespan!;
  const end = new Date(run.end!);
  const previous = new Date(run.clock);
  const clocks: Date[] = [];
  for (let at = previous; clocks.length < steps; ) {
    at = nextStep(timespan, at, run.session);
    if (at > end) break;
    clocks.push(at);
  }
  const upTo = clocks.at(-1) ?? previous;
  const symbols = new Set([
    ...run.symbols,
    ...(await loadPositions(deps.sql, runId)).map((p) => p.symbol),
    ...(await openOrders(deps.sql, runId)).map((o) => o.symbol),
  ]);
  for (const symbol of symbols) {
    await deps.market.barsClosedBetween(symbol, timespan, previous, upTo);
    for (const at of clocks.length ? clocks : [previous]) await deps.market.priceAt(symbol, at);
  }
}
