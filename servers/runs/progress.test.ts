// Progress and cancellation through real SDK v2 clients, in both eras: advance_run sends
// notifications/progress (steps taken of steps asked) when the client gave a progress token,
// and a cancelled advance_run stops at its next step with what it took committed and
// consistent (the run's clock is its last equity point; the rest is not taken).
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, ok, type Era, type TestSuite } from '../../test/harness.js';
import { analystServer } from '../analyst/server.js';
import { runsServer } from './server.js';

let t: TestSuite;
let key: string;
beforeAll(async () => {
  t = await bootSuite({ specs: [runsServer, analystServer] });
  ({ key } = await t.user());
}, 120_000);
afterAll(() => t?.close());

async function minuteRun(runs: Client, name: string) {
  const model = await ok(runs, 'create_model', { name });
  const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-03-12', end: '2025-03-14', symbols: ['KO', 'PG'] });
  await ok(runs, 'advance_run', { run_id: run.run_id }); // the first step stores the sessions' bars
  return run.run_id as number;
}

const state = async (runId: number) => {
  const [r] = await t.suite.deps.sql`
    select r.clock, (select max(clock) from equity_snapshots e where e.run_id = r.id) as last_point,
           (select count(*)::int from equity_snapshots e where e.run_id = r.id) as points
      from runs r where r.id = ${runId}`;
  return { clock: new Date(r!.clock).toISOString(), last: new Date(r!.last_point).toISOString(), points: r!.points as number };
};

describe.each(['modern', 'legacy'] as Era[])('advance_run on the %s era', (era) => {
  it('reports progress in steps when asked', async () => {
    const runs = await t.client('runs', key, {}, era);
    const runId = await minuteRun(runs, `progress-${era}`);
    const seen: { progress: number; total?: number }[] = [];
    const r = await runs.callTool({ name: 'advance_run', arguments: { run_id: runId, steps: 300 } }, { onprogress: (p) => seen.push(p) });
    expect((r.structuredContent as any).steps_taken).toBe(300);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p.total === 300)).toBe(true);
    expect(seen.map((p) => p.progress)).toEqual([...seen.map((p) => p.progress)].sort((a, b) => a - b));
    expect(seen.at(-1)!.progress).toBe(300);
  }, 120_000);

  it('stops at the next step when the client cancels; what it took stays committed and consistent', async () => {
    const runs = await t.client('runs', key, {}, era);
    const runId = await minuteRun(runs, `cancel-${era}`);
    const before = await state(runId);
    const abort = new AbortController();
    const call = runs.callTool({ name: 'advance_run', arguments: { run_id: runId, steps: 390 } }, {
      signal: abort.signal,
      onprogress: (p) => {
        if (p.progress >= 20) abort.abort();
      },
    });
    await expect(call).rejects.toThrow();
    // the server stops at its next step and commits what it took
    let after = await state(runId);
    for (let i = 0; i < 100 && after.clock === before.clock; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await state(runId);
    }
    await new Promise((r) => setTimeout(r, 500));
    after = await state(runId);
    const taken = after.points - before.points;
    expect(taken).toBeGreaterThanOrEqual(20);
    expect(taken).toBeLessThan(390);
    expect(after.clock).toBe(after.last);
    // the run goes on from there
    const next = await ok(runs, 'advance_run', { run_id: runId });
    expect(next.steps_taken).toBe(1);
  }, 120_000);
});

describe('analyst tools report progress', () => {
  it('analyze_trades sends progress per run when asked', async () => {
    const runs = await t.client('runs', key);
    const analyst = await t.client('analyst', key);
    const runId = await minuteRun(runs, 'analyze-progress');
    const seen: number[] = [];
    const r = await analyst.callTool({ name: 'analyze_trades', arguments: { run_id: runId } }, { onprogress: (p) => seen.push(p.progress) });
    expect(r.isError).toBeFalsy();
    expect(seen).toEqual([0]);
  });
});
