// The embedded default on disk: one process per data directory, the admin CLI
// through the running suite and without it, and /health when storage is gone.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../shared/config.js';
import { openDatabase } from '../shared/db/database.js';
import { startSuite, type RunningSuite } from '../shared/runtime.js';
import { runsServer } from '../servers/runs/server.js';
import { call } from './harness.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const run = promisify(execFile);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-emb-'));
const env = { ...process.env, AIBT_DATA_DIR: dataDir, AIBT_LOG: 'silent', DATABASE_URL: '', REDIS_URL: '' };
const config = loadConfig(env);
let suite: RunningSuite | undefined;

afterAll(async () => {
  await suite?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function admin(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'shared/admin/cli.ts', ...args], { env, cwd: path.resolve(import.meta.dirname, '..') });
}

describe.sequential('embedded database on disk', () => {
  it('starts, keeps a demo key in the data directory, and refuses a second opener', async () => {
    suite = await startSuite({ specs: [runsServer], config, ports: { runs: 0 } });
    expect(suite.keyCreated).toBe(true);
    expect(fs.readFileSync(path.join(dataDir, 'demo-key'), 'utf8').trim()).toBe(suite.key);
    await expect(openDatabase({ dataDir })).rejects.toThrow(
      `The embedded database in ${dataDir} is already open in process ${process.pid}; stop that process, use another AIBT_DATA_DIR, or set DATABASE_URL to a shared Postgres.`,
    );
  });

  it('runs admin commands through the running suite; the new key works at once', async () => {
    const { stdout } = await admin('create-user', 'erin', '--scopes', 'read,trade');
    const key = stdout.trim().split('\n').at(-1)!;
    expect(key).toMatch(/^aibt_[0-9a-f]{8}_/);
    const client = new Client({ name: 't', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(suite!.urls.runs!), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
    expect((await call(client, 'list_models')).isError).toBe(false);
    await client.close();
    const bad = await admin('create-user', 'erin').catch((e: { stderr: string; code: number }) => e);
    expect((bad as { code: number }).code).toBe(1);
    expect((bad as { stderr: string }).stderr.trim()).toBe("A user named 'erin' already exists; use create-key to give it another key.");
  });

  it('answers /health 503 naming the database when storage is gone', async () => {
    await suite!.deps.db.close();
    const res = await fetch(suite!.urls.runs!.replace(/\/mcp$/, '/health'));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { database: string; failed: string[] };
    expect(body.database).toBe('failed');
    expect(body.failed[0]).toMatch(/^database: /);
    suite!.deps.db.close = async () => {}; // already closed
    await suite!.close();
    suite = undefined;
  });

  it('runs admin commands directly when no suite is running', async () => {
    const { stdout } = await admin('list-users');
    expect(stdout).toContain('erin');
    expect(stdout).toContain('demo');
    const revoke = await admin('revoke-key', 'aibt_ffffffff').catch((e: { stderr: string }) => e);
    expect((revoke as { stderr: string }).stderr.trim()).toBe("No active key has the prefix 'aibt_ffffffff'.");
  });
});
