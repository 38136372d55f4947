// One cache interface: Redis when REDIS_URL is set, an in-process TTL map otherwise.
// The cache is never the only copy of anything, and never required at run time:
// - every Redis call has a short timeout; an error or timeout reads as a miss (writes are
//   skipped) so callers fall through to Postgres, and a circuit breaker (shared/redis-guard.ts,
//   one per Redis server) stops trying Redis for a while after a timeout or repeated errors;
// - every entry carries the cache epoch (a counter in Postgres, table cache_epoch) current
//   when its data was read; a change that must invalidate copies (an import) bumps the
//   epoch in its transaction, so an entry from before it is ignored even when a Redis that
//   missed the invalidation (down, or restored from a snapshot) still holds it.
import { Redis } from 'ioredis';
import type { Q, Sql } from './db/database.js';
import { errorFields, logEvent } from './log.js';
import { redisGuard } from './redis-guard.js';

export interface Cache {
  readonly kind: 'redis' | 'memory';
  /** The entry, or null on a miss, a stale epoch, a timeout or an unreachable Redis. */
  get(key: string): Promise<string | null>;
  /** Best effort: skipped when Redis is unreachable. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Best effort: a stale copy left behind is outvoted by the epoch. */
  del(key: string): Promise<void>;
  /** Remove every AIBT key. */
  flush(): Promise<void>;
  /** Throws when the cache cannot answer (for /health). */
  ping(): Promise<void>;
  /** 'closed' while Redis is used, 'open' while the breaker skips it (memory: always closed). */
  breaker(): 'closed' | 'open';
  close(): Promise<void>;
}

export interface CacheOptions {
  /** Per-call timeout for Redis, ms (AIBT_CACHE_TIMEOUT_MS, default 200). */
  timeoutMs?: number;
  /** Consecutive failures that open the breaker (default 3). */
  breakerFailures?: number;
  /** How long an open breaker skips Redis, ms (AIBT_CACHE_BREAKER_MS, default 30 s). */
  breakerOpenMs?: number;
  /** Where the epoch lives; without it entries carry epoch 0 (tests of the cache alone). */
  sql?: Sql;
  /** Learn other processes' epoch bumps through LISTEN (real Postgres only). */
  listen?: boolean;
  now?: () => number;
}

const PREFIX = 'aibt:';

export function createCache(redisUrl?: string, opts: CacheOptions = {}): Cache {
  const epoch = opts.sql ? trackEpoch(opts.sql, opts.listen ?? false) : null;
  return redisUrl ? redisCache(redisUrl, opts, epoch) : memoryCache(opts.now, epoch);
}

export async function getJson<T>(cache: Cache, key: string): Promise<T | null> {
  const raw = await cache.get(key);
  if (raw === null) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null; // a damaged entry is a miss
  }
}

export async function setJson(cache: Cache, key: string, value: unknown, ttlSeconds: number): Promise<void> {
  await cache.set(key, JSON.stringify(value), ttlSeconds);
}

// ---- the epoch ---------------------------------------------------------------------------------

