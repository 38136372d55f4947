// The stored market over Postgres with a counting stand-in for Polygon: what a transaction
// stores reaches the cache only once it can no longer be rolled back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, type TestSuite } from '../../test/harness.js';
import { priceServer } from '../../servers/price/server.js';
import { memoryCache } from '../cache.js';
import { nyToUtc } from '../domain/ny-time.js';
import type { Bar } from '../domain/types.js';
import { createMarket } from './market.js';
import type { PolygonSource } from './polygon.js';

let t: TestSuite;
beforeAll(async () => {
  t = await bootSuite({ specs: [priceServer] });
});
afterAll(() => t?.close());

const DAYS = ['2024-06-03', '2024-06-04', '2024-06-05', '2024-06-06', '2024-06-07'];
const dayBars: Bar[] = DAYS.map((d, i) => ({ t: nyToUtc(d, '09:30').toISOString(), o: 50 + i, h: 52 + i, l: 49 + i, c: 51 + i, v: 1000 + i }));

function countingPolygon() {
  const calls = { bars: 0, splits: 0 };
  const source: PolygonSource = {
    async fetchBars(_symbol, timespan) {
      calls.bars++;
      return timespan === 'day' ? dayBars : [];
    },
    async fetchDividends() {
      return [];
    },
    async tickerKnown() {
      return true;
    },
    async fetchSplits() {
      calls.splits++;
      return [];
    },
  };
  return { calls, source };
}

describe('stored market', () => {
  it('caches nothing a rolled-back transaction stored, even when it reads its own writes again', async () => {
    const sql = t.suite.deps.sql;
    const cache = memoryCache();
    const { calls, source } = countingPolygon();
    const market = createMarket({ sql, cache, config: t.suite.deps.config, polygon: source });
    const asOf = new Date('2024-06-10T13:30:00Z');

    await expect(
      sql.begin(async (tx) => {
        expect((await market.barsAsOf('RBCK', 'day', { asOf }, tx)).bars).toHaveLength(5);
        // the block and the splits are now covered inside this transaction only
        expect((await market.barsAsOf('RBCK', 'day', { asOf }, tx)).bars).toHaveLength(5);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await cache.get('mkt:b:polygon:RBCK:day:2024')).toBeNull();
    expect(await cache.get('mkt:splits:RBCK')).toBeNull();
    const inTx = { ...calls }; // the 2024 block, then empty 2023 and 2022 where history ends
    expect(inTx).toEqual({ bars: 3, splits: 1 });

    // served again after the rollback: fetched again and stored before it is served
    const again = await market.barsAsOf('RBCK', 'day', { asOf });
    expect(again.bars.map((b) => b.t)).toEqual(dayBars.map((b) => b.t));
    const [{ n }] = (await sql`select count(*)::int as n from price_bars where symbol = 'RBCK' and source = 'polygon'`) as any;
    expect(n).toBe(5);
    expect(calls).toEqual({ bars: 2 * inTx.bars, splits: 2 });

    // committed now: a flushed cache gives the same answer from Postgres, with no new request
    await cache.flush();
    expect(await market.barsAsOf('RBCK', 'day', { asOf })).toEqual(again);
    expect(calls).toEqual({ bars: 2 * inTx.bars, splits: 2 });
  });

  it('caches what a transaction only read', async () => {
    const sql = t.suite.deps.sql;
    const cache = memoryCache();
    const { source } = countingPolygon();
    const market = createMarket({ sql, cache, config: t.suite.deps.config, polygon: source });
    const asOf = new Date('2024-06-10T13:30:00Z');
    await market.barsAsOf('RDNL', 'day', { asOf }); // stored and committed
    await cache.flush();
    await sql.begin((tx) => market.barsAsOf('RDNL', 'day', { asOf }, tx));
    expect(await cache.get('mkt:b:polygon:RDNL:day:2024')).not.toBeNull();
  });
});
