// The price server with POLYGON_API_KEY and POLYGON_BASE_URL pointing at the loopback fake:
// fetched bars land in price_bars before they are served, and a flushed cache costs no refetch.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, ok, type TestSuite } from '../../test/harness.js';
import { polygonDayMs, startPolygonFake, type FakeAgg, type PolygonFake } from '../../shared/market/polygon-fake.js';
import { priceServer } from './server.js';

const KEY = 'polygon-test-key';
// a ticker no other test imports or simulates
const SYM = 'PGFK';
const DAYS = ['2024-06-03', '2024-06-04', '2024-06-05', '2024-06-06', '2024-06-07', '2024-06-10', '2024-06-11'];
const dayAggs: FakeAgg[] = DAYS.map((d, i) => ({ t: polygonDayMs(d), o: 200 + i, h: 205 + i, l: 198 + i, c: 202 + i, v: 1_000_000 + i }));
// 2024-06-11 09:30–09:34 ET
const minuteAggs: FakeAgg[] = Array.from({ length: 5 }, (_, i) => ({
  t: Date.parse('2024-06-11T13:30:00Z') + i * 60_000,
  o: 206 + i / 10,
  h: 206.5 + i / 10,
  l: 205.5 + i / 10,
  c: 206.05 + i / 10,
  v: 5000 + i,
}));

let fake: PolygonFake;
let t: TestSuite;
let price: Client;

beforeAll(async () => {
  fake = await startPolygonFake({
    apiKey: KEY,
    aggs: { [`${SYM}/day`]: dayAggs, [`${SYM}/minute`]: minuteAggs },
    // 2-for-1 on 2024-06-10: bars before it are halved only once a clock has reached that date
    splits: { [SYM]: [{ execution_date: '2024-06-10', split_from: 1, split_to: 2 }] },
  });
  t = await bootSuite({ specs: [priceServer], env: { POLYGON_API_KEY: KEY, POLYGON_BASE_URL: fake.url, POLYGON_REQUESTS_PER_MINUTE: '1000' } });
  price = await t.client('price', (await t.user()).key);
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

describe('price server on Polygon', () => {
  it('persists fetched bars into price_bars and serves them with source polygon, splits only as of the clock', async () => {
    const before = await ok(price, 'get_bars', { symbol: SYM, timespan: 'day', at: '2024-06-07T13:30:00Z' });
    expect(before.source).toBe('polygon');
    expect(before.bars).toEqual(
      dayAggs.slice(0, 4).map((a, i) => ({ t: new Date(Date.parse(`${DAYS[i]}T13:30:00Z`)).toISOString(), o: a.o, h: a.h, l: a.l, c: a.c, v: a.v })),
    );
    const stored = await t.suite.deps.sql`select t, o, c, source from price_bars where symbol = ${SYM} and timespan = 'day' order by t`;
    expect(stored.map((r) => [Number(r.o), r.source])).toEqual(dayAggs.map((a) => [a.o, 'polygon']));

    // after the split, earlier bars come back split-adjusted; the stored copy stays unadjusted
    const after = await ok(price, 'get_bars', { symbol: SYM, timespan: 'day', at: '2024-06-11T13:30:00Z' });
    expect(after.bars.map((b: any) => b.o)).toEqual([100, 100.5, 101, 101.5, 102, 205]);
    expect(after.bars[0].v).toBe(2_000_000);

    const p = await ok(price, 'get_price', { symbol: SYM, at: '2024-06-11T13:32:00Z' });
    expect(p).toMatchObject({ price: 206.2, price_basis: 'open_at_clock', source: 'polygon', bar: { timespan: 'minute', t: '2024-06-11T13:32:00.000Z' } });
    expect(p.last_bar).toMatchObject({ t: '2024-06-11T13:31:00.000Z', timespan: 'minute', c: 206.15 });
    const open = await ok(price, 'get_price', { symbol: SYM, at: '2024-06-11' });
    expect(open).toMatchObject({ price: 206, bar: { timespan: 'day' }, last_bar: { t: '2024-06-10T13:30:00.000Z', c: 207 } });
    const [{ n }] = (await t.suite.deps.sql`select count(*)::int as n from price_bars where symbol = ${SYM} and timespan = 'minute' and source = 'polygon'`) as any;
    expect(n).toBe(5);

    // flushing the cache costs no request to Polygon: the answers come from Postgres
    const requests = fake.requests.length;
    await t.suite.deps.cache.flush();
    expect(await ok(price, 'get_bars', { symbol: SYM, timespan: 'day', at: '2024-06-11T13:30:00Z' })).toEqual(after);
    expect(await ok(price, 'get_price', { symbol: SYM, at: '2024-06-11T13:32:00Z' })).toEqual(p);
    expect(fake.requests.length).toBe(requests);
    expect(fake.requests.every((r) => r.query.adjusted === 'false' || r.path.startsWith('/v3/'))).toBe(true);
  });

  it('says what Polygon refused in one sentence', async () => {
    fake.set({ mode: 'forbidden' });
    try {
      const r = await ok(price, 'get_bars', { symbol: 'PGNO', timespan: 'day', at: '2024-06-11' }).catch((e: Error) => e.message);
      expect(r).toMatch(/^get_bars failed: Polygon's plan does not include this data \(HTTP 403\)/);
    } finally {
      fake.set({ mode: 'ok' });
    }
  });
});
