// Real MCP clients against the suite: the SDK client and LangChain's MultiServerMCPClient
// (@langchain/mcp-adapters) keep working across a suite restart and past the idle expiry
// (they declare no elicitation, so they are served without a session), and LangChain
// trades a replay day over all five servers, with no LLM in the loop.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { afterAll, describe, expect, it } from 'vitest';
import { toCents } from '../shared/domain/money.js';
import { SERVER_NAMES, type ServerName } from '../shared/config.js';
import { bootSuite, ok, type TestSuite } from './harness.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-clients-'));
const open: TestSuite[] = [];
afterAll(async () => {
  for (const s of open) await s.close().catch(() => {});
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function langchain(urls: Partial<Record<ServerName, string>>, key: string) {
  return new MultiServerMCPClient({
    throwOnLoadError: true,
    prefixToolNameWithServerName: false,
    useStandardContentBlocks: true,
    mcpServers: Object.fromEntries(
      Object.entries(urls).map(([name, url]) => [name, { transport: 'http' as const, url: url!, headers: { Authorization: `Bearer ${key}` } }]),
    ),
  });
}

/** Invokes a LangChain tool as an agent would (a tool call) and returns the tool's structuredContent. */
async function lc(tools: StructuredToolInterface[], name: string, args: Record<string, unknown>): Promise<any> {
  const tool = tools.find((x) => x.name === name);
  if (!tool) throw new Error(`LangChain loaded no tool ${name}`);
  const message = await tool.invoke({ type: 'tool_call', id: randomUUID(), name, args });
  const artifact = (message.artifact ?? []) as { type: string; data?: unknown }[];
  const structured = artifact.find((a) => a.type === 'mcp_structured_content');
  if (!structured) throw new Error(`${name} returned no structured content: ${JSON.stringify(message.content)}`);
  return structured.data;
}

describe('clients without elicitation', () => {
  it('keep working across a suite restart and past the idle expiry (SDK and LangChain)', async () => {
    const first = await bootSuite({ onDisk: true, dataDir });
    open.push(first);
    const { key } = await first.user(['read', 'trade', 'rules:write']);
    const ports = Object.fromEntries(Object.entries(first.suite.urls).map(([n, u]) => [n, Number(new URL(u!).port)]));
    // the SDK client is this test's own, so closing the first suite leaves it open
    const sdk = new Client({ name: 'survivor', version: '1.0.0' });
    await sdk.connect(new StreamableHTTPClientTransport(new URL(first.suite.urls.runs!), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
    const model = await ok(sdk, 'create_model', { name: 'Survivor' });
    const lang = langchain({ runs: first.suite.urls.runs }, key);
    const tools = await lang.getTools();
    expect((await lc(tools, 'get_model', { model_id: model.model_id })).name).toBe('Survivor');
    expect(first.suite.hosts.runs!.sessionCount()).toBe(0); // nothing held for them

    await first.close();
    open.pop();
    const second = await bootSuite({ onDisk: true, dataDir, ports });
    open.push(second);
    expect(second.suite.urls.runs).toBe(first.suite.urls.runs);
    // same client objects, no reconnect: the next call simply works
    expect((await ok(sdk, 'get_model', { model_id: model.model_id })).name).toBe('Survivor');
    expect((await lc(tools, 'get_model', { model_id: model.model_id })).name).toBe('Survivor');

    // an idle expiry far in the future closes every session; these clients hold none
    await second.suite.hosts.runs!.expireIdle(0, Date.now() + 86_400_000 * 30);
    expect((await ok(sdk, 'list_models')).models.map((m: any) => m.name)).toEqual(['Survivor']);
    expect((await lc(tools, 'list_models', {})).models).toHaveLength(1);
    await lang.close();
    await sdk.close();
  }, 180_000);
});

describe('LangChain MultiServerMCPClient over all five servers', () => {
  it('trades a replay day with the day_trader template, no LLM, and reconciles', async () => {
    const t = await bootSuite();
    open.push(t);
    const { key } = await t.user(['read', 'trade', 'rules:write', 'approve']);
    const lang = langchain(t.suite.urls, key);
    const byServer = await Promise.all(SERVER_NAMES.map(async (s) => [s, await lang.getTools(s)] as const));
    for (const [server, list] of byServer) if (server !== 'analyst') expect(list.length, server).toBeGreaterThan(3);
    const tools = byServer.flatMap(([, list]) => list);

    const model = await lc(tools, 'create_model', { name: 'LangChain day', initial_cash: 100_000 });
    await lc(tools, 'apply_template', { model_id: model.model_id, template: 'day_trader' });
    const run = await lc(tools, 'start_run', {
      model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-06-10', end: '2025-06-10', symbols: ['JPM', 'KO'],
    });
    // 09:30-09:35 is the template's blackout: step past it first
    await lc(tools, 'advance_run', { run_id: run.run_id, steps: 10 });
    const price = await lc(tools, 'get_price', { symbol: 'jpm', run_id: run.run_id }); // lowercase: the server upper-cases
    expect(price.symbol).toBe('JPM');
    const qty = Math.floor((100_000 * 0.1) / price.price);
    const bought = await lc(tools, 'buy', { model_id: model.model_id, symbol: 'JPM', quantity: qty, reasoning: 'LangChain opening position' });
    expect(bought.status).toBe('filled');
    let step: any;
    do step = await lc(tools, 'advance_run', { run_id: run.run_id, steps: 390 });
    while (!step.done);
    expect(step.final_stats).toMatchObject({ total_trades: expect.any(Number), final_value: expect.any(Number) });
    const portfolio = await lc(tools, 'get_portfolio', { run_id: run.run_id });
    expect(portfolio.positions).toEqual([]); // flattened by 15:55
    const { orders } = await lc(tools, 'list_orders', { run_id: run.run_id });
    const filled = orders.filter((o: any) => o.status === 'filled');
    expect(filled.length).toBeGreaterThanOrEqual(2);
    const cashCents = toCents(100_000) + filled.reduce((s: number, o: any) => s + toCents(o.fill.cash_change), 0);
    expect(toCents(portfolio.cash)).toBe(cashCents);
    expect(toCents(step.final_stats.final_value)).toBe(cashCents);
    await lang.close();
  }, 180_000);
});
