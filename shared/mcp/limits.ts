// Bounded callers, through rate-limiter-flexible (memory, or Redis when REDIS_URL is set so
// replicas share the counts; a Redis that fails or stalls falls back to the in-memory copy):
// - requests per key on /mcp: a sustained rate per second plus a burst allowance (the
//   library's BurstyRateLimiter: a token bucket's refill rate and depth), else HTTP 429
//   with Retry-After;
// - bad keys per client address: after a few, each further check of an unknown key from
//   that address waits longer (doubling, capped), and only a few such checks may wait at once;
// - bars fetched or generated (and so stored) per key: a read that would store more blocks
//   than the key's allowance is refused with a sentence.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Redis } from 'ioredis';
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AuthContext } from '../auth/keys.js';
import type { Config } from '../config.js';
import { ToolError } from './errors.js';

export type LimitsConfig = Pick<
  Config,
  'REDIS_URL' | 'AIBT_RATE_LIMIT_PER_SEC' | 'AIBT_RATE_LIMIT_BURST' | 'AIBT_BAD_KEY_FREE' | 'AIBT_BAD_KEY_MAX_DELAY_MS' | 'AIBT_FETCH_BLOCKS_PER_HOUR'
>;

export interface Refusal {
  status: 429;
  retryAfterSeconds: number;
  message: string;
}

export interface Limits {
  /** Consumes one request of this key; a refusal when it is over its rate. */
  request(auth: AuthContext): Promise<Refusal | null>;
  /** Before an unknown key is checked: waits the address's delay, or refuses when too many wait. */
  beforeKeyCheck(address: string): Promise<Refusal | null>;
  /** After a key was refused: counts it against the address. */
  badKey(address: string): Promise<void>;
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
    ? new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 200, connectTimeout: 2000, retryStrategy: (n) => Math.min(n * 200, 2000) })
    : null;
  redis?.on('error', () => {
    // a failing Redis falls back to the in-memory limiter (insuranceLimiter)
  });
  const make = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    return redis ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `aibt:rl:${keyPrefix}`, points, duration, insuranceLimiter: memory }) : memory;
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

    async beforeKeyCheck(address) {
      const seen = await badKeys.get(address).catch(() => null);
      // after AIBT_BAD_KEY_FREE wrong keys, the next check waits 100 ms, then 200 ms, 400 ms…
      const excess = (seen?.consumedPoints ?? 0) - config.AIBT_BAD_KEY_FREE + 1;
      if (excess <= 0) return null;
      const delay = Math.min(config.AIBT_BAD_KEY_MAX_DELAY_MS, 100 * 2 ** Math.min(excess - 1, 20));
      const now = waiting.get(address) ?? 0;
      if (now >= MAX_WAITING_PER_ADDRESS) {
        return {
          status: 429,
          retryAfterSeconds: Math.ceil(delay / 1000),
          message: `Too many wrong API keys from this address; key checks from it are slowed down. Retry after ${Math.ceil(delay / 1000)} s with a valid key.`,
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

    async badKey(address) {
      await badKeys.consume(address, 1).catch(() => {});
    },

    asCaller(auth, fn) {
      return caller.run({ auth, limits: internal }, fn);
    },

    async close() {
      redis?.disconnect();
    },
  };
}
