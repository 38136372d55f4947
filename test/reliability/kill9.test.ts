// kill -9 under order load, then a restart on the same storage: nothing lost (every order a
// client saw filled is stored filled), nothing duplicated, and the ledger reconciles to the
// cent. On the embedded default (a stale lock left behind) and on Postgres.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../shared/db/database.js';
import { orderLoad, reconcile, replayModels, type Ledger } from './load.js';
import { connect, privatePostgres, sleep, spawnSuite } from './procs.js';

const KEY = 'reliability-kill9-bootstrap-key';
const TRIALS = Number(process.env.RELIABILITY_TRIALS ?? 1);
const CLIENTS = 8;
const env = { AIBT_BOOTSTRAP_KEY: KEY, AIBT_RATE_LIMIT_PER_SEC: '0', REDIS_URL: '' };

async function attack(storageEnv: Record<string, string>, check: (runIds: number[], seen: Set<string>) => Promise<Ledger>) {
  let suite = await spawnSuite({ ...env, ...storageEnv });
  const models = await replayModels(await connect(suite.urls.runs!, KEY), CLIENTS);
  const seen = new Set<string>();
  let attempts = 0;
  for (let trial = 1; trial <= TRIALS; trial++) {
    const load = orderLoad(suite.urls.trade!, KEY, models);
    // Kill mid-stream: once orders are filling (at least 2 s and 10 fills, or 60 s).
    const t0 = Date.now();
    await sleep(2000);
    while (load.tally.filled.size < 10 && Date.now() - t0 < 60_000) await sleep(100);
    await suite.kill('SIGKILL');
    await load.stop();
    for (const id of load.tally.filled) seen.add(id);
    attempts += load.tally.attempts;
    suite = await spawnSuite({ ...env, ...storageEnv });
  }
  await suite.kill('SIGTERM');
  const ledger = await check(models.map((m) => m.runId), seen);
  console.log(JSON.stringify({ attack: 'kill-9', storage: storageEnv.DATABASE_URL ? 'postgres' : 'embedded', trials: TRIALS, clients: CLIENTS, attempts, filled_seen: seen.size, ...ledger }));
  return { ledger, seen };
}

describe('kill -9 under order load', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-rel-kill-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it(`embedded: ${TRIALS} kills, restart, reconcile to the cent`, async () => {
    const { ledger, seen } = await attack({ AIBT_DATA_DIR: dataDir, DATABASE_URL: '' }, async (runIds, seenFilled) => {
      const db = await openDatabase({ dataDir });
      try {
        return await reconcile(db.sql, runIds, seenFilled);
      } finally {
        await db.close();
      }
    });
    expect(seen.size).toBeGreaterThan(0);
    expect(ledger.problems).toEqual([]);
  }, 400_000);

  it(`Postgres: ${TRIALS} kills, restart, reconcile to the cent`, async () => {
    const pg = await privatePostgres();
    try {
      const { ledger, seen } = await attack({ DATABASE_URL: pg.url }, async (runIds, seenFilled) => {
        const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
        try {
          return await reconcile(sql, runIds, seenFilled);
        } finally {
          await sql.end();
        }
      });
      expect(seen.size).toBeGreaterThan(0);
      expect(ledger.problems).toEqual([]);
    } finally {
      pg.destroy();
    }
  }, 400_000);
});
