// Order latency as a run's history grows (issue 19 item 2): p50 of a market order (one MCP
// client in this process, one call at a time, buy/sell alternating on a model with two rules
// incl. the trade caps) on three runs with 0, 10,000 and 100,000 earlier orders, measured
// interleaved, with the database round trips and statements per order. The earlier orders and
// their fills are written by SQL (then VACUUM ANALYZE, as autovacuum does on a server after so
// many rows, so it does not run during the measurement).
// On the embedded database, then on DATABASE_URL if set.
import { rulesServer } from '../servers/rules/server.js';
import { runsServer } from '../servers/runs/server.js';
import { tradeServer } from '../servers/trade/server.js';
import { ok, type TestSuite } from '../test/harness.js';
import { bootFor, pct, type Database } from './lib/server.js';

export interface HistoryFigures {
  db: Database;
  where: string;
  /** earlier orders → order p50 (ms), round trips and statements per order */
  points: { earlier: number; p50: number; roundTrips: number; statements: number }[];
}

const CALLS = Number(process.env.BENCH_HISTORY_CALLS ?? 200);
const SIZES = [0, 10_000, 100_000];

export async function measureHistory(db: Database): Promise<HistoryFigures> {
  const t = await bootFor(db, [tradeServer, runsServer, rulesServer]);
  try {
    const { key } = await t.user();
    const [trade, runs, rules] = await Promise.all([t.client('trade', key), t.client('runs', key), t.client('rules', key)]);
    const counter = t.suite.deps.db.roundTrips;
    // One model and run per history size, seeded first, then measured interleaved (one order on
    // each in turn, the order of the three rotating), so a change in the machine's load over the
    // measurement weighs on the three alike.
    const books: { earlier: number; modelId: number; i: number; lat: number[]; roundTrips: number; statements: number }[] = [];
    for (const earlier of SIZES) {
      const model = await ok(runs, 'create_model', { name: `bench-history-${earlier}`, initial_cash: 10_000_000, max_orders_per_minute: 10_000 });
      await ok(rules, 'create_rule', { model_id: model.model_id, rule_name: 'Max 20%', rule_description: '', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.2 } });
      await ok(rules, 'create_rule', { model_id: model.model_id, rule_name: 'Trade caps', rule_description: '', rule_category: 'risk', enforcement_params: { max_trades_per_day: 10_000_000, max_trades_per_run: 10_000_000 } });
      const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-03-12T14:00:00Z', end: '2025-03-12T20:00:00Z', symbols: ['JPM'] });
      if (earlier > 0) await seed(t, model.model_id, run.run_id, earlier);
      process.stderr.write(`  (${db}: run with ${earlier} earlier orders written)\n`);
      books.push({ earlier, modelId: model.model_id as number, i: 0, lat: [], roundTrips: 0, statements: 0 });
    }
    await t.suite.deps.sql`vacuum analyze orders`.simple(); // as autovacuum does on a server, not during the measurement
    await t.suite.deps.sql`vacuum analyze fills`.simple();
    const order = async (b: (typeof books)[number], record: boolean) => {
      const trips0 = counter.count;
      const stmts0 = counter.statements;
      const t0 = performance.now();
      await ok(trade, b.i++ % 2 === 0 ? 'buy' : 'sell', { model_id: b.modelId, symbol: 'JPM', quantity: 1 });
      if (!record) return;
      b.lat.push(performance.now() - t0);
      b.roundTrips += counter.count - trips0;
      b.statements += counter.statements - stmts0;
    };
    for (let k = 0; k < 20; k++) for (const b of books) await order(b, false); // warm
    for (let k = 0; k < CALLS; k++) {
      for (let j = 0; j < books.length; j++) await order(books[(j + k) % books.length]!, true);
    }
    const points = books.map((b) => ({ earlier: b.earlier, p50: pct(b.lat, 50), roundTrips: b.roundTrips / CALLS, statements: b.statements / CALLS }));
    return { db, where: t.suite.deps.db.where, points };
  } finally {
    await t.close();
  }
}

/**
 * `n` earlier filled orders of the run, 20 s apart before its clock, created over an hour ago
 * (outside the throttle's minute). The fills' counting trigger is off while they are written
 * (one statement updating the run's row 100k times walks an ever longer version chain) and the
 * counters are then set from the fills, as the migration's backfill does.
 */
async function seed(t: TestSuite, modelId: number, runId: number, n: number): Promise<void> {
  await t.suite.deps.sql`alter table fills disable trigger fills_count_trades`;
  await t.suite.deps.sql`
    with o as (
      insert into orders (run_id, model_id, side, symbol, quantity, order_type, status, source, clock, created_at)
      select ${runId}, ${modelId}, case when g % 2 = 0 then 'buy' else 'sell' end, 'JPM', 1, 'market', 'filled', 'agent',
             timestamptz '2025-03-12T14:00:00Z' - g * interval '20 seconds', now() - interval '1 hour' - g * interval '1 second'
      from generate_series(1, ${n}::int) g
      returning id, side, clock)
    insert into fills (order_id, run_id, symbol, side, quantity, price, cash_change, clock)
    select id, ${runId}, 'JPM', side, 1, 100, 0, clock from o`;
  await t.suite.deps.sql`alter table fills enable trigger fills_count_trades`;
  await t.suite.deps.sql`
    update runs r set trades_in_run = c.n, trades_on_day = c.today
    from (select count(*)::int as n,
                 count(*) filter (where (clock at time zone 'America/New_York')::date = ${'2025-03-12'}::date)::int as today
          from fills where run_id = ${runId}) c
    where r.id = ${runId}`;
}

export async function main(): Promise<HistoryFigures[]> {
  const out: HistoryFigures[] = [];
  for (const db of ['embedded', ...(process.env.DATABASE_URL ? ['postgres'] : [])] as Database[]) {
    const f = await measureHistory(db);
    process.stdout.write(`${f.where}: market order after N earlier orders of the run (${CALLS} calls each, one client)\n`);
    process.stdout.write('  earlier orders   p50 ms   vs 0   DB round trips/order   statements/order\n');
    for (const p of f.points) {
      const ratio = p.p50 / f.points[0]!.p50;
      process.stdout.write(
        `  ${String(p.earlier).padStart(14)}   ${p.p50.toFixed(2).padStart(6)}   ${ratio.toFixed(2)}x   ${p.roundTrips.toFixed(2).padStart(20)}   ${p.statements.toFixed(2).padStart(16)}\n`,
      );
    }
    out.push(f);
  }
  return out;
}
