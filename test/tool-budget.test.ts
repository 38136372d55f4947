// What tools/list costs an agent, measured on what each server really lists (a real SDK v2
// client): at most TOKEN_BUDGET o200k tokens per server for names, descriptions and input
// schemas (gpt-tokenizer, the o200k_base encoding of GPT-4o and later; issue 17 item 5), every
// input parameter described in words (three or more), no exclusiveMinimum/exclusiveMaximum
// anywhere (Gemini refuses them). Over budget, the failure names the costliest tools.
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_NAMES } from '../shared/config.js';
import { bootSuite, call, type TestSuite } from './harness.js';

export const TOKEN_BUDGET = 2_500;

let t: TestSuite;
let key: string;
beforeAll(async () => {
  t = await bootSuite();
  ({ key } = await t.user());
});
afterAll(async () => t?.close());

/** Every key path in a JSON value where `test` holds. */
function findKeys(value: unknown, test: (key: string) => boolean, at = ''): string[] {
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [...(test(k) ? [`${at}${k}`] : []), ...findKeys(v, test, `${at}${k}.`)]);
}

describe('tools/list an agent can afford', () => {
  it.each(SERVER_NAMES.map((s) => [s]))('%s: within the token budget, every parameter described, no exclusive bounds', async (server) => {
    const client = await t.client(server, key);
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(3);
    const listed = tools.map((x) => ({ name: x.name, description: x.description, inputSchema: x.inputSchema }));
    const tokens = encode(JSON.stringify(listed)).length;
    console.log(`${server}: ${tools.length} tools, ${tokens} o200k tokens (budget ${TOKEN_BUDGET})`);
    const costliest = listed
      .map((x) => ({ tool: x.name, tokens: encode(JSON.stringify(x)).length }))
      .sort((a, b) => b.tokens - a.tokens)
      .slice(0, 5);
    expect(tokens, `${server} lists ${tokens} o200k tokens; costliest: ${JSON.stringify(costliest)}`).toBeLessThanOrEqual(TOKEN_BUDGET);
    expect(tokens).toBeGreaterThan(500); // a real list was measured
    expect(findKeys(tools, (k) => k === 'exclusiveMinimum' || k === 'exclusiveMaximum')).toEqual([]);
    const vague = tools.flatMap((x) =>
      Object.entries((x.inputSchema.properties ?? {}) as Record<string, { description?: string }>)
        .filter(([, p]) => (p.description ?? '').trim().split(/\s+/).length < 3)
        .map(([name, p]) => `${x.name}.${name}: ${JSON.stringify(p.description ?? null)}`),
    );
    expect(vague, 'input parameters without a description of three words or more').toEqual([]);
  });
});

describe('guards left out of tools/list (shared/mcp/schemas.ts unlisted)', () => {
  it('are still enforced, each with its one sentence', async () => {
    const client = await t.client('trade', key);
    const { tools } = await client.listTools();
    const buy = tools.find((x) => x.name === 'buy')!.inputSchema as { additionalProperties?: unknown; properties: Record<string, Record<string, unknown>> };
    expect(buy.additionalProperties).toBeUndefined();
    expect(buy.properties.model_id!.maximum).toBeUndefined();
    expect(buy.properties.limit_price!.maximum).toBeUndefined();
    expect((tools.find((x) => x.name === 'list_orders')!.inputSchema.properties as any).limit.maximum).toBe(500); // a bound an agent chooses within stays listed
    const args = { model_id: 1, symbol: 'AAPL', quantity: 1 };
    const refusals = await Promise.all([
      call(client, 'buy', { ...args, leverage: 2 }),
      call(client, 'buy', { ...args, model_id: 2_147_483_648 }),
      call(client, 'buy', { ...args, order_type: 'limit', limit_price: 2_000_000 }),
      call(client, 'buy', { ...args, quantity: 10_000_001 }),
      call(client, 'buy', { ...args, symbol: 'TOOLONGTICKER' }),
    ]);
    expect(refusals.map((r) => [r.isError, r.text])).toEqual([
      [true, 'Invalid arguments for buy: Unrecognized key: "leverage".'],
      [true, 'Invalid arguments for buy: model_id is out of range.'],
      [true, 'Invalid arguments for buy: limit_price must be at most 1,000,000.'],
      [true, 'Invalid arguments for buy: quantity must be at most 10,000,000 shares.'],
      [true, 'Invalid arguments for buy: symbol must be at most 10 characters (a ticker such as AAPL).'],
    ]);
  });
});
