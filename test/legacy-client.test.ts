// The SDK v1 client (@modelcontextprotocol/sdk 1.32.2, a 2025-era client that initializes) and
// an SDK v2 client in auto mode still trade through the v2 servers: create a model, start a
// replay, buy, advance, read the portfolio.
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, newClient, type TestSuite } from './harness.js';

let t: TestSuite;
let key: string;
beforeAll(async () => {
  t = await bootSuite();
  ({ key } = await t.user());
}, 120_000);
afterAll(() => t?.close());

type Caller = { callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<unknown> };
async function ok(c: Caller, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const r = (await c.callTool({ name, arguments: args })) as { structuredContent?: any; isError?: boolean; content?: { text?: string }[] };
  if (r.isError) throw new Error(`${name}: ${r.content?.[0]?.text}`);
  return r.structuredContent;
}

async function tradeADay(connect: (server: 'runs' | 'trade') => Promise<Caller>, name: string) {
  const runs = await connect('runs');
  const trade = await connect('trade');
  const model = await ok(runs, 'create_model', { name, initial_cash: 10_000 });
  const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-13', symbols: ['KO'] });
  const bought = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'KO', quantity: 3 });
  expect(bought.status).toBe('filled');
  await ok(runs, 'advance_run', { run_id: run.run_id });
  const p = await ok(trade, 'get_portfolio', { model_id: model.model_id });
  expect(p.positions.find((x: any) => x.symbol === 'KO').quantity).toBe(3);
}

describe('older and negotiating clients', () => {
  it('the SDK v1 1.32.2 client (2025 era) trades a replay day', async () => {
    const v1 = async (server: 'runs' | 'trade') => {
      const c = new V1Client({ name: 'v1', version: '1.32.2' });
      await c.connect(new V1Transport(new URL(t.suite.urls[server]!), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
      expect(c.getServerVersion()?.name).toBe(`aibt-${server}`);
      return c;
    };
    await tradeADay(v1, 'v1 client');
  });

  it('an SDK v2 client in auto mode negotiates 2026-07-28 and trades a replay day', async () => {
    const eras: (string | undefined)[] = [];
    const auto = async (server: 'runs' | 'trade') => {
      const c = await t.client(server, key, {}, 'auto');
      eras.push(c.getNegotiatedProtocolVersion());
      return c;
    };
    await tradeADay(auto, 'auto client');
    expect(eras).toEqual(['2026-07-28', '2026-07-28']);
  });
});

describe('aibt stdio in both eras', () => {
  it.each(['modern', 'legacy'] as const)('a %s SDK v2 client lists and calls tools over aibt stdio (built dist)', async (era) => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-stdio-era-'));
    const client = newClient(era);
    try {
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [path.join(root, 'dist/bin/aibt.js'), 'stdio', '--servers', 'runs,price', '--toolsets', 'runs,market'],
          env: { ...(process.env as Record<string, string>), AIBT_DATA_DIR: dataDir, AIBT_KEY: '', AIBT_BOOTSTRAP_KEY: '', DATABASE_URL: '', REDIS_URL: '' },
          stderr: 'pipe',
        }),
      );
      expect(client.getNegotiatedProtocolVersion()).toBe(era === 'modern' ? '2026-07-28' : '2025-11-25');
      const names = (await client.listTools()).tools.map((x) => x.name);
      expect(names).toContain('create_model');
      expect(names).toContain('get_price');
      const model = await ok(client, 'create_model', { name: `stdio ${era}` });
      expect(model.model_id).toBeGreaterThan(0);
    } finally {
      await client.close().catch(() => {});
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
