// save_conversation_turn and get_conversation through a real MCP client: turns kept per model
// and per run in order, paged, size limits refused with nothing written, another user's
// conversation reported like a missing one, and the trade scope required.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { runsServer } from '../runs/server.js';
import { analystServer } from './server.js';

let t: TestSuite;
let runs: Client;
let analyst: Client;

beforeAll(async () => {
  t = await bootSuite({ specs: [runsServer, analystServer] });
  const { key } = await t.user();
  [runs, analyst] = await Promise.all([t.client('runs', key), t.client('analyst', key)]);
});
afterAll(() => t?.close());

async function turnCount(modelId: number): Promise<number> {
  const [r] = await t.suite.deps.sql`select count(*)::int as n from conversation_turns where model_id = ${modelId}`;
  return r!.n as number;
}

describe('conversations', () => {
  it('keeps the model-wide and per-run conversations in order, with tool calls as JSON', async () => {
    const model = await ok(runs, 'create_model', { name: 'Talker' });
    const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'live' });
    const m = model.model_id;
    const saved = await ok(analyst, 'save_conversation_turn', { model_id: m, role: 'user', content: 'Why did I lose?' });
    expect(saved.turn).toMatchObject({ model_id: m, run_id: null, role: 'user', content: 'Why did I lose?', tool_calls: null });
    const calls = [{ id: 'call_1', name: 'analyze_trades', arguments: { run_id: run.run_id, filter: 'losing' } }];
    await ok(analyst, 'save_conversation_turn', { model_id: m, run_id: run.run_id, role: 'assistant', content: '', tool_calls: calls });
    await ok(analyst, 'save_conversation_turn', { model_id: m, run_id: run.run_id, role: 'tool', tool_call_id: 'call_1', content: '3 losing round trips.' });
    await ok(analyst, 'save_conversation_turn', { model_id: m, run_id: run.run_id, role: 'assistant', content: 'Your losses came from\n\tthe open.' });

    const all = await ok(analyst, 'get_conversation', { model_id: m });
    expect(all.turns.map((x: any) => [x.role, x.run_id])).toEqual([['user', null], ['assistant', run.run_id], ['tool', run.run_id], ['assistant', run.run_id]]);
    expect(all.turns[1].tool_calls).toEqual(calls);
    expect(all.turns[2].tool_call_id).toBe('call_1');
    expect(all.turns[3].content).toBe('Your losses came from\n\tthe open.');
    expect(all).toMatchObject({ truncated: false, next_cursor: null });

    const ofRun = await ok(analyst, 'get_conversation', { model_id: m, run_id: run.run_id });
    expect(ofRun.turns.map((x: any) => x.role)).toEqual(['assistant', 'tool', 'assistant']);

    // pages of two from the start, then the newest two
    const p1 = await ok(analyst, 'get_conversation', { model_id: m, limit: 2 });
    expect(p1.turns.map((x: any) => x.id)).toEqual(all.turns.slice(0, 2).map((x: any) => x.id));
    expect(p1.truncated).toBe(true);
    const p2 = await ok(analyst, 'get_conversation', { model_id: m, limit: 2, cursor: p1.next_cursor });
    expect(p2.turns.map((x: any) => x.id)).toEqual(all.turns.slice(2).map((x: any) => x.id));
    expect(p2).toMatchObject({ truncated: false, next_cursor: null });
    const latest = await ok(analyst, 'get_conversation', { model_id: m, limit: 2, latest: true });
    expect(latest.turns.map((x: any) => x.id)).toEqual(all.turns.slice(2).map((x: any) => x.id));
    expect(latest).toMatchObject({ truncated: true, next_cursor: null });
  });

  it('refuses oversized and empty turns in one sentence and writes nothing', async () => {
    const model = await ok(runs, 'create_model', { name: 'Limits' });
    const m = model.model_id;
    const big = await call(analyst, 'save_conversation_turn', { model_id: m, role: 'user', content: 'é'.repeat(4001) }); // 8,002 bytes
    expect(big).toMatchObject({ isError: true });
    expect(big.text).toMatch(/content must be at most 8,000 bytes of UTF-8 text\./);
    const fits = await ok(analyst, 'save_conversation_turn', { model_id: m, role: 'user', content: 'é'.repeat(4000) });
    expect(fits.turn.content).toHaveLength(4000);
    const calls = await call(analyst, 'save_conversation_turn', { model_id: m, role: 'assistant', content: '', tool_calls: [{ name: 'x', arguments: 'y'.repeat(5000) }] });
    expect(calls.text).toBe('tool_calls must be at most 4,096 bytes of JSON; nothing was saved.');
    expect((await call(analyst, 'save_conversation_turn', { model_id: m, role: 'user', content: '  ' })).text).toBe(
      'content must not be empty unless the turn carries tool_calls; nothing was saved.',
    );
    expect((await call(analyst, 'save_conversation_turn', { model_id: m, role: 'user', content: 'a\u0000b' })).text).toMatch(/must not contain NUL or control characters/);
    expect((await call(analyst, 'save_conversation_turn', { model_id: m, role: 'system', content: 'hi' })).text).toMatch(/role must be one of user, assistant, tool\./);
    expect(await turnCount(m)).toBe(1);
  });

  it("reports another user's conversation like a missing one, a run of another model plainly, and needs the trade scope", async () => {
    const model = await ok(runs, 'create_model', { name: 'Private' });
    const other = await ok(runs, 'create_model', { name: 'Other' });
    const run = await ok(runs, 'start_run', { model_id: other.model_id, kind: 'live' });
    await ok(analyst, 'save_conversation_turn', { model_id: model.model_id, role: 'user', content: 'secret' });

    const stranger = await t.client('analyst', (await t.user()).key);
    const missing = await call(stranger, 'get_conversation', { model_id: 99_999_999 });
    expect(missing.text).toBe('Model 99999999 was not found.');
    expect(await call(stranger, 'get_conversation', { model_id: model.model_id })).toMatchObject({ isError: true, text: `Model ${model.model_id} was not found.` });
    expect((await call(stranger, 'save_conversation_turn', { model_id: model.model_id, role: 'user', content: 'x' })).text).toBe(`Model ${model.model_id} was not found.`);
    expect((await call(analyst, 'get_conversation', { model_id: model.model_id, run_id: run.run_id })).text).toBe(
      `Run ${run.run_id} is a run of model ${other.model_id}, not of model ${model.model_id}.`,
    );

    const reader = await t.client('analyst', (await t.user(['read'])).key);
    expect((await call(reader, 'get_conversation', { model_id: model.model_id })).text).toMatch(/^get_conversation needs the 'trade' scope/);
    expect(await turnCount(model.model_id)).toBe(1);
  });
});
