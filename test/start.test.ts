// npm start's entry point as a real process: the compiled JavaScript in one Node process
// (no tsx, no wrapper). It prints five URLs and a key, serves MCP clients, and shuts down
// cleanly on SIGTERM to that PID, releasing the embedded database.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, describe, expect, it } from 'vitest';
import { call, ok } from './harness.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-start-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('npm start', () => {
  it('serves five endpoints with the printed key and stops cleanly on SIGTERM', async () => {
    const ports = { TRADE_PORT: '0', PRICE_PORT: '0', RULES_PORT: '0', RUNS_PORT: '0', ANALYST_PORT: '0' };
    const entry = path.resolve(import.meta.dirname, '../dist/bin/aibt.js');
    expect(fs.existsSync(entry), 'dist/ is built by npm ci (prepare) and npm test (pretest)').toBe(true);
    const child = spawn(process.execPath, [entry, 'start'], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: { ...process.env, ...ports, AIBT_DATA_DIR: dataDir, AIBT_LOG: 'silent', DATABASE_URL: '', REDIS_URL: '' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 150_000;
    while (!/Demo key[^\n]*\n\s+(\S+)/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const urls = Object.fromEntries([...stderr.matchAll(/^\s+(trade|price|rules|runs|analyst)\s+(http:\S+)$/gm)].map((m) => [m[1], m[2]]));
    expect(Object.keys(urls).sort()).toEqual(['analyst', 'price', 'rules', 'runs', 'trade']);
    const key = /Demo key[^\n]*\n\s+(\S+)/.exec(stderr)![1]!;
    expect(fs.readFileSync(path.join(dataDir, 'demo-key'), 'utf8').trim()).toBe(key);

    const client = new Client({ name: 'start-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(urls.runs!), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
    const model = await ok(client, 'create_model', { name: 'From npm start' });
    const replay = await ok(client, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-12' });
    expect((await call(client, 'start_run', { model_id: model.model_id, kind: 'live' })).text).toMatch(/already has a running run/);
    await ok(client, 'log_reasoning', { run_id: replay.run_id, reasoning_type: 'plan', content: 'one' });
    await ok(client, 'log_reasoning', { run_id: replay.run_id, reasoning_type: 'reflection', content: 'two' });
    expect((await ok(client, 'get_reasoning', { run_id: replay.run_id })).entries.map((e: any) => e.content)).toEqual(['one', 'two']);
    expect((await ok(client, 'end_run', { run_id: replay.run_id })).status).toBe('completed');
    await client.close();
    // the analyst computes in a worker thread started from the built worker.js
    const analyst = new Client({ name: 'start-test', version: '1' });
    await analyst.connect(new StreamableHTTPClientTransport(new URL(urls.analyst!), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
    expect((await ok(analyst, 'calculate_metrics', { run_id: replay.run_id })).runs[0].total_return).toBe(0);
    await analyst.close();

    // one process: nothing runs under it that a SIGTERM to its PID could leave behind
    expect(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim()).toBe('');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'db.lock'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'admin.json'))).toBe(false);
  }, 240_000);
});
