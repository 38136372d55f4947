import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { runsServer } from './server.js';

let t: TestSuite;
let owner: Client;

beforeAll(async () => {
  t = await bootSuite({ specs: [runsServer] });
  const { key } = await t.user();
  owner = await t.client('runs', key);
});
afterAll(() => t?.close());

async function countModels(): Promise<number> {
  return (await ok(owner, 'list_models')).models.length;
}

describe('runs server', () => {
  it('creates a model, runs a replay and a live run, logs and reads reasoning, ends the run', async () => {
    const model = await ok(owner, 'create_model', { name: 'Momentum', initial_cash: 25_000, instructions: 'Buy strength.' });
    expect(model).toMatchObject({ name: 'Momentum', initial_cash: 25_000, allow_short: false, execution_mode: 'simulation', max_drawdown_halt_pct: 0.25 });

    const replay = await ok(owner, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-20', symbols: ['AAPL', 'MSFT'] });
    expect(replay).toMatchObject({ run_number: 1, status: 'running', kind: 'replay', clock: '2025-06-10T13:30:00.000Z', end: '2025-06-20T13:30:00.000Z' });
    expect(replay.strategy_snapshot.instructions).toBe('Buy strength.');
    expect(replay.strategy_snapshot.model.initial_cash).toBe(25_000);

    const refused = await call(owner, 'start_run', { model_id: model.model_id, kind: 'live' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/already has a running run/);

    for (const [type, content] of [['plan', 'first the plan'], ['analysis', 'then analysis'], ['decision', 'then the decision']] as const) {
      await ok(owner, 'log_reasoning', { run_id: replay.run_id, reasoning_type: type, content, context: { step: type } });
    }
    const { entries } = await ok(owner, 'get_reasoning', { run_id: replay.run_id });
    expect(entries.map((e: any) => e.content)).toEqual(['first the plan', 'then analysis', 'then the decision']);
    expect(entries[0].clock).toBe('2025-06-10T13:30:00.000Z');
    expect(entries[2].context).toEqual({ step: 'decision' });
    const decisions = await ok(owner, 'get_reasoning', { run_id: replay.run_id, reasoning_type: 'decision' });
    expect(decisions.entries).toHaveLength(1);

    const ended = await ok(owner, 'end_run', { run_id: replay.run_id });
    expect(ended.status).toBe('completed');
    expect(ended.final_stats).toEqual({ total_trades: 0, final_value: 25_000, total_return: 0, max_drawdown: 0 });

    const live = await ok(owner, 'start_run', { model_id: model.model_id, kind: 'live' });
    expect(live).toMatchObject({ run_number: 2, kind: 'live', status: 'running' });
    const got = await ok(owner, 'get_run', { run_id: replay.run_id });
    expect(got.counts).toEqual({ orders: 0, fills: 0, rejections: 0, reasoning: 3 });
    const { runs } = await ok(owner, 'list_runs', { model_id: model.model_id });
    expect(runs.map((r: any) => r.run_number)).toEqual([1, 2]);
    const detail = await ok(owner, 'get_model', { model_id: model.model_id });
    expect(detail.running_run).toEqual({ run_id: live.run_id, run_number: 2, kind: 'live' });
    const listed = await ok(owner, 'list_models');
    expect(listed.models.find((m: any) => m.model_id === model.model_id).running_run.run_id).toBe(live.run_id);
  });

  it('updates settings and keeps running runs on their snapshot', async () => {
    const model = await ok(owner, 'create_model', { name: 'Snap', initial_cash: 1000 });
    const run = await ok(owner, 'start_run', { model_id: model.model_id, kind: 'live' });
    const updated = await ok(owner, 'update_model', { model_id: model.model_id, allow_short: true, slippage_bps: 5 });
    expect(updated).toMatchObject({ allow_short: true, slippage_bps: 5 });
    const got = await ok(owner, 'get_run', { run_id: run.run_id });
    expect(got.strategy_snapshot.model.allow_short).toBe(false);
  });

  it('refuses bad input with one sentence and writes nothing', async () => {
    const before = await countModels();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: 'neg', initial_cash: -5 }, /initial_cash must be at least \$0\.01/],
      [{ name: '' }, /name must not be empty/],
      [{ name: 'big', instructions: 'x'.repeat(20_001) }, /instructions must be at most 20,000 characters/],
      [{ name: 'extra', leverage: 10 }, /leverage/],
    ];
    for (const [args, message] of cases) {
      const r = await call(owner, 'create_model', args);
      expect(r.isError, JSON.stringify(args).slice(0, 60)).toBe(true);
      expect(r.text).toMatch(message);
      expect(r.text).not.toMatch(/\bat\s+\S+\.(ts|js):\d+/); // no stack trace
    }
    expect(await countModels()).toBe(before);

    const dup = await ok(owner, 'create_model', { name: 'Twice' });
    const again = await call(owner, 'create_model', { name: 'Twice' });
    expect(again.text).toBe("You already have a model named 'Twice'; pick another name.");
    const missing = await call(owner, 'get_run', { run_id: 999_999 });
    expect(missing).toMatchObject({ isError: true, text: 'Run 999999 was not found.' });
    const badRange = await call(owner, 'start_run', { model_id: dup.model_id, kind: 'replay', timespan: 'day', start: '2025-06-20', end: '2025-06-10' });
    expect(badRange.text).toMatch(/end \(2025-06-10\) is before start/);
    const holiday = await call(owner, 'start_run', { model_id: dup.model_id, kind: 'replay', timespan: 'day', start: '2025-07-04', end: '2025-07-04' });
    expect(holiday.text).toMatch(/no open trading day/);
    const future = await call(owner, 'start_run', { model_id: dup.model_id, kind: 'replay', timespan: 'day', start: '2098-06-10', end: '2099-01-02' });
    expect(future.text).toMatch(/^A replay must end in the past: its last step 2099-01-02T14:30:00.000Z has not closed yet/);
    expect((await call(owner, 'list_runs', { model_id: dup.model_id })).data.runs).toEqual([]);
  });

  it("reports another user's objects exactly like missing ones", async () => {
    const model = await ok(owner, 'create_model', { name: 'Private' });
    const run = await ok(owner, 'start_run', { model_id: model.model_id, kind: 'live' });
    const other = await t.client('runs', (await t.user()).key);
    expect((await call(other, 'get_run', { run_id: run.run_id })).text).toBe(`Run ${run.run_id} was not found.`);
    expect((await call(other, 'get_model', { model_id: model.model_id })).text).toBe(`Model ${model.model_id} was not found.`);
    expect((await call(other, 'end_run', { run_id: run.run_id })).isError).toBe(true);
    expect((await call(other, 'log_reasoning', { run_id: run.run_id, reasoning_type: 'plan', content: 'sneaky' })).isError).toBe(true);
    expect((await ok(owner, 'get_run', { run_id: run.run_id })).status).toBe('running');
    expect((await ok(other, 'list_models')).models).toEqual([]);
  });

  it('names the missing scope', async () => {
    const reader = await t.client('runs', (await t.user(['read'])).key);
    const r = await call(reader, 'create_model', { name: 'nope' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/create_model needs the 'rules:write' scope/);
    const trader = await t.client('runs', (await t.user(['read', 'trade'])).key);
    expect((await call(trader, 'update_model', { model_id: 1, allow_short: true })).text).toMatch(/needs the 'rules:write' scope/);
  });

  it('lets only one of two racing start_run calls win', async () => {
    const model = await ok(owner, 'create_model', { name: 'Race' });
    const results = await Promise.all([1, 2, 3].map(() => call(owner, 'start_run', { model_id: model.model_id, kind: 'live' })));
    expect(results.filter((r) => !r.isError)).toHaveLength(1);
    expect(results.filter((r) => r.isError).every((r) => /already has a running run/.test(r.text))).toBe(true);
  });
});
