// advance_run: the replay clock over the simulated market (symbols outside the imported files).
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { barEnd } from '../../shared/domain/calendar.js';
import { polygonDayMs, startPolygonFake, type PolygonFake } from '../../shared/market/polygon-fake.js';
import { simulatedBars } from '../../shared/domain/simulated-market.js';
import { priceServer } from '../price/server.js';
import { runsServer } from './server.js';

let t: TestSuite;
let runs: Client;
let price: Client;

beforeAll(async () => {
  t = await bootSuite({ specs: [runsServer, priceServer] });
  const { key } = await t.user();
  runs = await t.client('runs', key);
  price = await t.client('price', key);
});
afterAll(() => t?.close());

async function replay(args: Record<string, unknown>) {
  const model = await ok(runs, 'create_model', { name: `m${Math.random().toString(36).slice(2, 8)}`, initial_cash: 5000 });
  return ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', ...args });
}

describe('advance_run', () => {
  it('steps minute by minute, returns the bars that closed, records equity, and completes at the end', async () => {
    const run = await replay({ timespan: 'minute', start: '2025-03-12T19:55:00Z', end: '2025-03-13T13:31:00Z', symbols: ['SPY', 'KO'] });
    expect(run.clock).toBe('2025-03-12T19:55:00.000Z');
    const spy = simulatedBars('SPY', 'minute', '2025-03-12');
    const one = await ok(runs, 'advance_run', { run_id: run.run_id, include_bars: true });
    expect(one).toMatchObject({ clock: '2025-03-12T19:56:00.000Z', previous_clock: '2025-03-12T19:55:00.000Z', steps_taken: 1, done: false, at_end: false, status: 'running', exits_triggered: [] });
    expect(one.bars.SPY).toEqual([spy.find((b) => b.t === '2025-03-12T19:55:00.000Z')]);
    expect(one.bars.KO).toHaveLength(1);
    expect(one.portfolio).toEqual({ cash: 5000, positions_value: 0, total_value: 5000 });

    // across the close: 19:59 is the session's last minute, then the next day's 09:30
    const more = await ok(runs, 'advance_run', { run_id: run.run_id, steps: 4 });
    expect(more.clock).toBe('2025-03-13T13:30:00.000Z');
    expect(more.bars).toBeUndefined(); // bars are opt-in: a count and the latest per symbol
    expect(more.symbols.SPY).toEqual({ bars_closed: 4, latest: spy.find((b) => b.t === '2025-03-12T19:59:00.000Z') });

    const last = await ok(runs, 'advance_run', { run_id: run.run_id, steps: 10 });
    expect(last).toMatchObject({ clock: '2025-03-13T13:31:00.000Z', steps_taken: 1, at_end: true, done: false });
    const done = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(done).toMatchObject({ clock: '2025-03-13T13:31:00.000Z', steps_taken: 0, done: true, status: 'completed', symbols: { SPY: { bars_closed: 0, latest: null }, KO: { bars_closed: 0, latest: null } } });
    // the completing call carries the final stats, as end_run records them
    expect(done.final_stats).toEqual({ total_trades: 0, final_value: 5000, total_return: 0, max_drawdown: 0 });
    const got = await ok(runs, 'get_run', { run_id: run.run_id });
    expect(got).toMatchObject({ status: 'completed', final_stats: { total_trades: 0, final_value: 5000, total_return: 0, max_drawdown: 0 }, ended_at: '2025-03-13T13:31:00.000Z' });
    const [{ n }] = (await t.suite.deps.sql`select count(*)::int as n from equity_snapshots where run_id = ${run.run_id}`) as any;
    expect(n).toBe(7); // start + 6 steps
    const again = await call(runs, 'advance_run', { run_id: run.run_id });
    expect(again).toMatchObject({ isError: true, text: `Run ${run.run_id} has already ended (completed); start a new run.` });
  });

  it('skips closed days and the rest of a half day', async () => {
    const run = await replay({ timespan: 'minute', start: '2025-07-03', end: '2025-07-07', symbols: ['QQQ'] });
    const r = await ok(runs, 'advance_run', { run_id: run.run_id, steps: 210, include_bars: true });
    expect(r.clock).toBe('2025-07-07T13:30:00.000Z'); // 13:00 close on the 3rd, the 4th a holiday, then a weekend
    expect(r.symbols.QQQ.bars_closed).toBe(210);
    // 210 minute bars pass the result budget: the latest ones are kept, and it says so
    expect(r.bars_truncated).toBe(true);
    expect(r.bars.QQQ.length).toBeLessThan(210);
    expect(r.bars.QQQ.at(-1)).toEqual(r.symbols.QQQ.latest);
    expect(r.symbols.QQQ.latest.t).toBe('2025-07-03T16:59:00.000Z');
    for (const b of r.bars.QQQ) expect(barEnd('minute', new Date(b.t)).getTime()).toBeLessThanOrEqual(Date.parse(r.clock));
    const day = await replay({ timespan: 'day', start: '2025-07-02', end: '2025-07-08', symbols: ['QQQ'] });
    const d = await ok(runs, 'advance_run', { run_id: day.run_id, steps: 2, include_bars: true });
    expect(d.clock).toBe('2025-07-07T13:30:00.000Z');
    expect(d.bars.QQQ.map((b: any) => b.t)).toEqual(['2025-07-02T13:30:00.000Z', '2025-07-03T13:30:00.000Z']);
    const p = await ok(price, 'get_price', { symbol: 'QQQ', run_id: day.run_id });
    expect(p).toMatchObject({ price: simulatedBars('QQQ', 'day', '2025-07-07')[0]!.o, price_basis: 'open_at_clock', source: 'simulated' });
  });

  it('refuses a live run, a missing run and bad steps in one sentence', async () => {
    const model = await ok(runs, 'create_model', { name: 'live-one' });
    const live = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'live' });
    expect(await call(runs, 'advance_run', { run_id: live.run_id })).toMatchObject({
      isError: true,
      text: `Run ${live.run_id} is live: its clock is the wall clock; only replay runs advance.`,
    });
    expect((await call(runs, 'advance_run', { run_id: 999_999 })).text).toBe('Run 999999 was not found.');
    expect((await call(runs, 'advance_run', { run_id: live.run_id, steps: 0 })).isError).toBe(true);
    const other = await t.client('runs', (await t.user()).key);
    expect((await call(other, 'advance_run', { run_id: live.run_id })).text).toBe(`Run ${live.run_id} was not found.`);
  });
});

