// Redis stopped and restarted under a running suite: every price-dependent answer is the
// same with Redis up, down and back (the cache is never required), each answered promptly,
// and the process stays up. Redis here is a private one, so stopping it harms no other test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { connect, privatePostgres, privateRedis, sleep, spawnSuite, type PrivatePostgres, type PrivateRedis, type SuiteProcess } from './procs.js';

const KEY = 'reliability-redis-outage-key';

describe('Redis stopped and restarted', () => {
  let pg: PrivatePostgres;
  let redis: PrivateRedis;
  let suite: SuiteProcess;
  beforeAll(async () => {
    pg = await privatePostgres();
    redis = await privateRedis();
    suite = await spawnSuite({ DATABASE_URL: pg.url, REDIS_URL: redis.url, AIBT_BOOTSTRAP_KEY: KEY, AIBT_RATE_LIMIT_PER_SEC: '0' });
  });
  afterAll(async () => {
    await suite?.kill('SIGKILL');
    await redis?.destroy();
    pg?.destroy();
  });

  it('gives identical answers with Redis up, down and back', async () => {
    const runs = await connect(suite.urls.runs!, KEY);
    const price = await connect(suite.urls.price!, KEY);
    const trade = await connect(suite.urls.trade!, KEY);
    const rules = await connect(suite.urls.rules!, KEY);
    const m = ((await runs.callTool({ name: 'create_model', arguments: { name: 'redis', initial_cash: 50_000 } })) as any).structuredContent;
    const r = ((await runs.callTool({ name: 'start_run', arguments: { model_id: m.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-20', symbols: ['AAPL'] } })) as any).structuredContent;
    await trade.callTool({ name: 'buy', arguments: { model_id: m.model_id, symbol: 'AAPL', quantity: 3 } });
    const calls: [Client, string, Record<string, unknown>][] = [
      [price, 'get_price', { symbol: 'AAPL', run_id: r.run_id }],
      [price, 'get_bars', { symbol: 'AAPL', timespan: 'day', from: '2025-05-01', run_id: r.run_id }],
      [price, 'get_indicators', { symbol: 'AAPL', timespan: 'day', indicators: [{ name: 'sma', period: 5 }, { name: 'rsi' }], run_id: r.run_id }],
      [trade, 'get_portfolio', { model_id: m.model_id }],
      [rules, 'check_order', { model_id: m.model_id, side: 'buy', symbol: 'AAPL', quantity: 2 }],
      [trade, 'preview_order', { model_id: m.model_id, side: 'buy', symbol: 'AAPL', quantity: 2 }],
    ];
    const answers = async () => {
      const out: Record<string, unknown> = {};
      let slowest = 0;
      for (const [c, name, args] of calls) {
        const t0 = performance.now();
        const res = (await c.callTool({ name, arguments: args })) as any;
        slowest = Math.max(slowest, performance.now() - t0);
        out[name] = res.isError ? { error: res.content[0].text } : res.structuredContent;
      }
      return { out, slowest };
    };
    const up = await answers();
    for (const [name, a] of Object.entries(up.out)) expect((a as any).error, `${name} with Redis up`).toBeUndefined();
    await redis.stop();
    const down = await answers();
    const downAgain = await answers(); // breaker open by now
    await redis.start();
    await sleep(2500); // ioredis reconnects within 2 s
    const back = await answers();
    console.log(JSON.stringify({ attack: 'redis-outage', tools: calls.length, slowest_ms: { up: Math.round(up.slowest), down: Math.round(down.slowest), down_again: Math.round(downAgain.slowest), back: Math.round(back.slowest) } }));
    expect(down.out).toEqual(up.out);
    expect(downAgain.out).toEqual(up.out);
    expect(back.out).toEqual(up.out);
    expect(suite.alive()).toBe(true);
    const health = await fetch(suite.urls.price!.replace(/\/mcp$/, '/health'));
    expect(health.status).toBe(200);
  });
});
