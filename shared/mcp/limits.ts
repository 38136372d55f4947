// Bounded callers, through rate-limiter-flexible (memory, or Redis when REDIS_URL is set so
// replicas share the counts; every Redis call goes through a timeout and breaker
// (shared/redis-guard.ts) and falls back to the in-memory copy, so a frozen Redis costs at
// most one timeout per breaker period):
// - requests per key on /mcp: a sustained rate per second plus a burst allowance (the
//   library's BurstyRateLimiter: a token bucket's refill rate and depth), else HTTP 429
//   with Retry-After;
// - wrong keys, counted per client address and per key prefix: after a few, each further
//   refusal of a wrong key waits longer before it is answered (doubling, capped), and only a
//   few may wait at once. The delay is spent only by requests whose key is wrong: a key that
//   verifies is never slowed, however many wrong keys its address sent;
// - bars fetched or generated (and so stored) per key: a read that would store more blocks
//   than the key's allowance is refused with a sentence.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Redis } from 'ioredis';
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AuthContext } from '../auth/keys.js';
import type { Config } from '../config.js';
import { redisGuard, type RedisGuard } from '../redis-guard.js';
import { ToolError } from './errors.js';

export type LimitsConfig = Pick<
  Config,
  'REDIS_URL' | 'AIBT_CACHE_TIMEOUT_MS' | 'AIBT_CACHE_BREAKER_MS' | 'AIBT_RATE_LIMIT_PER_SEC' | 'AIBT_RATE_LIMIT_BURST' | 'AIBT_BAD_KEY_FREE' | 'AIBT_BAD_KEY_MAX_DELAY_MS' | 'AIBT_FETCH_BLOCKS_PER_HOUR'
>;

export interface Refusal {
  status: 429;
  retryAfterSeconds: number;
  message: string;
}

