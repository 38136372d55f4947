// The wall clock of live runs: once a minute, every running live run gets the same clock
// step a replay gets from advance_run (resting limits, stops, targets, exit rules,
// flatten_by, circuit breakers) over the minutes since its last tick, and an equity point
// while its market is open. runs.clock holds a live run's last tick.
import type { Deps } from '../deps.js';
import { isMarketOpen } from '../domain/gates.js';
import { logEvent } from '../log.js';
import { loadPositions, markAccount } from '../store/accounts.js';
import { lockModel } from '../store/models.js';
import { openOrders } from '../store/orders.js';
import { getRunningRun, lastTick, liveRunsRunning, recordEquity, setRunClock } from '../store/runs.js';
import { onClockStep, type ClockEvent } from './clock.js';

export const TICK_MS = 60_000;
/** After a long stop, catch up at most a day of minutes. */
const MAX_CATCH_UP_MS = 24 * 3_600_000;

export async function tickLiveRuns(deps: Deps, now = new Date()): Promise<ClockEvent[]> {
  const events: ClockEvent[] = [];
  for (const { run_id, model_id } of await liveRunsRunning(deps.sql)) {
    const from = new Date(Math.max((await lastTick(deps.sql, run_id)).getTime(), now.getTime() - MAX_CATCH_UP_MS));
    if (now.getTime() - from.getTime() < TICK_MS) continue;
    if (deps.market.fetches) await prefetchBars(deps, run_id, from, now);
    await deps.sql.begin(async (tx) => {
      // Lock order as on the order path: model row, then the run.
      await lockModel(tx, model_id);
      const run = await getRunningRun(tx, model_id, true);
      if (!run || run.run_id !== run_id) return; // ended meanwhile
      const tick = await lastTick(tx, run_id);
      if (now.getTime() - tick.getTime() < TICK_MS) return; // another process ticked it
      events.push(...(await onClockStep(tx, deps, { ...run, clock: from.toISOString(), timespan: 'minute' }, now)).events);
      await setRunClock(tx, run_id, now);
      if (isMarketOpen(now, run.session)) {
        const after = (await getRunningRun(tx, model_id))!;
        const account = await markAccount(tx, deps.market, after, now);
        await recordEquity(tx, run_id, now, account.cashCents, account.positionsCents);
      }
    });
  }
  return events;
}

/** A provider's bars are fetched before the transaction holds the embedded database's one connection. */
async function prefetchBars(deps: Deps, runId: number, from: Date, now: Date): Promise<void> {
  const symbols = new Set([...(await loadPositions(deps.sql, runId)).map((p) => p.symbol), ...(await openOrders(deps.sql, runId)).map((o) => o.symbol)]);
  for (const s of symbols) await deps.market.barsClosedBetween(s, 'minute', from, now).catch(() => []);
}

/** Runs the ticker in the background of a process that serves the trade server. */
export function startLiveTicker(deps: Deps): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    tickLiveRuns(deps)
      .then((events) => {
        if (events.length) logEvent('live_tick', { exits: events.length });
      })
      .catch((err: unknown) => logEvent('live_tick_error', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        busy = false;
      });
  }, TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
