// Every tool schema of every server compiles in Ajv's JSON Schema 2020-12 mode (the MCP
// default) and draft-07 mode, and declares no draft-07 `$schema`; a validating client accepts
// what the server accepts (a lowercase ticker).
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_NAMES } from '../shared/config.js';
import { bootSuite, call, ok, type TestSuite } from './harness.js';

let t: TestSuite;
beforeAll(async () => {
  t = await bootSuite();
});
afterAll(() => t?.close());

describe('tool schemas', () => {
  it('compile in Ajv 2020-12 and draft-07 modes, with no draft-07 $schema', async () => {
    const { key } = await t.user(['read']);
    let compiled = 0;
    for (const server of SERVER_NAMES) {
      const client = await t.client(server, key);
      const { tools } = await client.listTools();
      for (const tool of tools) {
        for (const [which, schema] of [['input', tool.inputSchema], ['output', tool.outputSchema]] as const) {
          if (!schema) continue;
          const where = `${server}.${tool.name} ${which}`;
          expect(JSON.stringify(schema), where).not.toContain('draft-07');
          // strict: an unknown keyword is an error, as in a strict client
          for (const ajv of [new Ajv2020({ strict: true, allowUnionTypes: true }), new Ajv({ strict: true, allowUnionTypes: true })]) {
            expect(() => ajv.compile(schema), where).not.toThrow();
          }
          compiled++;
        }
      }
    }
    expect(compiled).toBeGreaterThan(60);
  });

  it('lets a client that checks patterns send a lowercase ticker, which the server upper-cases', async () => {
    const client = await t.client('price', (await t.user(['read'])).key);
    const { tools } = await client.listTools();
    const getPrice = tools.find((x) => x.name === 'get_price')!;
    const validate = new Ajv2020({ strict: false }).compile(getPrice.inputSchema);
    const args = { symbol: 'aapl', at: '2025-06-10T15:00:00Z' };
    expect(validate(args), JSON.stringify(validate.errors)).toBe(true);
    expect((await ok(client, 'get_price', args)).symbol).toBe('AAPL');
    // a ticker's shape is not listed (it would cost every agent tokens), but the server refuses a non-ticker in one sentence
    expect(getPrice.inputSchema.properties?.symbol).not.toHaveProperty('pattern');
    const refused = await call(client, 'get_price', { symbol: '1abc', at: '2025-06-10T15:00:00Z' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toBe('Invalid arguments for get_price: symbol must be a ticker such as AAPL or BRK.B (letters, digits, . or -).');
  });
});
