// The analyst's heavy calls run off the event loop that serves orders (issue 19 item 1),
// through real MCP clients with their own keys, one analyst thread and a queue of one:
// while replay_with_rules replays a run of 400 filled orders, trade calls keep completing and
// finish first, and the main loop's lag (perf_hooks monitorEventLoopDelay) stays far below
// the call's own time; a third concurrent analyst call is refused with the one busy
// sentence; a cancelled call's job is cut at once. Counts and bounds, not timings of tools.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analystServer } from '../servers/analyst/server.js';
import { tradeServer } from '../servers/trade/server.js';
import { createKey } from '../shared/auth/keys.js';
import { bootSuite, call, type TestSuite } from './harness.js';
import { makeHeavyRun } from './heavy-run.js';

let t: TestSuite;
let runId: number;
let modelId: number;
let keys: string[];
/** replay_with_rules' own time in the first test. */
let replayMs = 0;
beforeAll(async () => {
  t = await bootSuite({ specs: [tradeServer, analystServer], env: { AIBT_ANALYST_THREADS: '1', AIBT_ANALYST_QUEUE: '1', AIBT_ANALYST_PER_KEY: '1' } });
  const { name } = await t.user();
  const [u] = await t.suite.deps.sql`select id from users where name = ${name}`;
  ({ runId, modelId } = await makeHeavyRun(t.suite.deps, u!.id as number, 400));
  keys = [];
  for (let i = 0; i < 4; i++) keys.push((await createKey(t.suite.deps.sql, name)).key);
});
afterAll(() => t?.close());

describe('analyst work off the trading loop', () => {
  it('trade calls complete while replay_with_rules computes, and the main loop never stalls for long', async () => {
    const [trader, analyst] = await Promise.all([t.client('trade', keys[0]!), t.client('analyst', keys[1]!)]);
    // warm: the thread is up and the run's simulated bars are stored
    expect((await call(analyst, 'analyze_trades', { run_id: runId })).isError).toBeFalsy();
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const t0 = performance.now();
    let analystDone = 0;
    const heavy = call(analyst, 'replay_with_rules', { run_id: runId, rules: [] }).finally(() => (analystDone = performance.now()));
    const tradeDone: number[] = [];
    while (!analystDone) {
      const r = await call(trader, 'get_trading_status', { model_id: modelId });
      expect(r.isError).toBeFalsy();
      tradeDone.push(performance.now());
    }
    lag.disable();
    const r = await heavy;
    expect(r.isError, r.text).toBeFalsy();
    const analystMs = analystDone - t0;
    replayMs = analystMs;
    // the first trade answer came long before the analysis finished, and many followed
    expect(tradeDone[0]! - t0).toBeLessThan(analystMs / 2);
    expect(tradeDone.filter((d) => d < analystDone).length).toBeGreaterThanOrEqual(5);
    // on the main loop, the replays would stall it for most of the call's time
    expect(lag.max / 1e6).toBeLessThan(Math.max(1000, analystMs / 3));
  }, 300_000);

  it('answers the busy sentence when the queue is full, and cuts a cancelled job at once', async () => {
    const analysts = await Promise.all(keys.slice(1, 4).map((k) => t.client('analyst', k)));
    const cancel = new AbortController();
    const running = analysts[0]!.callTool({ name: 'replay_with_rules', arguments: { run_id: runId, rules: [] } }, { signal: cancel.signal }).catch((e: Error) => e);
    await expect.poll(() => t.suite.deps.workers.load.running, { timeout: 10_000 }).toBe(1);
    const queued = call(analysts[1]!, 'analyze_trades', { run_id: runId });
    await expect.poll(() => t.suite.deps.workers.load.queued, { timeout: 10_000 }).toBe(1);
    const refused = await call(analysts[2]!, 'risk_score', { run_id: runId });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/^The analyst is busy: 1 job queued; retry after \d+ s\.$/);
    // the client cancels: the replay is cut mid-way, the queued call runs and answers
    const aborted = performance.now();
    cancel.abort();
    await running;
    const q = await queued;
    expect(q.isError, q.text).toBeFalsy();
    // had the replay run on, the queued call would have waited for most of its time
    expect(performance.now() - aborted).toBeLessThan(replayMs / 2);
    expect(t.suite.deps.workers.load).toEqual({ running: 0, queued: 0 });
  }, 300_000);
});
