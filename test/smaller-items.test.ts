// Issue 19 item 8: with a Polygon key, start_run refuses a ticker Polygon's reference endpoint
// does not know (asked once, then cached) in the same sentence as without a key; an order
// whose approval timed out says so in its row; advance_run with include_bars says whether
// it truncated the bars. Polygon is the loopback fake (shared/market/polygon-fake.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { polygonDayMs, startPolygonFake, type FakeAgg, type PolygonFake } from '../shared/market/polygon-fake.js';
import { runsServer } from '../servers/runs/server.js';
import { tradeServer } from '../servers/trade/server.js';
import { bootSuite, call, ok, type TestSuite } from './harness.js';

const KEY = 'smaller-items-polygon-key';
// tickers no other test imports or simulates
const KNOWN = 'PGRF';
const UNKNOWN = 'PGZZ';
const DAYS = ['2024-06-03', '2024-06-04', '2024-06-05'];
const dayAggs: FakeAgg[] = DAYS.map((d, i) => ({ t: polygonDayMs(d), o: 50 + i, h: 52 + i, l: 49 + i, c: 51 + i, v: 1000 + i }));

let fake: PolygonFake;
let t: TestSuite;
beforeAll(async () => {
  fake = await startPolygonFake({ apiKey: KEY, aggs: { [`${KNOWN}/day`]: dayAggs } });
  t = await bootSuite({ specs: [runsServer, tradeServer], env: { POLYGON_API_KEY: KEY, POLYGON_BASE_URL: fake.url, POLYGON_REQUESTS_PER_MINUTE: '1000' } });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

const referenceAsks = (ticker: string) => fake.requests.filter((r) => r.path === `/v3/reference/tickers/${ticker}`).length;

describe('smaller items', () => {
  it('start_run refuses a ticker Polygon does not know, in the no-key sentence, asking Polygon once', async () => {
    const runs = await t.client('runs', (await t.user()).key);
    const m = await ok(runs, 'create_model', { name: 'polygon-tickers', initial_cash: 10_000 });
    const args = { model_id: m.model_id, kind: 'replay', timespan: 'day', start: '2024-06-03', end: '2024-06-05' };
    const refused = await call(runs, 'start_run', { ...args, symbols: [UNKNOWN] });
    expect(refused).toMatchObject({
      isError: true,
      // the sentence servers/trade/books.test.ts expects without a key
      text: `Unknown symbol ${UNKNOWN}: no source serves it (no imported bars, no Polygon key or a ticker Polygon does not know, not a simulated symbol), so the run was not started; list_symbols shows what is available.`,
    });
    expect(referenceAsks(UNKNOWN)).toBe(1);
    expect((await call(runs, 'start_run', { ...args, symbols: [UNKNOWN] })).isError).toBe(true);
    expect(referenceAsks(UNKNOWN)).toBe(1); // cached
    const [{ n }] = await t.suite.deps.sql`select count(*)::int as n from runs where model_id = ${m.model_id}`;
    expect(n).toBe(0);

    const run = await ok(runs, 'start_run', { ...args, symbols: [KNOWN] });
    expect(run.status).toBe('running');
    expect(referenceAsks(KNOWN)).toBe(1);
    const step = await ok(runs, 'advance_run', { run_id: run.run_id, steps: 1 });
    expect(step.symbols[KNOWN].latest.c).toBe(51); // 2024-06-03's close, from the fake's bars
  });

  it("an order whose approval timed out says why, before and after the row is marked; a run's end says its own reason", async () => {
    const { key } = await t.user();
    const [runs, trade] = await Promise.all([t.client('runs', key), t.client('trade', key)]);
    const m = await ok(runs, 'create_model', { name: 'expiry-reasons', initial_cash: 10_000, require_approval: true });
    await ok(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'day', start: '2024-06-03', end: '2024-06-05', symbols: [KNOWN] });
    const pending = await ok(trade, 'buy', { model_id: m.model_id, symbol: KNOWN, quantity: 1 });
    expect(pending.status).toBe('pending_approval');
    await t.suite.deps.sql`update orders set expires_at = '2024-06-03T14:00:00Z' where id = ${pending.order_id}`;
    const sentence = 'Approval timed out: nobody approved or rejected it by 2024-06-03T14:00:00Z.';
    // read before any write marks it: the note comes with the effective status
    const [shown] = (await ok(trade, 'list_orders', { model_id: m.model_id })).orders;
    expect(shown).toMatchObject({ order_id: pending.order_id, status: 'expired', decision_note: sentence });
    // the next order of the model marks it: the stored row says why
    await ok(trade, 'buy', { model_id: m.model_id, symbol: KNOWN, quantity: 1 });
    const [row] = await t.suite.deps.sql`select status, decided_by, decision_note from orders where id = ${pending.order_id}`;
    expect(row).toEqual({ status: 'expired', decided_by: 'expiry', decision_note: sentence });

    // the second order is pending too: ending the run expires it with the run's reason
    const run = await ok(runs, 'end_run', { run_id: (await ok(runs, 'list_runs', { model_id: m.model_id })).runs[0].run_id });
    const [second] = await t.suite.deps.sql`select status, decision_note from orders where model_id = ${m.model_id} and id <> ${pending.order_id}`;
    expect(second!.status).toBe('expired');
    expect(run.status).toBe('completed');
    expect(second!.decision_note).toBe(`Run ${run.run_id} completed at 2024-06-03T13:30:00.000Z; resting orders end with their run.`);
  });

  it('advance_run with include_bars says whether it truncated the bars, in the field and the text', async () => {
    const runs = await t.client('runs', (await t.user()).key);
    const m = await ok(runs, 'create_model', { name: 'bars-truncated', initial_cash: 10_000 });
    // 2025-03-12: a regular session of minute bars of JPM, read from the repository's data
    const run = await ok(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'minute', start: '2025-03-12T13:30:00Z', end: '2025-03-12T20:00:00Z', symbols: ['JPM'] });
    const few = await call(runs, 'advance_run', { run_id: run.run_id, steps: 3, include_bars: true });
    expect(few.data.bars_truncated).toBe(false);
    expect(few.data.bars.JPM).toHaveLength(few.data.symbols.JPM.bars_closed);
    expect(few.text).toContain(`Bars: all ${few.data.symbols.JPM.bars_closed} returned (not truncated).`);
    const many = await call(runs, 'advance_run', { run_id: run.run_id, steps: 380, include_bars: true });
    const closed = many.data.symbols.JPM.bars_closed;
    expect(closed).toBeGreaterThan(300);
    expect(many.data.bars_truncated).toBe(true);
    expect(many.data.bars.JPM.length).toBeLessThan(closed);
    expect(many.data.bars.JPM.at(-1)).toEqual(many.data.symbols.JPM.latest); // the latest kept
    expect(many.text).toContain(`Bars truncated: the latest ${many.data.bars.JPM.length} of ${closed} returned.`);
  });
});
