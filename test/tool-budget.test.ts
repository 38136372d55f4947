// What tools/list costs an agent, measured on what each server really lists (a real SDK v2
// client): every input parameter described in words (three or more), no exclusiveMinimum/
// exclusiveMaximum anywhere (Gemini refuses them), and the o200k tokens of names, descriptions
// and input schemas printed per server (gpt-tokenizer, the o200k_base encoding of GPT-4o and
// later). Issue 17's budget of TOKEN_BUDGET per server is NOT met yet on trade, runs and analyst
// (see /work/notes/h17.md), so it is printed beside the figure, not asserted; assert it here once
// the lists are shortened.
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_NAMES } from '../shared/config.js';
import { bootSuite, type TestSuite } from './harness.js';

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
  it.each(SERVER_NAMES.map((s) => [s]))('%s: every parameter described, no exclusive bounds, tokens printed', async (server) => {
    const client = await t.client(server, key);
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(3);
    const tokens = encode(JSON.stringify(tools.map((x) => ({ name: x.name, description: x.description, inputSchema: x.inputSchema })))).length;
    console.log(`${server}: ${tools.length} tools, ${tokens} o200k tokens (budget ${TOKEN_BUDGET}${tokens > TOKEN_BUDGET ? ', OVER' : ''})`);
    expect(tokens).toBeGreaterThan(0);
    expect(findKeys(tools, (k) => k === 'exclusiveMinimum' || k === 'exclusiveMaximum')).toEqual([]);
    const vague = tools.flatMap((x) =>
      Object.entries((x.inputSchema.properties ?? {}) as Record<string, { description?: string }>)
        .filter(([, p]) => (p.description ?? '').trim().split(/\s+/).length < 3)
        .map(([name, p]) => `${x.name}.${name}: ${JSON.stringify(p.description ?? null)}`),
    );
    expect(vague, 'input parameters without a description of three words or more').toEqual([]);
  });
});
