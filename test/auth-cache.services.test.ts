// The key cache across processes (needs REDIS_URL and DATABASE_URL: npm run test:services):
// a key revoked by the admin CLI in its own process is refused by a running server
// within a second, although that server had the key cached.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyCacheFor } from '../shared/auth/key-cache.js';
import { hashKey, keyPrefix } from '../shared/auth/keys.js';
import { runsServer } from '../servers/runs/server.js';
import { bootSuite, type TestSuite } from './harness.js';

const run = promisify(execFile);
let t: TestSuite;
beforeAll(async () => {
  t = await bootSuite({ specs: [runsServer] });
});
afterAll(() => t?.close());

const init = (key: string) =>
  t.suite.hosts.runs!.app.request('/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });

describe('key cache across processes', () => {
  it('refuses a key within a second of its revocation by another process', async () => {
    expect(process.env.REDIS_URL, 'test:services sets REDIS_URL').toBeTruthy();
    const { key } = await t.user(['read']);
    expect((await init(key)).status).toBe(200);
    // Cached now: the next request asks no database.
    const cached = await t.suite.deps.db.roundTrips.measure(async () => init(key));
    expect(cached.result.status).toBe(200);
    expect(cached.roundTrips).toBe(0);

    await run(process.execPath, ['--import', 'tsx', 'shared/admin/cli.ts', 'revoke-key', keyPrefix(key)], {
      env: { ...process.env, AIBT_LOG: 'silent' },
      cwd: path.resolve(import.meta.dirname, '..'),
    });
    const revokedAt = Date.now();
    // Expiry keeps an entry (for outages); only a forget removes it: the message came through Redis.
    const deadline = Date.now() + 1000;
    while (keyCacheFor(t.suite.deps.sql).lastVerified(hashKey(key)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(keyCacheFor(t.suite.deps.sql).lastVerified(hashKey(key))).toBeUndefined();
    let status = 200;
    while (Date.now() - revokedAt < 1000 && status !== 401) {
      status = (await init(key)).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(401);
  });
});
