// Bounded callers: a key over its request rate gets HTTP 429 with Retry-After; wrong keys
// from one address are slowed down; a read-only key cannot make the suite store bars
// without bound; /metrics stays bounded and well-formed under hostile tool names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, call, type TestSuite } from '../harness.js';

describe('bounded callers', () => {
  let t: TestSuite;
  beforeAll(async () => {
    t = await bootSuite({
      env: { AIBT_RATE_LIMIT_PER_SEC: '5', AIBT_RATE_LIMIT_BURST: '5', AIBT_BAD_KEY_FREE: '3', AIBT_BAD_KEY_MAX_DELAY_MS: '400', AIBT_FETCH_BLOCKS_PER_HOUR: '4' },
    });
  });
  afterAll(async () => t?.close());

  const post = (url: string, key: string, body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(body),
    });
  const list = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'limits', version: '1' } } };

  it('answers 429 with Retry-After past the rate (5/s + burst 5 per 10 s), per key', async () => {
    const { key } = await t.user(['read']);
    const { key: other } = await t.user(['read']);
    const url = t.suite.urls.price!;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    let sentence = '';
    for (let i = 0; i < 30; i++) {
      const res = await post(url, key, list);
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        sentence = ((await res.json()) as any).error.message;
      } else await res.text();
    }
    const limited = statuses.filter((s) => s === 429).length;
    console.log(JSON.stringify({ attack: 'rate-limit', requests: 30, limited, first_429_at: statuses.indexOf(429) + 1 }));
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true); // 5 per second plus a burst of 5
    expect(limited).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(sentence).toMatch(/^Too many requests for key aibt_[0-9a-f]{8}: at most 5 per second/);
    // Another key is not affected.
    expect((await post(url, other, list)).status).toBe(200);
  });

  it('slows down repeated wrong keys from one address, and still serves a verified key at once', async () => {
    const { key } = await t.user(['read']);
    const url = t.suite.urls.runs!;
    expect((await post(url, key, list)).status).toBe(200); // verified: skips the delay later
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const res = await post(url, `aibt_deadbeef_wrong${i}`, list);
      times.push(performance.now() - t0);
      expect(res.status).toBe(401);
    }
    console.log(JSON.stringify({ attack: 'bad-keys', attempts: 6, ms: times.map(Math.round) }));
    // free 3, then 100 ms, 200 ms, 400 ms (the cap) before each further check
    expect(times[3]!).toBeGreaterThanOrEqual(95);
    expect(times[4]!).toBeGreaterThanOrEqual(195);
    expect(times[5]!).toBeGreaterThanOrEqual(395);
    const t0 = performance.now();
    expect((await post(url, key, list)).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(times[5]!);
  });

  it('bounds the blocks of bars one key may cause to be generated and stored', async () => {
    const { key } = await t.user(['read']);
    const price = await t.client('price', key);
    // A symbol and days no other test touches: on the shared Postgres of CI, stored bars cost no fetch.
    const days = ['2012-03-05', '2012-03-06', '2012-03-07', '2012-03-08', '2012-03-09', '2012-03-12'];
    const answers = [];
    for (const d of days) answers.push(await call(price, 'get_bars', { symbol: 'UNH', timespan: 'minute', from: `${d}T13:30:00Z`, to: `${d}T14:00:00Z` }));
    const refused = answers.filter((a) => a.isError);
    console.log(JSON.stringify({ attack: 'fetch-bound', requests: days.length, refused: refused.length }));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.text).toMatch(/fetched or generated 4 blocks of bars in the last hour/);
    // only these days' blocks: test:services leaves other UNH minute blocks (round-trips-step) in CI's Postgres
    const [row] = await t.suite.deps.sql`select count(*)::int as n from price_coverage where symbol = 'UNH' and timespan = 'minute' and block = any(${days})`;
    expect(row!.n).toBeLessThanOrEqual(4);
  });
});
