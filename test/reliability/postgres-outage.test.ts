// Postgres stopped and restarted under order load: the suite process stays alive, every
// call in the outage gets one sentence (never an internal error), /health says 503, calls
// succeed again without a restart, and the ledger reconciles to the cent.
// RELIABILITY_TRIALS (default 2) repeats the attack.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERNAL, orderLoad, reconcile, replayModels, STORAGE_SENTENCE } from './load.js';
import { connect, privatePostgres, sleep, spawnSuite, type PrivatePostgres, type SuiteProcess } from './procs.js';

const KEY = 'reliability-postgres-outage-key';
const TRIALS = Number(process.env.RELIABILITY_TRIALS ?? 2);
const CLIENTS = 8;

describe('Postgres stopped and restarted under order load', () => {
  let pg: PrivatePostgres;
  let suite: SuiteProcess;
  beforeAll(async () => {
    pg = await privatePostgres();
    suite = await spawnSuite({ DATABASE_URL: pg.url, REDIS_URL: '', AIBT_BOOTSTRAP_KEY: KEY, AIBT_RATE_LIMIT_PER_SEC: '0' });
  });
  afterAll(async () => {
    await suite?.kill('SIGKILL');
    pg?.destroy();
  });

  it(`survives ${TRIALS} outage(s) with ${CLIENTS} order clients, answers in sentences, recovers, and reconciles`, async () => {
    const runs = await connect(suite.urls.runs!, KEY);
    const price = await connect(suite.urls.price!, KEY);
    const health = suite.urls.runs!.replace(/\/mcp$/, '/health');
    const models = await replayModels(runs, CLIENTS);
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    const summary: Record<string, unknown>[] = [];
    try {
      for (let trial = 1; trial <= TRIALS; trial++) {
        const load = orderLoad(suite.urls.trade!, KEY, models);
        await sleep(2500);
        pg.stop('fast');
        await sleep(3000);
        expect(suite.alive(), 'the suite process is alive during the outage').toBe(true);
        expect((await fetch(health)).status).toBe(503);
        // A verified key keeps working for a read that needs no database.
        const status = (await price.callTool({ name: 'get_market_status', arguments: { at: '2025-06-10T15:00:00Z' } })) as any;
        expect(status.isError, JSON.stringify(status.content)).toBeFalsy();
        pg.start();
        // Calls succeed again without a restart.
        const t0 = Date.now();
        let recovered = false;
        while (!recovered && Date.now() - t0 < 30_000) {
          const r = (await runs.callTool({ name: 'list_models', arguments: {} }).catch(() => ({ isError: true }))) as any;
          recovered = !r.isError;
          if (!recovered) await sleep(250);
        }
        expect(recovered, 'calls succeed within 30 s of Postgres returning').toBe(true);
        await sleep(1000);
        await load.stop();
        expect(suite.alive()).toBe(true);
        expect((await fetch(health)).status).toBe(200);

        const texts = [...load.tally.outcomes.keys()];
        // Every refusal during the outage is a sentence about storage (tool result or HTTP 503), never an internal error.
        const unexpected = texts.filter((t) => !t.startsWith('status ') && !STORAGE_SENTENCE.test(t) && !/fetch failed|ECONNRESET|socket hang up/.test(t));
        expect(unexpected, JSON.stringify(Object.fromEntries(load.tally.outcomes))).toEqual([]);
        expect(texts.some((t) => INTERNAL.test(t))).toBe(false);
        const ledger = await reconcile(sql, models.map((m) => m.runId), load.tally.filled);
        expect(ledger.problems).toEqual([]);
        summary.push({ trial, attempts: load.tally.attempts, filled_seen: load.tally.filled.size, ...ledger, outcomes: Object.fromEntries(load.tally.outcomes) });
      }
      expect(suite.stderr()).not.toMatch(/\n\s+at /); // no raw stack on stderr
      for (const line of suite.stdout().trim().split('\n')) expect(() => JSON.parse(line), line).not.toThrow();
      console.log(JSON.stringify({ attack: 'postgres-outage', trials: TRIALS, clients: CLIENTS, summary }));
    } finally {
      await sql.end();
    }
  }, 300_000);
});