interface EpochTracker {
  /** Settles once the epoch was read from Postgres (or that read failed). */
  ready: Promise<void>;
  current(): number;
  /** Epoch as of the last read of this key: what a following set() copies is at least that old. */
  readAt(key: string): number;
  noteRead(key: string): void;
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

const trackers = new WeakMap<Sql, EpochTracker>();
const CHANNEL = 'aibt_cache_epoch';
const POLL_MS = 10_000;

function trackEpoch(sql: Sql, listen: boolean): EpochTracker {
  const existing = trackers.get(sql);
  if (existing) return existing;
  let value = 0;
  const reads = new Map<string, number>();
  const advance = (e: number) => {
    if (e > value) value = e;
  };
  const refresh = async () => {
    try {
      const [row] = await sql<{ epoch: string }[]>`select epoch::text as epoch from cache_epoch`;
      if (row) advance(Number(row.epoch));
    } catch {
      // storage down: keep the last known epoch; the next refresh catches up
    }
  };
  const ready = refresh();
  // A missed notification is caught up within POLL_MS.
  const poll = setInterval(() => void refresh(), POLL_MS);
  poll.unref();
  let stopped = false;
  const listening = listen
    ? sql.listen(CHANNEL, (payload) => advance(Number(payload) || 0), () => void refresh()).catch((err) => {
        if (!stopped) logEvent('cache_epoch_listen_failed', errorFields(err, false));
        return null;
      })
    : Promise.resolve(null);
  const tracker: EpochTracker = {
    ready,
    current: () => value,
    readAt: (key) => reads.get(key) ?? value,
    noteRead(key) {
      if (reads.size > 20_000) reads.clear();
      reads.set(key, value);
    },
    refresh,
    async stop() {
      stopped = true;
      clearInterval(poll);
      trackers.delete(sql);
      await (await listening)?.unlisten().catch(() => {});
    },
  };
  trackers.set(sql, tracker);
  return tracker;
}

/**
 * Inside the transaction that changes data the cache may copy: bumps the cache epoch so
 * every copy made before it is ignored once the transaction commits. Call
 * cacheEpochCommitted(sql) after the commit so this process sees it at once.
 */
export async function bumpCacheEpoch(tx: Q): Promise<number> {
  const [row] = await tx<{ epoch: string }[]>`update cache_epoch set epoch = epoch + 1 returning epoch::text as epoch`;
  const epoch = Number(row!.epoch);
  await tx`select pg_notify(${CHANNEL}, ${String(epoch)})`;
  return epoch;
}

/** After the commit of a bumpCacheEpoch transaction: this process adopts the new epoch now. */
export async function cacheEpochCommitted(sql: Sql): Promise<void> {
  await trackers.get(sql)?.refresh();
}

const NO_EPOCH: EpochTracker = {
  ready: Promise.resolve(),
  current: () => 0,
  readAt: () => 0,
  noteRead: () => {},
  refresh: async () => {},
  stop: async () => {},
};

// ---- in memory -------------------------------------------------------------------------------------

export function memoryCache(now: () => number = Date.now, epoch: EpochTracker | null = null): Cache {
  const ep = epoch ?? NO_EPOCH;
  const entries = new Map<string, { value: string; expires: number; epoch: number }>();
  const MAX_ENTRIES = 50_000;
  return {
    kind: 'memory',
    async get(key) {
      await ep.ready;
      ep.noteRead(key);
      const e = entries.get(key);
      if (!e) return null;
      if (e.expires <= now() || e.epoch < ep.current()) {
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
      entries.set(key, { value, expires: now() + ttlSeconds * 1000, epoch: ep.readAt(key) });
    },
    async del(key) {
      entries.delete(key);
    },
    async flush() {
      entries.clear();
    },
    async ping() {},
    breaker: () => 'closed',
    async close() {
      entries.clear();
      await epoch?.stop();
    },
  };
}

// ---- Redis -------------------------------------------------------------------------------------------

/** Entry layout in Redis: "<epoch>|<value>". */
function wrap(epoch: number, value: string): string {
  return `${epoch}|${value}`;
}

function unwrap(raw: string): { epoch: number; value: string } | null {
  const bar = raw.indexOf('|');
  if (bar <= 0) return null;
  const epoch = Number(raw.slice(0, bar));
  return Number.isInteger(epoch) ? { epoch, value: raw.slice(bar + 1) } : null;
}

function redisCache(url: string, opts: CacheOptions, epoch: EpochTracker | null): Cache {
  const ep = epoch ?? NO_EPOCH;
  const redis = new Redis(url, {
    lazyConnect: false,
    // No queue while disconnected: a call fails at once and the caller reads Postgres.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    // No commandTimeout: the guard times calls out by the socket's answer (shared/redis-guard.ts).
    // Keep reconnecting in the background, at most every 2 s.
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  redis.on('error', () => {
    // Failures surface through ping() (/health) and the breaker's log line.
  });
  const guard = redisGuard(url, { timeoutMs: opts.timeoutMs ?? 200, breakerFailures: opts.breakerFailures ?? 3, breakerOpenMs: opts.breakerOpenMs ?? 30_000, now: opts.now });

  /** Runs a Redis call under the timeout and breaker; `fallback` when Redis is not usable. */
  async function guarded<T>(what: string, call: () => Promise<T>, fallback: T): Promise<T> {
    if (redis.status !== 'ready') return fallback;
    const r = await guard.run(what, call);
    return r.ok ? r.value : fallback;
  }

  return {
    kind: 'redis',
    async get(key) {
      await ep.ready;
      ep.noteRead(key);
      const raw = await guarded('GET', () => redis.get(PREFIX + key), null);
      if (raw === null) return null;
      const entry = unwrap(raw);
      // An entry older than the epoch (or in an unknown layout) lost to the database.
      if (!entry || entry.epoch < ep.current()) return null;
      return entry.value;
    },
    async set(key, value, ttlSeconds) {
      const stamped = wrap(ep.readAt(key), value);
      await guarded('SET', () => redis.set(PREFIX + key, stamped, 'EX', Math.max(1, Math.ceil(ttlSeconds))), null);
    },
    async del(key) {
      await guarded('DEL', () => redis.del(PREFIX + key), 0);
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
      let timer: NodeJS.Timeout | undefined;
      const answer = await Promise.race([
        // A cache still connecting gets the same 2 s to answer.
        (redis.status === 'ready' ? Promise.resolve() : new Promise((r) => redis.once('ready', r))).then(() => redis.ping()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('Redis did not answer within 2s')), 2000);
        }),
      ]).finally(() => clearTimeout(timer));
      if (answer !== 'PONG') throw new Error(`Redis answered ${answer} to PING`);
    },
    breaker: () => guard.state(),
    async close() {
      redis.disconnect();
      await epoch?.stop();
    },
  };
}
