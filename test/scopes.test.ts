// Scopes for people: a supervisor key (read, approve) can halt an agent; create-user
// without --scopes grants read only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCommand } from '../shared/admin/commands.js';
import { bootSuite, call, ok, type TestSuite } from './harness.js';

let t: TestSuite;
beforeAll(async () => {
  t = await bootSuite();
});
afterAll(() => t?.close());

describe('scopes', () => {
  it('lets trade or approve halt a model, and nothing less', async () => {
    const owner = await t.user(['read', 'trade', 'rules:write', 'approve']);
    const model = await ok(await t.client('runs', owner.key), 'create_model', { name: 'Supervised' });
    const other = async (scopes: any[]) => {
      const key = (await runAdminCommand(t.suite.deps, ['create-key', owner.name, '--scopes', scopes.join(',')])).at(-1)!;
      return t.client('trade', key);
    };
    const supervisor = await other(['read', 'approve']);
    expect((await ok(supervisor, 'halt_trading', { model_id: model.model_id, reason: 'Supervisor stop' })).state).toBe('halted');
    expect((await ok(supervisor, 'resume_trading', { model_id: model.model_id })).state).toBe('active');
    const agent = await other(['read', 'trade']);
    expect((await ok(agent, 'halt_trading', { model_id: model.model_id, reason: 'Self stop', mode: 'reducing' })).state).toBe('reducing');
    const reader = await other(['read']);
    const refused = await call(reader, 'halt_trading', { model_id: model.model_id, reason: 'No' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/^halt_trading needs one of the scopes 'trade' or 'approve'; key aibt_[0-9a-f]+ has read\.$/);
  });

  it('grants read only when create-user and create-key are given no --scopes', async () => {
    const lines = await runAdminCommand(t.suite.deps, ['create-user', 'plain_reader']);
    expect(lines[0]).toMatch(/^Created user plain_reader with key aibt_[0-9a-f]+ \(scopes: read\)/);
    const keyLines = await runAdminCommand(t.suite.deps, ['create-key', 'plain_reader']);
    const client = await t.client('runs', keyLines.at(-1)!);
    await ok(client, 'list_models');
    expect((await call(client, 'create_model', { name: 'nope' })).text).toMatch(/create_model needs the 'rules:write' scope; key aibt_[0-9a-f]+ has read\./);
    const listed = (await runAdminCommand(t.suite.deps, ['list-users'])).join('\n');
    expect(listed).toMatch(/plain_reader[\s\S]*aibt_[0-9a-f]+ {2}read\n[\s\S]*aibt_[0-9a-f]+ {2}read/);
  });
});