export interface Limits {
  /** Consumes one request of this key; a refusal when it is over its rate. */
  request(auth: AuthContext): Promise<Refusal | null>;
  /**
   * After a key was refused: counts it against the address and the key's visible prefix, then
   * waits the delay those counts have earned (null), or refuses at once when too many wait.
   */
  badKey(address: string, prefix: string): Promise<Refusal | null>;
  /** Runs fn with this key as the caller, for fetch bounds deep in the market. */
  asCaller<T>(auth: AuthContext, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const caller = new AsyncLocalStorage<{ auth: AuthContext; limits: InternalLimits }>();

interface InternalLimits {
  fetchLimiter: RateLimiterAbstract;
  fetchPerHour: number;
}

/**
 * Called where the market is about to fetch or generate one block of bars that it will
 * store: consumes one block of the calling key's allowance. Calls outside a request (the
 * live ticker, the admin CLI, tests of the market alone) are not bounded here.
 * Throws ToolError RATE_LIMITED with a sentence when the allowance is spent.
 */
export async function chargeFetch(what: string): Promise<void> {
  const ctx = caller.getStore();
  if (!ctx) return;
  try {
    await ctx.limits.fetchLimiter.consume(`fetch:${ctx.auth.keyId}`, 1);
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) return; // the store failed: do not refuse the read for it
    const s = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
    throw new ToolError(
      'RATE_LIMITED',
      `This key has fetched or generated ${ctx.limits.fetchPerHour} blocks of bars in the last hour, the most allowed (AIBT_FETCH_BLOCKS_PER_HOUR); ${what} was not fetched. Try again in ${s} s.`,
    );
  }
}

const BAD_KEY_WINDOW_S = 15 * 60;
/** Unknown-key checks from one address that may wait at once; more are refused outright. */
const MAX_WAITING_PER_ADDRESS = 8;

export function createLimits(config: LimitsConfig): Limits {
  const redis = config.REDIS_URL
    ? new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: (n) => Math.min(n * 200, 2000) })
    : null;
  redis?.on('error', () => {
    // a failing Redis falls back to the in-memory counts (the guard below)
  });
  const guard = config.REDIS_URL ? redisGuard(config.REDIS_URL, { timeoutMs: config.AIBT_CACHE_TIMEOUT_MS, breakerOpenMs: config.AIBT_CACHE_BREAKER_MS }) : null;
  const make = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    return redis && guard ? guardedLimiter(new RateLimiterRedis({ storeClient: redis, keyPrefix: `aibt:rl:${keyPrefix}`, points, duration }), memory, redis, guard) : memory;
  };
  const perSec = config.AIBT_RATE_LIMIT_PER_SEC;
  const requests = new BurstyRateLimiter(make('req', perSec, 1), make('req-burst', config.AIBT_RATE_LIMIT_BURST, 10));
  const badKeys = make('badkey', 1_000_000, BAD_KEY_WINDOW_S);
  const internal: InternalLimits = { fetchLimiter: make('fetch', config.AIBT_FETCH_BLOCKS_PER_HOUR, 3600), fetchPerHour: config.AIBT_FETCH_BLOCKS_PER_HOUR };
  const waiting = new Map<string, number>();

  return {
    async request(auth) {
      if (perSec <= 0) return null;
      try {
        await requests.consume(`key:${auth.keyId}`, 1);
        return null;
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) return null; // the store failed: serve
        const s = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
        return {
          status: 429,
          retryAfterSeconds: s,
          message: `Too many requests for key ${auth.keyPrefix}: at most ${perSec} per second plus a burst of ${config.AIBT_RATE_LIMIT_BURST} per 10 s (AIBT_RATE_LIMIT_PER_SEC, AIBT_RATE_LIMIT_BURST). Retry after ${s} s.`,
        };
      }
    },

    async badKey(address, prefix) {
      const [byAddress, byPrefix] = await Promise.all([
        badKeys.consume(`addr:${address}`, 1).catch((r: unknown) => (r instanceof RateLimiterRes ? r : null)),
        badKeys.consume(`prefix:${prefix}`, 1).catch((r: unknown) => (r instanceof RateLimiterRes ? r : null)),
      ]);
      // after AIBT_BAD_KEY_FREE wrong keys, the next refusal waits 100 ms, then 200 ms, 400 ms…
      const excess = Math.max(byAddress?.consumedPoints ?? 0, byPrefix?.consumedPoints ?? 0) - config.AIBT_BAD_KEY_FREE;
      if (excess <= 0) return null;
      const delay = Math.min(config.AIBT_BAD_KEY_MAX_DELAY_MS, 100 * 2 ** Math.min(excess - 1, 20));
      const now = waiting.get(address) ?? 0;
      if (now >= MAX_WAITING_PER_ADDRESS) {
        return {
          status: 429,
          retryAfterSeconds: Math.ceil(delay / 1000),
          message: `Too many wrong API keys from this address; wrong keys from it are answered slowly. Retry after ${Math.ceil(delay / 1000)} s with a valid key.`,
        };
      }
      waiting.set(address, now + 1);
      try {
        await new Promise((r) => setTimeout(r, delay));
      } finally {
        const left = (waiting.get(address) ?? 1) - 1;
        if (left <= 0) waiting.delete(address);
        else waiting.set(address, left);
      }
      return null;
    },

    asCaller(auth, fn) {
      return caller.run({ auth, limits: internal }, fn);
    },

    async close() {
      redis?.disconnect();
    },
  };
}

/**
 * A Redis limiter whose calls go through the guard; while Redis errs, stalls or the breaker is
 * open, the in-memory limiter answers instead (what rate-limiter-flexible's insuranceLimiter
 * does, plus a timeout and a breaker). Only consume and get are used here.
 */
function guardedLimiter(store: RateLimiterRedis, memory: RateLimiterMemory, redis: Redis, guard: RedisGuard): RateLimiterAbstract {
  const via = async <T>(what: string, call: () => Promise<T>, fallback: () => Promise<T>): Promise<T> => {
    if (redis.status !== 'ready') return fallback();
    // a refusal (RateLimiterRes) is Redis's answer, not a failure: pass it through
    const r = await guard.run(what, () => call().then((v) => ({ v }), (e: unknown) => (e instanceof RateLimiterRes ? { refused: e } : Promise.reject(e))));
    if (!r.ok) return fallback();
    if ('refused' in r.value) throw r.value.refused;
    return r.value.v;
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'consume') return (key: string, points = 1) => via('rate limit', () => target.consume(key, points), () => memory.consume(key, points));
      if (prop === 'get') return (key: string) => via('rate limit read', () => target.get(key), () => memory.get(key));
      return Reflect.get(target, prop, receiver);
    },
  });
}
