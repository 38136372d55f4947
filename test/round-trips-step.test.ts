// Database round trips of one advance_run step (shared/db/round-trips.ts counts them): a
// minute replay of 10 symbols with positions, attached exits, a resting limit and active
// rules makes at most 6 with the key cached, BEGIN and COMMIT included: the locks, the
// step's state read in one round trip, the pure decision (domain/clock-step.ts), and
// everything that changes written in one round trip.
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

// Simulated symbols no test imports: a shared Postgres (test:services) serves them simulated too.
const SYMBOLS = ['AMZN', 'GOOGL', 'META', 'TSLA', 'V', 'UNH', 'XOM', 'JNJ', 'PG', 'MA'];

/** The fewest round trips over n calls: a pool prepares each statement once per connection. */
async function warmTrips(n: number, f: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < n; i++) best = Math.min(best, (await t.suite.deps.db.roundTrips.measure(f)).roundTrips);
  return best;
}

describe('replay step round trips', () => {
  it('one advance_run step of 10 symbols on minute bars makes at most 6 round trips, BEGIN and COMMIT included', async () => {
    const { key } = await t.user();
    const [trade, runs, rules] = await Promise.all([t.client('trade', key), t.client('runs', key), t.client('rules', key)]);
    const model = await ok(runs, 'create_model', { name: 'rt-step', initial_cash: 1_000_000, max_orders_per_minute: 10_000 });
    await ok(rules, 'create_rule', { model_id: model.model_id, rule_name: 'Trail 30%', rule_description: '', rule_category: 'stop_loss', enforcement_params: { trailing_stop_pct: 0.3 } });
    await ok(rules, 'create_rule', { model_id: model.model_id, rule_name: 'Flat by 15:55', rule_description: '', rule_category: 'timing', enforcement_params: { flatten_by: '15:55' } });
    await ok(rules, 'create_rule', { model_id: model.model_id, rule_name: 'Loss limit', rule_description: '', rule_category: 'risk', enforcement_params: { daily_loss_limit_pct: 0.5 } });
    const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-03-12T14:00:00Z', end: '2025-03-12T19:00:00Z', symbols: SYMBOLS });
    for (const symbol of SYMBOLS.slice(0, 5)) {
      const price = (await ok(trade, 'buy', { model_id: model.model_id, symbol, quantity: 10 })).fill_price as number;
      // attached exits far from the price: the steps below check them without firing
      await ok(trade, 'buy', { model_id: model.model_id, symbol, quantity: 1, stop_loss: Math.round(price * 50) / 100, take_profit: Math.round(price * 200) / 100 });
    }
    const quote = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'PG', quantity: 1 });
    const resting = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'PG', quantity: 5, order_type: 'limit', limit_price: Math.round(quote.fill_price * 30) / 100 });
    expect(resting.status).toBe('open');
    const step = async () => {
      const r = await ok(runs, 'advance_run', { run_id: run.run_id });
      expect(r.steps_taken).toBe(1);
      expect(Object.keys(r.symbols)).toHaveLength(10);
      expect(r.exits_triggered).toEqual([]);
    };
    for (let i = 0; i < 4; i++) await step(); // warm: statements prepared, key and market blocks cached
    const n = await warmTrips(12, step);
    expect(n).toBeLessThanOrEqual(6);
  });
});
