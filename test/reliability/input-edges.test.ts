// Input edges (issue 20 item 7): lone surrogates, denormal and sub-cent numbers, and nesting
// deeper than 64 levels are refused at the schema with one sentence and change nothing; the
// control-character check covers every depth; /health and /metrics are rate limited per address.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, call, ok, type TestSuite } from '../harness.js';

let t: TestSuite;
let key: string;
let runs: Client;
let trade: Client;
let modelId: number;

async function rowCounts(): Promise<Record<string, number>> {
  const tables = await t.suite.deps.sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
  const out: Record<string, number> = {};
  for (const { table_name } of tables) out[table_name] = ((await t.suite.deps.sql.unsafe(`select count(*)::int as n from "${table_name}"`))[0]!.n as number);
  return out;
}

beforeAll(async () => {
  t = await bootSuite({ env: { AIBT_RATE_LIMIT_PER_SEC: '0', AIBT_PROBES_PER_SEC: '20' } });
  ({ key } = await t.user());
  runs = await t.client('runs', key);
  trade = await t.client('trade', key);
  modelId = (await ok(runs, 'create_model', { name: 'edges', initial_cash: 10_000 })).model_id;
  await ok(runs, 'start_run', { model_id: modelId, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-13', symbols: ['AAPL'] });
});
afterAll(async () => t?.close());

/** A tools/call sent as raw JSON (a client library would not build 10,000 levels). */
async function rawCall(server: 'rules' | 'runs', name: string, argsJson: string): Promise<{ status: number; text: string; isError: boolean }> {
  const res = await fetch(t.suite.urls[server]!, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":${JSON.stringify(name)},"arguments":${argsJson}}}`,
  });
  const body = await res.text();
  const data = JSON.parse(/^data: (.*)$/m.exec(body)?.[1] ?? body);
  return { status: res.status, text: data.result?.content?.[0]?.text ?? data.error?.message, isError: data.result?.isError === true || !!data.error };
}

describe('input edges', () => {
  it('refuses each edge at the schema with one sentence, changing nothing', async () => {
    const before = await rowCounts();
    const cases: [Client, string, Record<string, unknown>, RegExp][] = [
      [runs, 'create_model', { name: 'x\ud800y', initial_cash: 1000 }, /^Invalid arguments for create_model: name: must be valid Unicode text: it holds a lone surrogate/],
      [runs, 'log_reasoning', { run_id: 1, reasoning_type: 'plan', content: 'dangling \udc00' }, /content: must be valid Unicode text: it holds a lone surrogate/],
      [runs, 'create_model', { name: 'denormal', initial_cash: 1e-320 }, /^Invalid arguments for create_model: initial_cash must be at least \$0\.01\.$/],
      [trade, 'buy', { model_id: modelId, symbol: 'AAPL', quantity: 1, order_type: 'limit', limit_price: 1e-320 }, /^Invalid arguments for buy: limit_price must be at least \$0\.0001\.$/],
      [trade, 'buy', { model_id: modelId, symbol: 'AAPL', quantity: 1, order_type: 'limit', limit_price: 150.005 }, /limit_price must be in whole cents \(\$0\.0001 steps below \$1\), the US equity tick \(SEC Rule 612\)\./],
      [trade, 'buy', { model_id: modelId, symbol: 'AAPL', quantity: 1, order_type: 'limit', limit_price: 0.00015 }, /limit_price must be in whole cents/],
      [trade, 'buy', { model_id: modelId, symbol: 'AAPL', quantity: 1, stop_loss: 99.999 }, /stop_loss must be in whole cents/],
    ];
    const sentences: string[] = [];
    for (const [c, name, args, expected] of cases) {
      const r = await call(c, name, args);
      sentences.push(r.text);
      expect(r.isError, `${name} ${r.text}`).toBe(true);
      expect(r.text).toMatch(expected);
      expect(r.text).not.toMatch(/internal error/);
    }
    const deep = (n: number, leaf: string) => '{"a":'.repeat(n) + leaf + '}'.repeat(n);
    const fields = `"model_id":${modelId},"rule_name":"deep","rule_category":"risk"`;
    const nested = await rawCall('rules', 'create_rule', `{${fields},"enforcement_params":${deep(10_000, '1')}}`);
    expect(nested.text).toBe('Invalid arguments for create_rule: enforcement_params: is nested deeper than 64 levels.');
    // a NUL 50 levels down (the check used to stop at 32)
    const nul = await rawCall('rules', 'create_rule', `{${fields},"enforcement_params":${deep(50, '"x\\u0000"')}}`);
    expect(nul.text).toMatch(/^Invalid arguments for create_rule: (enforcement_params(\.a)+: )?must not contain control characters such as NUL/);
    console.log(JSON.stringify({ case: 'input edges', refused: sentences.length + 2, sentences: [...sentences, nested.text, nul.text.slice(0, 80)] }));
    expect(await rowCounts()).toEqual(before);
    // the edges' valid neighbours still pass: a sub-dollar price on its $0.0001 tick, whole cents above
    expect((await call(trade, 'preview_order', { model_id: modelId, side: 'buy', symbol: 'AAPL', quantity: 1, order_type: 'limit', limit_price: 0.5001 })).isError).toBe(false);
    expect((await call(trade, 'preview_order', { model_id: modelId, side: 'buy', symbol: 'AAPL', quantity: 1, order_type: 'limit', limit_price: 150.01 })).isError).toBe(false);
  });

  it('rate limits /health and /metrics per address, and tools keep answering', async () => {
    const base = t.suite.urls.price!.replace(/\/mcp$/, '');
    for (const path of ['/health', '/metrics']) {
      const statuses = await Promise.all(Array.from({ length: 60 }, () => fetch(base + path).then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), body: await r.text() }))));
      const limited = statuses.filter((s) => s.status === 429);
      console.log(JSON.stringify({ case: `${path} flood`, requests: 60, ok: statuses.filter((s) => s.status === 200).length, limited: limited.length }));
      expect(statuses.filter((s) => s.status === 200).length).toBeGreaterThanOrEqual(20);
      expect(limited.length).toBeGreaterThan(0);
      expect(Number(limited[0]!.retry)).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(limited[0]!.body).error).toBe(`Too many ${path} requests from this address: at most 20 per second (AIBT_PROBES_PER_SEC). Retry after 1 s.`);
    }
    expect((await call(trade, 'get_portfolio', { model_id: modelId })).isError).toBe(false);
  });
});
