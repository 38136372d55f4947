// A busy run (350 minute steps on three symbols, 60 orders, 124 long reasoning entries) and
// then every read tool of every server: each result stays under the documented 16 KB cap,
// and paging with next_cursor walks every row exactly once, in ascending order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { RESULT_CAP_BYTES, resultBytes } from '../shared/mcp/paging.js';
import { bootSuite, call, ok, type TestSuite } from './harness.js';
import type { ServerName } from '../shared/config.js';

let t: TestSuite;
beforeAll(async () => {
  t = await bootSuite();
});
afterAll(() => t?.close());

async function raw(client: Client, name: string, args: Record<string, unknown>) {
  return (await client.callTool({ name, arguments: args })) as { content?: unknown; structuredContent?: any; isError?: boolean };
}

async function pageAll(client: Client, tool: string, args: Record<string, unknown>, field: string, key: string) {
  const seen: unknown[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const r = await ok(client, tool, { ...args, ...(cursor ? { cursor } : {}) });
    seen.push(...r[field].map((x: any) => x[key]));
    pages++;
    if (!r.truncated) {
      expect(r.next_cursor).toBeNull();
      return { seen, pages };
    }
    cursor = r.next_cursor;
  }
}

describe('bounded results on a busy run', () => {
  it('keeps every tool result under 16 KB and pages lists in ascending order', async () => {
    const { key } = await t.user();
    const names: ServerName[] = ['runs', 'trade', 'price', 'rules', 'analyst'];
    const c = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await t.client(n, key)] as const))) as Record<ServerName, Client>;
    const model = await ok(c.runs, 'create_model', { name: 'Busy', initial_cash: 1_000_000 });
    const run = await ok(c.runs, 'start_run', {
      model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-06-10', end: '2025-06-11', symbols: ['TSLA', 'HD', 'GOOGL'],
    });

    // 350 steps in one call: before, 99 KB of bars; now a count and the latest bar per symbol
    const adv = await raw(c.runs, 'advance_run', { run_id: run.run_id, steps: 350 });
    expect(resultBytes(adv)).toBeLessThan(RESULT_CAP_BYTES);
    expect(adv.structuredContent.symbols.TSLA.bars_closed).toBe(350);
    const withBars = await raw(c.runs, 'advance_run', { run_id: run.run_id, steps: 30, include_bars: true });
    expect(resultBytes(withBars)).toBeLessThan(RESULT_CAP_BYTES);
    expect(withBars.structuredContent.bars.TSLA.length).toBeGreaterThan(0);

    for (let i = 0; i < 60; i++) {
      await ok(c.trade, i % 2 ? 'sell' : 'buy', { model_id: model.model_id, symbol: ['TSLA', 'HD', 'GOOGL'][i % 3], quantity: 1 + (i % 5), reasoning: `Order ${i}: ${'because the tape says so; '.repeat(6)}` });
    }
    const long = 'A considered view of the market, the rules and the position sizing for this step. '.repeat(4);
    for (let i = 0; i < 124; i++) await ok(c.runs, 'log_reasoning', { run_id: run.run_id, reasoning_type: 'analysis', content: `${i}: ${long}` });

    const orderIds = await pageAll(c.trade, 'list_orders', { run_id: run.run_id, limit: 500 }, 'orders', 'order_id');
    expect(orderIds.seen).toHaveLength(60);
    expect(orderIds.pages).toBeGreaterThan(1); // the byte budget cut pages before the limit
    expect([...orderIds.seen]).toEqual([...orderIds.seen].sort((a: any, b: any) => a - b));
    const reasoning = await pageAll(c.runs, 'get_reasoning', { run_id: run.run_id, limit: 500 }, 'entries', 'id');
    expect(reasoning.seen.length).toBeGreaterThanOrEqual(124);
    expect(new Set(reasoning.seen).size).toBe(reasoning.seen.length);
    expect([...reasoning.seen]).toEqual([...reasoning.seen].sort((a: any, b: any) => a - b));
    const bars = await pageAll(c.price, 'get_bars', { symbol: 'TSLA', timespan: 'minute', run_id: run.run_id, from: '2025-06-10', limit: 1000 }, 'bars', 't');
    expect(bars.seen).toHaveLength(380);
    expect([...bars.seen]).toEqual([...bars.seen].sort());
    const sym = await pageAll(c.price, 'list_symbols', { limit: 3 }, 'symbols', 'symbol');
    expect([...sym.seen]).toEqual([...sym.seen].sort());
    expect(new Set(sym.seen).size).toBe(sym.seen.length);
    const other = await ok(c.runs, 'create_model', { name: 'Many runs' });
    for (let i = 0; i < 4; i++) {
      const r = await ok(c.runs, 'start_run', { model_id: other.model_id, kind: 'replay', timespan: 'day', start: '2025-06-02', end: '2025-06-06', symbols: ['TSLA'] });
      await ok(c.runs, 'end_run', { run_id: r.run_id });
    }
    const runNumbers = await pageAll(c.runs, 'list_runs', { model_id: other.model_id, limit: 3 }, 'runs', 'run_number');
    expect(runNumbers.seen).toEqual([1, 2, 3, 4]);
    const models = await pageAll(c.runs, 'list_models', { limit: 1 }, 'models', 'model_id');
    expect(models).toEqual({ seen: [model.model_id, other.model_id], pages: 2 });
    expect((await call(c.trade, 'list_orders', { run_id: run.run_id, cursor: 'nonsense' })).text).toBe(
      'cursor is not a next_cursor this tool returned; omit it to start from the first page.',
    );

    // every read tool of every server with the busy run's ids, at their default and largest limits
    const known: Record<string, unknown> = {
      model_id: model.model_id, run_id: run.run_id, symbol: 'TSLA', timespan: 'minute',
      indicators: [{ name: 'sma', period: 20 }], template: 'day_trader',
    };
    let measured = 0;
    let largest = { tool: '', bytes: 0 };
    for (const name of names) {
      const { tools } = await c[name].listTools();
      for (const tool of tools) {
        if (!tool.annotations?.readOnlyHint) continue;
        const props = Object.keys((tool.inputSchema.properties ?? {}) as object);
        const args = Object.fromEntries(props.filter((p) => p in known).map((p) => [p, known[p]]));
        const limitMax = (tool.inputSchema.properties as any)?.limit?.maximum;
        for (const extra of [{}, ...(limitMax ? [{ limit: limitMax }] : [])]) {
          const r = await raw(c[name], tool.name, { ...args, ...extra });
          const bytes = resultBytes(r);
          expect(bytes, `${name}.${tool.name}`).toBeLessThan(RESULT_CAP_BYTES);
          if (!r.isError) measured++;
          if (bytes > largest.bytes) largest = { tool: `${name}.${tool.name}`, bytes };
        }
      }
    }
    expect(measured).toBeGreaterThan(15);
    process.stderr.write(`largest read result on the busy run: ${largest.tool} ${largest.bytes} bytes\n`);
  });
});
