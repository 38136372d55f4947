// One cache interface: Redis when REDIS_URL is set, an in-process TTL map otherwise.
// The cache is never the only copy of anything; flushing it loses nothing.
import { Redis } from 'ioredis';

export interface Cache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Remove every AIBT key. */
  flush(): Promise<void>;
  /** Throws when the cache cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const PREFIX = 'aibt:';

export function createCache(redisUrl?: string): Cache {
  return redisUrl ? redisCache(redisUrl) : memoryCache();
}

export async function getJson<T>(cache: Cache, key: string): Promise<T | null> {
  const raw = await cache.get(key);
  return raw === null ? null : (JSON.parse(raw) as T);
}

export async function setJson(cache: Cache, key: string, value: unknown, ttlSeconds: number): Promise<void> {
  await cache.set(key, JSON.stringify(value), ttlSeconds);
}

export function memoryCache(now: () => number = Date.now): Cache {
  const entries = new Map<string, { value: string; expires: number }>();
  const MAX_ENTRIES = 50_000;
  return {
    kind: 'memory',
    async get(key) {
      const e = entries.get(key);
      if (!e) return null;
      if (e.expires <= now()) {
        entries.delete(key);
        return null;
      }
      return e.value;
    },
    async set(key, value, ttlSeconds) {
      if (entries.size >= MAX_ENTRIES) {
        // Drop the oldest insertion: a Map iterates in insertion order.
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(key, { value, expires: now() + ttlSeconds * 1000 });
    },
    async del(key) {
      entries.delete(key);
    },
    async flush() {
      entries.clear();
    },
    async ping() {},
    async close() {
      entries.clear();
    },
  };
}

function redisCache(url: string): Cache {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  redis.on('error', () => {
    // Failures surface through ping() (/health) and the calls themselves.
  });
  return {
    kind: 'redis',
    async get(key) {
      return redis.get(PREFIX + key);
    },
    async set(key, value, ttlSeconds) {
      await redis.set(PREFIX + key, value, 'EX', Math.max(1, Math.ceil(ttlSeconds)));
    },
    async del(key) {
      await redis.del(PREFIX + key);
    },
    async flush() {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    },
    async ping() {
      const answer = await Promise.race([
        redis.ping(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('Redis did not answer within 2s')), 2000)),
      ]);
      if (answer !== 'PONG') throw new Error(`Redis answered ${answer} to PING`);
    },
    async close() {
      redis.disconnect();
    },
  };
}