describe('advance_run on Polygon', () => {
  const KEY = 'advance-polygon-key';
  const DAYS = ['2024-06-03', '2024-06-04', '2024-06-05', '2024-06-06', '2024-06-07', '2024-06-10'];
  let fake: PolygonFake | undefined;
  let pt: TestSuite | undefined;
  afterAll(async () => {
    await pt?.close();
    await fake?.close();
  });

  it('fetches from Polygon before its transaction, never while holding the one connection', async () => {
    const held: string[] = [];
    // a ticker of its own: on a database reused from an earlier test run its bars are not stored yet
    const sym = `PG${Array.from({ length: 3 }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join('')}`;
    fake = await startPolygonFake({
      apiKey: KEY,
      aggs: { [`${sym}/day`]: DAYS.map((d, i) => ({ t: polygonDayMs(d), o: 30 + i, h: 31 + i, l: 29 + i, c: 30.5 + i, v: 100 + i })) },
      // a query on the pool cannot start while a transaction holds the embedded connection
      onRequest: async (path) => {
        const free = await Promise.race([pt!.suite.deps.sql`select 1`.then(() => true), new Promise((r) => setTimeout(() => r(false), 300))]);
        if (!free) held.push(path);
      },
    });
    pt = await bootSuite({ specs: [runsServer], env: { POLYGON_API_KEY: KEY, POLYGON_BASE_URL: fake.url, POLYGON_REQUESTS_PER_MINUTE: '1000' } });
    const client = await pt.client('runs', (await pt.user()).key);
    const model = await ok(client, 'create_model', { name: 'polygon-replay' });
    const run = await ok(client, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2024-06-03', end: '2024-06-10', symbols: [sym] });
    const r = await ok(client, 'advance_run', { run_id: run.run_id, steps: 2, include_bars: true });
    expect(r.clock).toBe('2024-06-05T13:30:00.000Z');
    expect(r.bars[sym].map((b: any) => [b.t, b.o])).toEqual([['2024-06-03T13:30:00.000Z', 30], ['2024-06-04T13:30:00.000Z', 31]]);
    expect(fake.requests.length).toBeGreaterThan(0);
    expect(held).toEqual([]);
  });
});
