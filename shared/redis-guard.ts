// One timeout and circuit breaker for every Redis use (the cache, the rate limits, the key
// cache's revocations): a frozen or lost Redis costs a caller at most one timeout per breaker
// period, and the caller falls back (Postgres, the in-memory counts).
//
// A call is judged by its own socket's answer, not by wall time: when the timer fires, the
// event loop first reads whatever the socket already holds (one setImmediate turn: timers,
// then I/O, then immediates), so an answer that arrived while the loop was stalled by other
// work (an analyst computation) still counts as an answer, and does not open the breaker.
import { errorFields, logEvent } from './log.js';

export interface GuardOptions {
  /** Names the Redis use in log lines: cache, limits, key-cache. */
  name: string;
  /** Per call, ms. */
  timeoutMs: number;
  /** Consecutive errors that open the breaker; a timeout opens it at once (it is what costs time). */
  breakerFailures?: number;
  /** How long an open breaker skips Redis, ms. */
  breakerOpenMs: number;
  now?: () => number;
}

export type Guarded<T> = { ok: true; value: T } | { ok: false; reason: 'open' | 'timeout' | 'error'; error?: unknown };

export class RedisTimeout extends Error {}

const shared = new Map<string, RedisGuard>();

/**
 * The guard of one Redis server (by URL), shared by every use in the process: a frozen
 * Redis opens one breaker, so the cache, the rate limits and the key cache together pay one
 * timeout per breaker period, not one each. The first caller's options win.
 */
export function redisGuard(url: string, opts: Omit<GuardOptions, 'name'>): RedisGuard {
  let g = shared.get(url);
  if (!g) shared.set(url, (g = new RedisGuard({ ...opts, name: url.replace(/\/\/[^@]*@/, '//***@') })));
  return g;
}

export class RedisGuard {
  private failures = 0;
  private openUntil = 0;
  /** Calls that timed out, errored, or were skipped while open (tests and /metrics read them). */
  readonly counts = { timeouts: 0, errors: 0, skipped: 0, opened: 0 };

  constructor(private readonly opts: GuardOptions) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  state(): 'open' | 'closed' {
    return this.now() < this.openUntil ? 'open' : 'closed';
  }

  /** Runs `call` under the timeout and the breaker; never throws. */
  async run<T>(what: string, call: () => Promise<T>): Promise<Guarded<T>> {
    if (this.state() === 'open') {
      this.counts.skipped++;
      return { ok: false, reason: 'open' };
    }
    let settled: Guarded<T> | undefined;
    const p = call().then(
      (value) => (settled = { ok: true, value }),
      (error: unknown) => (settled = { ok: false, reason: 'error', error }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.opts.timeoutMs);
    });
    const first = await Promise.race([p, timedOut]);
    clearTimeout(timer);
    if (first === 'timeout' && !settled) {
      // Let the loop read the socket before judging: a late timer is not a late Redis.
      await new Promise((r) => setImmediate(r));
    }
    const result: Guarded<T> = settled ?? { ok: false, reason: 'timeout', error: new RedisTimeout(`Redis did not answer ${what} within ${this.opts.timeoutMs} ms`) };
    if (result.ok) {
      this.failures = 0;
      return result;
    }
    if (result.reason === 'timeout') this.counts.timeouts++;
    else this.counts.errors++;
    this.failures++;
    if (result.reason === 'timeout' || this.failures >= (this.opts.breakerFailures ?? 3)) {
      this.openUntil = this.now() + this.opts.breakerOpenMs;
      this.failures = 0;
      this.counts.opened++;
      logEvent('redis_breaker_open', { use: this.opts.name, for_ms: this.opts.breakerOpenMs, ...errorFields(result.error, false) });
    }
    return result;
  }
}
