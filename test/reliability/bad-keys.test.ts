// Wrong keys slow only themselves (issue 20 item 4): after a flood of wrong keys from one
// address (every local client shares 127.0.0.1), a valid key this process never verified
// answers its first call in its usual time, while the wrong keys are still being slowed
// (per address and per key prefix) and the ones over the waiting cap get 429.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, type TestSuite } from '../harness.js';

describe('wrong keys slow only themselves', () => {
  let t: TestSuite;
  // the defaults: 10 free wrong keys per 15 min, then 100 ms doubling up to 10 s, 8 waiting at once
  beforeAll(async () => {
    // Wrong keys of earlier test files (limits.test.ts) from 127.0.0.1 count for 15 minutes in a
    // shared Redis: this scenario starts from an address with no wrong keys yet.
    if (process.env.REDIS_URL) {
      const redis = new Redis(process.env.REDIS_URL);
      const stale = await redis.keys('aibt:rl:badkey*');
      if (stale.length) await redis.del(...stale);
      redis.disconnect();
    }
    t = await bootSuite({ env: { AIBT_BAD_KEY_FREE: '10', AIBT_BAD_KEY_MAX_DELAY_MS: '10000', AIBT_RATE_LIMIT_PER_SEC: '100' } });
  });
  afterAll(async () => t?.close());

  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bad-keys', version: '1' } } };
  const post = async (key: string) => {
    const t0 = performance.now();
    const res = await fetch(t.suite.urls.runs!, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(init),
    });
    await res.text();
    return { status: res.status, ms: performance.now() - t0 };
  };

  it("answers a never-verified valid key's first call at its usual speed during a flood of wrong keys", async () => {
    // the usual time: first calls of fresh keys (created in the database, never verified by this process)
    const usual: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { key } = await t.user(['read']);
      const r = await post(key);
      expect(r.status).toBe(200);
      usual.push(r.ms);
    }
    // 16 wrong keys one after another, then 20 in flight at once
    const sequential = [];
    for (let i = 0; i < 16; i++) sequential.push(await post(`aibt_deadbeef_stale${i}`));
    expect(sequential.every((r) => r.status === 401)).toBe(true);
    const flood = Array.from({ length: 20 }, (_, i) => post(`aibt_0badc0de_flood${i}`));
    await new Promise((r) => setTimeout(r, 100)); // the flood is waiting now
    const { key } = await t.user(['read']);
    const first = await post(key);
    const again = await post(key);
    const floodAnswers = await Promise.all(flood);
    const usualMax = Math.max(...usual);
    console.log(
      JSON.stringify({
        case: 'valid key after wrong keys',
        usual_first_call_ms: usual.map(Math.round),
        valid_first_call_ms: Math.round(first.ms),
        wrong_sequential_last_ms: Math.round(sequential.at(-1)!.ms),
        flood_429: floodAnswers.filter((r) => r.status === 429).length,
        flood_401: floodAnswers.filter((r) => r.status === 401).length,
        flood_slowest_ms: Math.round(Math.max(...floodAnswers.map((r) => r.ms))),
      }),
    );
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    // its usual time, not the wrong keys' delay (which is at least 1.6 s by now)
    expect(first.ms).toBeLessThan(Math.max(3 * usualMax, usualMax + 250));
    // the wrong keys themselves are slowed: the 16th waited 2^5 × 100 ms
    expect(sequential.at(-1)!.ms).toBeGreaterThanOrEqual(3200);
    expect(floodAnswers.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    expect(floodAnswers.filter((r) => r.status === 429).length).toBeGreaterThan(0);
  }, 120_000);
});
