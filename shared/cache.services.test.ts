import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bumpCacheEpoch, cacheEpochCommitted, createCache } from './cache.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';

// Runs in `npm run test:services`, which sets REDIS_URL to a real Redis and DATABASE_URL to Postgres 15.
describe('redis cache', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: '/nonexistent', poolSize: 2 });
    await migrate(db.sql);
  });
  afterAll(async () => db.close());

  it('sets, expires by TTL and flushes only its own keys', async () => {
    const url = process.env.REDIS_URL;
    expect(url, 'test:services sets REDIS_URL').toBeTruthy();
    const cache = createCache(url);
    await cache.ping();
    await cache.set('t1', 'v', 1);
    expect(await cache.get('t1')).toBe('v');
    await cache.set('t2', 'w', 60);
    await cache.flush();
    expect(await cache.get('t2')).toBeNull();
    await cache.set('t3', 'x', 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await cache.get('t3')).toBeNull();
    await cache.close();
  });

  it('a Redis that missed an invalidation never outvotes the database: the epoch does', async () => {
    const writer = createCache(process.env.REDIS_URL, { sql: db.sql, listen: true });
    await writer.ping();
    const key = `epoch-${process.pid}-${Date.now()}`;
    await writer.get(key);
    await writer.set(key, '100', 60);
    expect(await writer.get(key)).toBe('100');
    // The import commits and its DEL is lost (Redis down then, or restored from a snapshot):
    // the entry is still in Redis, but carries the old epoch.
    await db.sql.begin((tx) => bumpCacheEpoch(tx));
    await cacheEpochCommitted(db.sql);
    expect(await writer.get(key)).toBeNull();
    // A second process sharing this Redis and Postgres learns the bump too.
    const other = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: '/nonexistent', poolSize: 1 });
    const reader = createCache(process.env.REDIS_URL, { sql: other.sql, listen: true });
    await reader.ping();
    expect(await reader.get(key)).toBeNull();
    await Promise.all([writer.close(), reader.close()]);
    await other.close();
  });

  it('an unreachable Redis reads as a miss and skips writes, without throwing', async () => {
    const cache = createCache('redis://127.0.0.1:1', { timeoutMs: 100 });
    const t0 = performance.now();
    await cache.set('a', '1', 60);
    expect(await cache.get('a')).toBeNull();
    await cache.del('a');
    expect(performance.now() - t0).toBeLessThan(1000);
    await expect(cache.ping()).rejects.toThrow();
    await cache.close();
  });
});
