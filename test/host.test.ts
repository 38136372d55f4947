// The shared HTTP host: auth, loopback checks, sessions, health, metrics, tool-call logs.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setLogSilent } from '../shared/log.js';
import { revokeKey, keyPrefix } from '../shared/auth/keys.js';
import { checkLoopback, checkOrigin } from '../shared/mcp/host.js';
import { runsServer } from '../servers/runs/server.js';
import { bootSuite, call, ok, type TestSuite } from './harness.js';

let t: TestSuite;
beforeAll(async () => {
  t = await bootSuite({ specs: [runsServer] });
});
afterAll(() => t?.close());

const ELICIT = { elicitation: { form: {} } };

const post = (key: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
  t.suite.hosts.runs!.app.request('/mcp', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const init = (key?: string, headers: Record<string, string> = {}, capabilities: Record<string, unknown> = {}) =>
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
      params: { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'raw', version: '1' } },
    }),
  });

describe('MCP host', () => {
  it('answers 401 for missing, unknown and revoked keys, then accepts a good one', async () => {
    const { key } = await t.user(['read']);
    const missing = await init();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer realm="aibt", error="invalid_token", error_description="No API key: send the header Authorization: Bearer <key>/);
    const unknown = await init('aibt_00000000_nope');
    expect(unknown.status).toBe(401);
    // the sentence reaches the person both ways: the header (mcp-remote) and the JSON-RPC body
    const sentence = 'The API key beginning aibt_00000000 is unknown or revoked: check the key in your client config, or make a new one with npm run admin -- create-key.';
    expect(unknown.headers.get('www-authenticate')).toContain(`error_description="${sentence}"`);
    expect(await unknown.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: sentence }, id: null });
    const odd = await init('cl\u00e9"x');
    expect(odd.status).toBe(401);
    expect(odd.headers.get('www-authenticate')).toContain("beginning cl?'x is unknown");
    const good = await init(key);
    expect(good.status).toBe(200);
    expect(good.headers.get('mcp-session-id')).toBeNull(); // no elicitation: served without a session
    const asking = await init(key, {}, ELICIT);
    expect(asking.headers.get('mcp-session-id')).toBeTruthy();
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

  it('refuses a foreign Origin on a non-loopback bind too (AIBT_HOST=0.0.0.0)', async () => {
    expect(checkOrigin('https://evil.example', [])).toBe("Origin 'https://evil.example' is not allowed; add it to AIBT_ALLOWED_ORIGINS to permit it.");
    expect(checkOrigin('https://app.example', ['https://app.example'])).toBeNull();
    expect(checkOrigin(undefined, [])).toBeNull();
    const open = await bootSuite({ specs: [runsServer], env: { AIBT_HOST: '0.0.0.0', AIBT_ALLOWED_ORIGINS: 'https://app.example' } });
    try {
      const { key } = await open.user(['read']);
      const ask = (headers: Record<string, string>) =>
        open.suite.hosts.runs!.app.request('/mcp', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}`, host: 'trading.example:3104', ...headers },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
        });
      const evil = await ask({ origin: 'https://evil.example' });
      expect(evil.status).toBe(403);
      expect((await evil.json()).error.message).toMatch(/Origin 'https:\/\/evil.example' is not allowed/);
      expect((await ask({ origin: 'https://app.example' })).status).toBe(200);
      expect((await ask({})).status).toBe(200); // no browser, no Origin: any Host is served off loopback
    } finally {
      await open.close();
    }
  });

  it("does not let one user's key use another user's session", async () => {
    const a = await t.user(['read']);
    const b = await t.user(['read']);
    const sid = (await init(a.key, {}, ELICIT)).headers.get('mcp-session-id')!;
    const res = await t.suite.hosts.runs!.app.request('/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${b.key}`, 'mcp-session-id': sid },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });

  it('expires idle sessions; a client without a session keeps working past the expiry', async () => {
    const { key } = await t.user(['read']);
    const asking = await t.client('runs', key, ELICIT, 'legacy');
    const plain = await t.client('runs', key);
    await ok(asking, 'list_models');
    await ok(plain, 'list_models');
    const host = t.suite.hosts.runs!;
    const before = host.sessionCount();
    expect(await host.expireIdle(60_000, Date.now() + 61_000)).toBeGreaterThanOrEqual(1);
    expect(host.sessionCount()).toBeLessThan(before);
    await expect(asking.listTools()).rejects.toThrow(/not known here.*send initialize again/);
    expect((await ok(plain, 'list_models')).models).toEqual([]);
  });

  it('answers an unknown session id with 404 and a sentence to initialize again', async () => {
    const { key } = await t.user(['read']);
    const res = await post(key, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-session-id': 'no-such-session' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32001, message: 'This MCP session is not known here (it expired, was closed, or the server restarted): send initialize again, without Mcp-Session-Id, to start a new one.' },
      id: null,
    });
  });

  it('refuses an oversized body, malformed JSON-RPC and a batch with a JSON-RPC error, and writes nothing', async () => {
    const { key } = await t.user();
    const sql = t.suite.deps.sql;
    const [{ n: before }] = (await sql`select count(*)::int as n from models`) as any;
    const create = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'create_model', arguments: { name: `m${id}` } } });
    const cases: [unknown, number, number, RegExp][] = [
      [JSON.stringify({ ...create(1), pad: 'x'.repeat(1024 * 1024) }), 413, -32600, /over 1024 KB; nothing was done/],
      ['{"jsonrpc": "2.0", "id": 1, "method": ', 400, -32700, /not valid JSON/],
      [{ id: 1, method: 'tools/list' }, 400, -32600, /one JSON-RPC 2.0 message/],
      [{ jsonrpc: '2.0', id: { x: 1 }, method: 'tools/list' }, 400, -32600, /one JSON-RPC 2.0 message/],
      ['42', 400, -32600, /one JSON-RPC 2.0 message/],
      [[create(1), create(2)], 400, -32600, /batches are not supported/],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await post(key, body);
      expect(res.status).toBe(status);
      const json = await res.json();
      expect(json.jsonrpc).toBe('2.0');
      expect(json.error.code).toBe(code);
      expect(json.error.message).toMatch(message);
    }
    const [{ n: after }] = (await sql`select count(*)::int as n from models`) as any;
    expect(after).toBe(before);
  });

  it('caps sessions per key: the oldest idle one is closed first', async () => {
    const capped = await bootSuite({ specs: [runsServer], env: { AIBT_SESSIONS_PER_KEY: '2' } });
    try {
      const { key } = await capped.user(['read']);
      const [first, second] = [await capped.client('runs', key, ELICIT, 'legacy'), await capped.client('runs', key, ELICIT, 'legacy')];
      await ok(second, 'list_models');
      expect(capped.suite.hosts.runs!.sessionCount()).toBe(2);
      const third = await capped.client('runs', key, ELICIT, 'legacy');
      expect(capped.suite.hosts.runs!.sessionCount()).toBe(2);
      await expect(first.listTools()).rejects.toThrow(/send initialize again/);
      await ok(second, 'list_models');
      await ok(third, 'list_models');
      // another key has its own allowance
      const other = await capped.client('runs', (await capped.user(['read'])).key, ELICIT, 'legacy');
      await ok(other, 'list_models');
      expect(capped.suite.hosts.runs!.sessionCount()).toBe(3);
    } finally {
      await capped.close();
    }
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
