// The shared HTTP host: auth, loopback checks, sessions, health, metrics, tool-call logs.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setLogSilent } from '../shared/log.js';
import { revokeKey, keyPrefix } from '../shared/auth/keys.js';
import { checkLoopback } from '../shared/mcp/host.js';
import { runsServer } from '../servers/runs/server.js';
import { bootSuite, call, ok, type TestSuite } from './harness.js';

let t: TestSuite;
beforeAll(async () => {
  t = await bootSuite({ specs: [runsServer] });
});
afterAll(() => t?.close());

const init = (key?: string, headers: Record<string, string> = {}) =>
  t.suite.hosts.runs!.app.request('/mcp', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });

describe('MCP host', () => {
  it('answers 401 for missing, unknown and revoked keys, then accepts a good one', async () => {
    const { key } = await t.user(['read']);
    expect((await init()).status).toBe(401);
    expect((await init('aibt_00000000_nope')).status).toBe(401);
    const good = await init(key);
    expect(good.status).toBe(200);
    expect(good.headers.get('mcp-session-id')).toBeTruthy();
    await revokeKey(t.suite.deps.sql, keyPrefix(key));
    const revoked = await init(key);
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('refuses foreign Host and Origin headers on loopback', async () => {
    const { key } = await t.user(['read']);
    expect((await init(key, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await init(key, { origin: 'http://localhost:5173' })).status).toBe(200);
    expect(checkLoopback('evil.example:3104', undefined, [])).toMatch(/not allowed/);
    expect(checkLoopback('127.0.0.1:3104', 'https://app.example', ['https://app.example'])).toBeNull();
  });

  it("does not let one user's key use another user's session", async () => {
    const a = await t.user(['read']);
    const b = await t.user(['read']);
    const sid = (await init(a.key)).headers.get('mcp-session-id')!;
    const res = await t.suite.hosts.runs!.app.request('/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${b.key}`, 'mcp-session-id': sid },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });

  it('expires idle sessions', async () => {
    const { key } = await t.user(['read']);
    const client = await t.client('runs', key);
    await ok(client, 'list_models');
    const host = t.suite.hosts.runs!;
    const before = host.sessionCount();
    expect(await host.expireIdle(60_000, Date.now() + 61_000)).toBeGreaterThanOrEqual(1);
    expect(host.sessionCount()).toBeLessThan(before);
    await expect(client.listTools()).rejects.toThrow();
  });

  it('counts tool calls by outcome in /metrics', async () => {
    const client = await t.client('runs', (await t.user()).key);
    await ok(client, 'list_models');
    await call(client, 'get_model', { model_id: 424242 });
    const bad = await call(client, 'get_model', { model_id: -1 });
    expect(bad.text).toBe('Invalid arguments for get_model: model_id must be positive.');
    const text = await (await t.suite.hosts.runs!.app.request('/metrics')).text();
    expect(text).toMatch(/aibt_tool_calls_total\{server="runs",tool="list_models",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/aibt_tool_calls_total\{server="runs",tool="get_model",outcome="error"\} [1-9]/);
    expect(text).toMatch(/aibt_tool_calls_total\{server="runs",tool="get_model",outcome="invalid"\} [1-9]/);
    expect(text).toMatch(/aibt_tool_call_duration_seconds_bucket\{server="runs",tool="list_models",le="\+Inf"\} [1-9]/);
  });

  it('writes one JSON log line per tool call, refused arguments included', async () => {
    const { key } = await t.user();
    const client = await t.client('runs', key);
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
    setLogSilent(false);
    try {
      await ok(client, 'list_models');
      await call(client, 'get_model', { model_id: -1 });
    } finally {
      setLogSilent(true);
      spy.mockRestore();
    }
    const events = lines.flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
    const calls = events.filter((e) => e.event === 'tool_call');
    expect(calls).toEqual([
      expect.objectContaining({ server: 'runs', tool: 'list_models', key: keyPrefix(key), outcome: 'ok', ms: expect.any(Number) }),
      expect.objectContaining({ server: 'runs', tool: 'get_model', key: keyPrefix(key), outcome: 'invalid' }),
    ]);
  });
});
