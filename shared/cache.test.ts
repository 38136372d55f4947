import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bumpCacheEpoch, cacheEpochCommitted, createCache, getJson, memoryCache, setJson } from './cache.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';

describe('memory cache', () => {
  it('expires entries after their TTL', async () => {
    let t = 1_000;
    const cache = memoryCache(() => t);
    await cache.set('a', '1', 10);
    expect(await cache.get('a')).toBe('1');
    t += 10_001;
    expect(await cache.get('a')).toBeNull();
  });
  it('round-trips JSON and flushes', async () => {
    const cache = memoryCache();
    await setJson(cache, 'k', { x: 1 }, 60);
    expect(await getJson(cache, 'k')).toEqual({ x: 1 });
    await cache.flush();
    expect(await getJson(cache, 'k')).toBeNull();
  });
  it('reads a damaged JSON entry as a miss', async () => {
    const cache = memoryCache();
    await cache.set('k', '{not json', 60);
    expect(await getJson(cache, 'k')).toBeNull();
  });
});

describe('cache epoch (embedded Postgres)', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ dataDir: '/nonexistent', inMemory: true });
    await migrate(db.sql);
  });
  afterAll(async () => db.close());

  it('ignores a copy made before a committed bump, and keeps one made after', async () => {
    const cache = createCache(undefined, { sql: db.sql });
    await cache.get('price'); // a miss: the reader goes to the database next
    await cache.set('price', '100', 60);
    expect(await cache.get('price')).toBe('100');
    await db.sql.begin((tx) => bumpCacheEpoch(tx));
    await cacheEpochCommitted(db.sql);
    expect(await cache.get('price')).toBeNull();
    await cache.set('price', '200', 60);
    expect(await cache.get('price')).toBe('200');
    await cache.close();
  });

  it('stamps a copy with the epoch of its read, so a read that raced a bump is not kept', async () => {
    const cache = createCache(undefined, { sql: db.sql });
    expect(await cache.get('bars')).toBeNull(); // read at epoch e
    await db.sql.begin((tx) => bumpCacheEpoch(tx)); // an import commits meanwhile: e+1
    await cacheEpochCommitted(db.sql);
    await cache.set('bars', 'read-before-import', 60); // what the reader found at e
    expect(await cache.get('bars')).toBeNull();
    await cache.close();
  });

  it('a rolled-back bump changes nothing', async () => {
    const cache = createCache(undefined, { sql: db.sql });
    await cache.get('x');
    await cache.set('x', 'kept', 60);
    await expect(
      db.sql.begin(async (tx) => {
        await bumpCacheEpoch(tx);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await cacheEpochCommitted(db.sql);
    expect(await cache.get('x')).toBe('kept');
    await cache.close();
  });
});
