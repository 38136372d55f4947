// The verified-key cache: authenticate() answers from memory for a few seconds instead of
// querying the database on every request. Keyed by the key's SHA-256 hash (the secret is
// never kept). A revocation forgets the key in this process at once and, with REDIS_URL,
// in every other process through Redis pub/sub (milliseconds); without Redis another
// process notices within the TTL.
import { Redis } from 'ioredis';
import { redisGuard, type RedisGuard } from '../redis-guard.js';
import type { AuthContext } from './keys.js';

/** How long a verification is trusted without asking the database again. */
export const KEY_CACHE_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;
const CHANNEL = 'aibt:auth:forget';

export interface VerifiedKey {
  auth: AuthContext;
  /** When the database last confirmed the key (ms since the epoch). */
  verifiedAt: number;
}

export class KeyCache {
  private readonly entries = new Map<string, VerifiedKey>();
  /** Bumped by every forget: a lookup that started before it does not store its answer. */
  private generation = 0;

  constructor(
    readonly ttlMs = KEY_CACHE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key's context when verified less than ttlMs ago, else undefined. */
  fresh(hash: string): AuthContext | undefined {
    const e = this.entries.get(hash);
    return e && this.now() - e.verifiedAt < this.ttlMs ? e.auth : undefined;
  }

  /**
   * The last verification of a key, however old, unless it was forgotten (revoked) since:
   * what a caller may choose to honour while the database cannot answer.
   */
  lastVerified(hash: string): VerifiedKey | undefined {
    return this.entries.get(hash);
  }

  /** A token to pass to remember(): taken before the database is asked. */
  ticket(): number {
    return this.generation;
  }

  /** Stores a verification, unless a forget happened since `ticket` (the answer may be stale). */
  remember(hash: string, auth: AuthContext, ticket: number): void {
    if (ticket !== this.generation) return;
    this.entries.delete(hash); // re-insert: a Map iterates oldest first, the eviction order
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(hash, { auth, verifiedAt: this.now() });
  }

  /** Forgets keys by visible prefix or by hash. */
  forget(by: { prefix?: string; hash?: string }): void {
    this.generation++;
    if (by.hash) this.entries.delete(by.hash);
    if (by.prefix) for (const [h, e] of this.entries) if (e.auth.keyPrefix === by.prefix) this.entries.delete(h);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

// One cache per database handle: two suites in one process (tests) never share entries.
const caches = new WeakMap<object, KeyCache>();
const publishers = new WeakMap<object, { pub: Redis; guard: RedisGuard }>();

/** The key cache of a database handle (`deps.sql`), created on first use. */
export function keyCacheFor(sql: object): KeyCache {
  let c = caches.get(sql);
  if (!c) caches.set(sql, (c = new KeyCache()));
  return c;
}

/**
 * Forgets a key here and, when this handle is synced through Redis, in every process.
 * A Redis failure is not an error: the other processes' entries still expire within the TTL.
 */
export async function forgetKey(sql: object, by: { prefix?: string; hash?: string }): Promise<void> {
  keyCacheFor(sql).forget(by);
  const p = publishers.get(sql);
  // under the timeout and breaker: a frozen Redis never holds a revocation's answer
  if (p) await p.guard.run('PUBLISH', () => p.pub.publish(CHANNEL, JSON.stringify(by)));
}

/**
 * With a Redis URL: subscribe this handle's cache to revocations made by other processes,
 * and publish its own. Resolves once subscribed (or after 2 s if Redis is down); returns the function that disconnects.
 * Without a URL: nothing to do.
 */
export async function syncKeyCache(sql: object, redisUrl: string | undefined): Promise<() => Promise<void>> {
  if (!redisUrl) return async () => {};
  const opts = { maxRetriesPerRequest: 2, lazyConnect: false } as const;
  const sub = new Redis(redisUrl, opts);
  const pub = new Redis(redisUrl, opts);
  sub.on('error', () => {}); // a lost message is bounded by the TTL
  pub.on('error', () => {});
  sub.on('message', (_channel: string, message: string) => {
    try {
      const by = JSON.parse(message) as { prefix?: string; hash?: string };
      keyCacheFor(sql).forget({ prefix: typeof by.prefix === 'string' ? by.prefix : undefined, hash: typeof by.hash === 'string' ? by.hash : undefined });
    } catch {
      keyCacheFor(sql).clear(); // unreadable: forget everything rather than keep a revoked key
    }
  });
  // Redis down at start is not fatal: ioredis subscribes again when it reconnects, and
  // until then entries expire within the TTL.
  await Promise.race([sub.subscribe(CHANNEL).catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
  publishers.set(sql, { pub, guard: redisGuard(redisUrl, { timeoutMs: 200, breakerOpenMs: 30_000 }) });
  return async () => {
    publishers.delete(sql);
    sub.disconnect();
    pub.disconnect();
  };
}
