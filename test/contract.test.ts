// One contract test run over all five servers: every tool is listed with a schema,
// a description and all four annotations; /health and /metrics answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_NAMES } from '../shared/config.js';
import { bootSuite, type TestSuite } from './harness.js';

let t: TestSuite;
let key: string;
beforeAll(async () => {
  t = await bootSuite();
  key = (await t.user()).key;
});
afterAll(() => t?.close());

describe.each(SERVER_NAMES)('%s server contract', (name) => {
  it('lists tools with input and output schemas, descriptions and truthful annotations', async () => {
    const client = await t.client(name, key);
    const { tools } = await client.listTools();
    expect(client.getServerVersion()?.name).toBe(`aibt-${name}`);
    const names = new Set<string>();
    const long: string[] = [];
    for (const tool of tools) {
      expect(tool.name).toMatch(/^[a-z][a-z_]*$/);
      expect(names.has(tool.name)).toBe(false);
      names.add(tool.name);
      expect(tool.description!.length, tool.name).toBeGreaterThan(10);
      if (tool.description!.length >= 400) long.push(`${tool.name} (${tool.description!.length})`);
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type, tool.name).toBe('object');
      const a = tool.annotations!;
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
        expect(typeof a[hint], `${tool.name}.${hint}`).toBe('boolean');
      }
      if (a.readOnlyHint) expect(a.destructiveHint, `${tool.name} is read-only`).toBe(false);
    }
    expect(long, 'descriptions of 400 characters or more').toEqual([]);
  });

  it('answers /health from the database and cache, and /metrics as Prometheus text', async () => {
    const base = t.suite.urls[name]!.replace(/\/mcp$/, '');
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', server: name, database: 'ok', cache: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('# TYPE aibt_tool_calls_total counter');
    expect(metrics).toContain(`aibt_mcp_sessions{server="${name}"}`);
  });

  it('refuses a request without a key with 401 and WWW-Authenticate', async () => {
    const res = await fetch(t.suite.urls[name]!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
});
