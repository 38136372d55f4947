// Two trade processes on one Postgres racing: 50 buys with cash for 10 give exactly 10 fills.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, privatePostgres, spawnSuite, type PrivatePostgres, type SuiteProcess } from './procs.js';

const KEY = 'reliability-race-bootstrap-key';

describe('two trade processes on one Postgres', () => {
  let pg: PrivatePostgres;
  const procs: SuiteProcess[] = [];
  beforeAll(async () => {
    pg = await privatePostgres();
    const env = { DATABASE_URL: pg.url, REDIS_URL: '', AIBT_BOOTSTRAP_KEY: KEY, AIBT_RATE_LIMIT_PER_SEC: '0' };
    procs.push(await spawnSuite(env)); // runs the migrations first
    procs.push(await spawnSuite(env, 'servers/trade/main.ts'));
  });
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    pg?.destroy();
  });

  it('50 racing buys with cash for 10 fill exactly 10', async () => {
    const runs = await connect(procs[0]!.urls.runs!, KEY);
    const m = ((await runs.callTool({ name: 'create_model', arguments: { name: 'race', initial_cash: 100_000, max_orders_per_minute: 10_000 } })) as any).structuredContent;
    const r = ((await runs.callTool({ name: 'start_run', arguments: { model_id: m.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-13', symbols: ['AAPL'] } })) as any).structuredContent;
    const price = await connect(procs[0]!.urls.price!, KEY);
    const p = ((await price.callTool({ name: 'get_price', arguments: { symbol: 'AAPL', run_id: r.run_id } })) as any).structuredContent.price as number;
    // Cash for 10 orders and not 11: each buys floor(10_000 / price) shares (10% of the cash).
    const qty = Math.floor(10_000 / p);
    expect(qty).toBeGreaterThan(0);
    const clients = await Promise.all(Array.from({ length: 50 }, (_, i) => connect(procs[i % 2]!.urls.trade!, KEY)));
    const results = await Promise.all(
      clients.map((c) => c.callTool({ name: 'buy', arguments: { model_id: m.model_id, symbol: 'AAPL', quantity: qty } }) as Promise<any>),
    );
    const statuses = results.map((x) => (x.isError ? `error: ${x.content[0].text}` : x.structuredContent.status));
    const filled = statuses.filter((s) => s === 'filled').length;
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql`select count(*)::int as fills, (select cash::text from runs where id = ${r.run_id}) as cash from fills where run_id = ${r.run_id}`;
      console.log(JSON.stringify({ attack: 'two-process-race', buys: 50, qty, price: p, filled, stored_fills: row!.fills, cash_left: row!.cash }));
      expect(statuses.filter((s) => s.startsWith('error')), statuses.join('\n')).toEqual([]);
      expect(filled).toBe(Math.min(50, Math.floor(100_000 / (qty * p * 1.0000001))));
      expect(row!.fills).toBe(filled);
      expect(Number(row!.cash)).toBeGreaterThanOrEqual(0);
    } finally {
      await sql.end();
    }
  }, 300_000);
});
