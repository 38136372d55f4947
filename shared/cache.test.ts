import { describe, expect, it } from 'vitest';
import { getJson, memoryCache, setJson } from './cache.js';

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
});
