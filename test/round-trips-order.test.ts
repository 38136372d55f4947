// Database round trips of a market order (shared/db/round-trips.ts counts them): at most 4
// with the key cached, BEGIN and COMMIT included: the locked state read in one round trip,
// the pure decision, everything that changes written in one round trip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesServer } from '../servers/rules/server.js';
import { runsServer } from '../servers/runs/server.js';
import { tradeServer } from '../servers/trade/server.js';
import { bootSuite, ok, type TestSuite } from './harness.js';

let t: TestSuite;
beforeAll(async () => {
  t = await bootSuite({ specs: [tradeServer, runsServer, rulesServer] });
});
afterAll(() => t?.close());

/** The fewest round trips over n calls: a pool prepares each statement once per connection. */
async function warmTrips(n: number, f: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < n; i++) best = Math.min(best, (await t.suite.deps.db.roundTrips.measure(f)).roundTrips);
  return best;
}

describe('order round trips', () => {
  it('a market order on a model with rules and a position makes at most 4 round trips, BEGIN and COMMIT included', async () => {
    const { key } = await t.user();
    const [trade, runs, rules] = await Promise.all([t.client('trade', key), t.client('runs', key), t.client('rules', key)]);
    const model = await ok(runs, 'create_model', { name: 'rt-order', initial_cash: 100_000, max_orders_per_minute: 10_000 });
    await ok(rules, 'create_rule', { model_id: model.model_id, rule_name: 'Max 20%', rule_description: '', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.2 } });
    await ok(rules, 'create_rule', { model_id: model.model_id, rule_name: 'Loss limit', rule_description: '', rule_category: 'risk', enforcement_params: { daily_loss_limit_pct: 0.5, max_positions: 5 } });
    await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-03-12T14:00:00Z', end: '2025-03-12T20:00:00Z', symbols: ['JPM', 'KO'] });
    await ok(trade, 'buy', { model_id: model.model_id, symbol: 'KO', quantity: 3 }); // a second position to mark
    let held = 0;
    const order = async () => {
      const side = held++ % 2 === 0 ? 'buy' : 'sell';
      const r = await ok(trade, side, { model_id: model.model_id, symbol: 'JPM', quantity: 2, reasoning: 'round-trip test' });
      expect(r.status).toBe('filled');
    };
    for (let i = 0; i < 4; i++) await order(); // warm: statements prepared, key and market blocks cached
    expect(await warmTrips(12, order)).toBeLessThanOrEqual(4);
  });
});
