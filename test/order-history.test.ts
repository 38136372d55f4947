// Constant-cost orders (issue 19 item 2): an order after 10,000 earlier orders makes the same
// database round trips and runs the same statements as the first ones, its state read touches
// a handful of rows (not the run's history), and the run's trade counters (migration 018)
// equal what counting the fills gives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesServer } from '../servers/rules/server.js';
import { runsServer } from '../servers/runs/server.js';
import { tradeServer } from '../servers/trade/server.js';
import type { Tx } from '../shared/db/database.js';
import { readOrderBook } from '../shared/store/order-book.js';
import { bootSuite, ok, type TestSuite } from './harness.js';

let t: TestSuite;
beforeAll(async () => {
  t = await bootSuite({ specs: [tradeServer, runsServer, rulesServer] });
});
afterAll(() => t?.close());

/** The fewest round trips and statements over n calls: a pool prepares each statement once per connection. */
async function warmCost(n: number, f: () => Promise<unknown>): Promise<{ roundTrips: number; statements: number }> {
  let roundTrips = Infinity;
  let statements = Infinity;
  for (let i = 0; i < n; i++) {
    const m = await t.suite.deps.db.roundTrips.measure(f);
    roundTrips = Math.min(roundTrips, m.roundTrips);
    statements = Math.min(statements, m.statements);
  }
  return { roundTrips, statements };
}

/**
 * Rows the order path's state read (readOrderBook) fetches from the history tables (orders,
 * fills), from the transaction's own table statistics. Only those two: the other tables it reads
 * (models, runs, rules, positions) do not grow with the history, and on a Postgres other test
 * files share at once, their rows added between two readings would count (CI: 20 then 50).
 */
async function rowsReadByOrderBook(userId: number, modelId: number): Promise<number> {
  const read = (tx: Tx) => tx`
    select coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0)::int as n
    from pg_stat_xact_user_tables where relname in ('orders', 'fills')`;
  return t.suite.deps.sql.begin(async (tx) => {
    const before = await read(tx);
    await readOrderBook(tx, userId, modelId, { clientOrderId: 'never-used', throttle: true, expire: true });
    const after = await read(tx);
    return (after[0]!.n as number) - (before[0]!.n as number);
  });
}

async function counters(runId: number) {
  const [r] = await t.suite.deps.sql`
    select r.trades_in_run, r.trades_day::text as trades_day, r.trades_on_day,
           (select count(*)::int from fills where run_id = r.id) as fills,
           (select count(*)::int from fills where run_id = r.id and (clock at time zone 'America/New_York')::date = r.trades_day) as fills_on_day
    from runs r where r.id = ${runId}`;
  return r!;
}

describe('orders after a long history', () => {
  it('cost the same round trips and statements after 10,000 earlier orders, and read no history', async () => {
    const { key, name } = await t.user();
    const [{ id: userId }] = await t.suite.deps.sql`select id from users where name = ${name}`;
    const [trade, runs, rules] = await Promise.all([t.client('trade', key), t.client('runs', key), t.client('rules', key)]);
    const model = await ok(runs, 'create_model', { name: 'history', initial_cash: 1_000_000, max_orders_per_minute: 10_000 });
    await ok(rules, 'create_rule', { model_id: model.model_id, rule_name: 'Max 20%', rule_description: '', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.2 } });
    await ok(rules, 'create_rule', { model_id: model.model_id, rule_name: 'Trade caps', rule_description: '', rule_category: 'risk', enforcement_params: { max_trades_per_day: 1_000_000, max_trades_per_run: 1_000_000 } });
    const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-03-12T14:00:00Z', end: '2025-03-12T20:00:00Z', symbols: ['JPM', 'KO'] });
    await ok(trade, 'buy', { model_id: model.model_id, symbol: 'KO', quantity: 3 });
    let held = 0;
    const order = async () => {
      const side = held++ % 2 === 0 ? 'buy' : 'sell';
      const r = await ok(trade, side, { model_id: model.model_id, symbol: 'JPM', quantity: 2, reasoning: 'history test' });
      expect(r.status).toBe('filled');
    };
    for (let i = 0; i < 4; i++) await order(); // warm: statements prepared, key and market blocks cached
    const fresh = await warmCost(8, order);
    const freshRows = await rowsReadByOrderBook(userId, model.model_id);

    // 10,000 earlier orders with their fills, spread over the days before the run's clock (the
    // newest first, so the trigger also meets fills of days older than its latest day).
    await t.suite.deps.sql`
      with o as (
        insert into orders (run_id, model_id, side, symbol, quantity, order_type, status, source, clock, created_at)
        select ${run.run_id}, ${model.model_id}, case when g % 2 = 0 then 'buy' else 'sell' end, 'JPM', 1, 'market', 'filled', 'agent',
               timestamptz '2025-03-12T14:00:00Z' - g * interval '45 seconds', now() - interval '2 hours' - g * interval '1 second'
        from generate_series(1, 10000) g
        returning id, side, clock)
      insert into fills (order_id, run_id, symbol, side, quantity, price, cash_change, clock)
      select id, ${run.run_id}, 'JPM', side, 1, 100, 0, clock from o order by clock desc`;
    await t.suite.deps.sql`analyze orders; analyze fills`.simple(); // as autovacuum does on a server after this many rows

    const c = await counters(run.run_id);
    expect(c.fills).toBeGreaterThan(10_000);
    expect(c.trades_in_run).toBe(c.fills);
    expect(c.trades_day).toBe('2025-03-12');
    expect(c.trades_on_day).toBe(c.fills_on_day);
    // 10:00 New York (EDT) back to midnight at 45 s apart: 36,000 / 45 = 800 seeded, plus the
    // test's 13 orders (one KO, 4 warm, 8 measured)
    expect(c.fills_on_day).toBe(813);
    expect(c.fills_on_day).toBeLessThan(c.fills);

    const after = await warmCost(8, order);
    expect(after).toEqual(fresh);
    expect(fresh.roundTrips).toBeLessThanOrEqual(4);
    const afterRows = await rowsReadByOrderBook(userId, model.model_id);
    // Of the history, the state read touches the last minute's orders and a client_order_id
    // lookup: the 16 orders placed above at most, never the 10,000 earlier ones.
    console.log(JSON.stringify({ case: 'order book rows read', fresh: freshRows, after_10k: afterRows }));
    expect(afterRows).toBeLessThanOrEqual(freshRows + 16);

    const end = await counters(run.run_id);
    expect(end.trades_in_run).toBe(end.fills);
    expect(end.trades_on_day).toBe(end.fills_on_day);
  }, 300_000); // writing 10,000 orders into the embedded database takes a while on a busy machine
});
