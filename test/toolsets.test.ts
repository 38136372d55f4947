// Toolsets (AIBT_TOOLSETS, aibt stdio --toolsets): a deployment serves only the chosen groups'
// tools, and an unknown group is refused at start in one sentence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../shared/config.js';
import { parseToolsets } from '../shared/mcp/toolsets.js';
import { bootSuite, type TestSuite } from './harness.js';

let t: TestSuite;
let key: string;
beforeAll(async () => {
  t = await bootSuite({ env: { AIBT_TOOLSETS: 'trading,market' } });
  ({ key } = await t.user());
}, 120_000);
afterAll(() => t?.close());

const names = async (server: 'trade' | 'price' | 'runs') => (await (await t.client(server, key)).listTools()).tools.map((x) => x.name);

describe('toolsets', () => {
  it('serves only the chosen groups: trading without the admin controls, market whole, runs nothing', async () => {
    const trade = await names('trade');
    expect(trade).toContain('buy');
    expect(trade).toContain('get_portfolio');
    for (const admin of ['approve_order', 'reject_order', 'halt_trading', 'resume_trading']) expect(trade).not.toContain(admin);
    expect(await names('price')).toEqual(['get_price', 'get_bars', 'get_indicators', 'get_market_status', 'list_symbols']);
    expect(await names('runs')).toEqual([]);
  });

  it('reads all, empty and lists; refuses an unknown set in one sentence', () => {
    expect(parseToolsets(undefined).size).toBe(6);
    expect(parseToolsets('all').size).toBe(6);
    expect([...parseToolsets(' Trading , admin ')]).toEqual(['trading', 'admin']);
    expect(() => loadConfig({ AIBT_TOOLSETS: 'trading,orders' })).toThrow(
      "Environment variable AIBT_TOOLSETS is invalid: Unknown toolset 'orders': choose from trading, market, rules, runs, analysis, admin (or all).",
    );
  });
});
