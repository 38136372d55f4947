// A frozen Redis (SIGSTOP: connections open, no answers) under a running suite (issue 20
// item 5, issue 19 item 5): every Redis use (the cache, the rate limits) goes through one
// timeout and breaker per Redis server, so calls keep answering the same, and the freeze
// costs at most one timeout per breaker period; an event-loop stall while Redis did answer
// is not counted as a Redis failure (the call is judged by its socket's answer).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisGuard } from '../../shared/redis-guard.js';
import { bootSuite, call, type TestSuite } from '../harness.js';
import { privateRedis, sleep, type PrivateRedis } from './procs.js';

const BREAKER_MS = 2000;
const TIMEOUT_MS = 200;

describe('a frozen Redis', () => {
  let redis: PrivateRedis;
  let t: TestSuite;
  beforeAll(async () => {
    redis = await privateRedis();
    t = await bootSuite({
      env: { REDIS_URL: redis.url, AIBT_CACHE_TIMEOUT_MS: String(TIMEOUT_MS), AIBT_CACHE_BREAKER_MS: String(BREAKER_MS), AIBT_RATE_LIMIT_PER_SEC: '1000' },
    });
    for (let i = 0; i < 50 && t.suite.deps.cache.breaker() === 'closed'; i++) {
      if ((await t.suite.deps.cache.ping().then(() => true, () => false))) break;
      await sleep(100);
    }
  });
  afterAll(async () => {
    redis?.resume();
    await t?.close();
    await redis?.destroy();
  });

  it('costs at most one timeout per breaker period, rate limits included, and answers the same', async () => {
    const guard = redisGuard(redis.url, { timeoutMs: TIMEOUT_MS, breakerOpenMs: BREAKER_MS });
    const { key } = await t.user(['read']);
    const price = await t.client('price', key);
    const args = { symbol: 'AAPL', timespan: 'day', from: '2025-05-01', to: '2025-06-13' };
    const timed = async () => {
      const t0 = performance.now();
      const r = await call(price, 'get_bars', args);
      return { ms: performance.now() - t0, r };
    };
    const up = [];
    for (let i = 0; i < 10; i++) up.push(await timed());
    expect(up.every((x) => !x.r.isError)).toBe(true);
    const before = { ...guard.counts };

    redis.pause();
    const frozen: { ms: number; r: Awaited<ReturnType<typeof timed>>['r'] }[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < 3 * BREAKER_MS + 500) frozen.push(await timed());
    const elapsed = performance.now() - t0;
    const slow = frozen.filter((x) => x.ms >= TIMEOUT_MS * 0.9).length;
    const timeouts = guard.counts.timeouts - before.timeouts;
    const periods = Math.ceil(elapsed / BREAKER_MS);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      JSON.stringify({
        case: 'frozen Redis',
        calls: frozen.length,
        elapsed_ms: Math.round(elapsed),
        breaker_ms: BREAKER_MS,
        slow_calls: slow,
        timeouts,
        p50_up_ms: Math.round(median(up.map((x) => x.ms))),
        p50_frozen_ms: Math.round(median(frozen.map((x) => x.ms))),
      }),
    );
    const same = (d: Record<string, unknown>) => ({ ...d, as_of: undefined });
    for (const x of frozen) expect(same(x.r.data)).toEqual(same(up[0]!.r.data));
    try {
      expect(timeouts).toBeGreaterThanOrEqual(1); // the freeze was noticed
      expect(timeouts).toBeLessThanOrEqual(periods);
      // one more Redis use while frozen: it finds the breaker open, or times out and opens it
      // (reading breaker() alone races the end of an open period on a loaded machine)
      await t.suite.deps.cache.get('frozen-probe');
      expect(t.suite.deps.cache.breaker()).toBe('open');
    } finally {
      redis.resume(); // a failure here must not leave Redis stopped for the next test
    }
    await sleep(BREAKER_MS + 100);
    const back = await timed();
    expect(same(back.r.data)).toEqual(same(up[0]!.r.data));
    expect(t.suite.deps.cache.breaker()).toBe('closed');
  });

  it('does not count an event-loop stall as a Redis failure, but does count a frozen socket', async () => {
    const guard = redisGuard(redis.url, { timeoutMs: TIMEOUT_MS, breakerOpenMs: BREAKER_MS });
    await sleep(BREAKER_MS + 100); // any breaker from the test before has closed
    const cache = t.suite.deps.cache;
    await cache.set('stall-probe', 'v', 60);
    const before = { ...guard.counts };
    // Redis answers at once, but the loop is busy for 3 timeouts: the timer fires late.
    const pending = cache.get('stall-probe');
    const busyUntil = performance.now() + 3 * TIMEOUT_MS;
    while (performance.now() < busyUntil) {
      // a synchronous analyst computation
    }
    expect(await pending).toBe('v');
    const limited = await t.suite.deps.limits.request({ userId: 1, userName: 'x', keyId: 999_999, keyPrefix: 'aibt_00000000', scopes: ['read'] });
    expect(limited).toBeNull();
    console.log(JSON.stringify({ case: 'event-loop stall', stall_ms: 3 * TIMEOUT_MS, timeouts: guard.counts.timeouts - before.timeouts, breaker: cache.breaker() }));
    expect(guard.counts.timeouts - before.timeouts).toBe(0);
    expect(cache.breaker()).toBe('closed');

    // the same call against a frozen Redis does time out and opens the breaker
    redis.pause();
    try {
      expect(await cache.get('stall-probe')).toBeNull();
      expect(guard.counts.timeouts - before.timeouts).toBe(1);
      expect(cache.breaker()).toBe('open');
    } finally {
      redis.resume();
    }
  });
});
