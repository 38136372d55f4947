import { describe, expect, it } from 'vitest';
import { createCache } from './cache.js';

// Runs in `npm run test:services`, which sets REDIS_URL to a real Redis.
describe('redis cache', () => {
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
});
