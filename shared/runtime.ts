// Starts servers: opens storage, migrates, makes sure a key exists, serves each
// ServerSpec on its port, and (embedded only) a loopback admin endpoint for the CLI.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { syncKeyCache } from './auth/key-cache.js';
import { ensureBootstrapKey, ensureDemoKey } from './auth/keys.js';
import { runAdminCommand } from './admin/commands.js';
import { createCache } from './cache.js';
import { loadConfig, serverPort, type Config, type ServerName } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import type { Deps } from './deps.js';
import { createGate } from './gate.js';
import { installLastResort, logEvent } from './log.js';
import { isStorageUnavailable } from './mcp/errors.js';
import { startLiveTicker } from './trading/ticker.js';
import { createMarket } from './market/market.js';
import { createHost, type Host } from './mcp/host.js';
import { createLimits } from './mcp/limits.js';
import { Metrics } from './mcp/metrics.js';
import { WorkerPool } from './workers/pool.js';
import { buildServer, type ServerSpec } from './mcp/server-spec.js';

export interface StartOptions {
  specs: ServerSpec[];
  config?: Config;
  /** Override ports, e.g. 0 for ephemeral ports in tests. */
  ports?: Partial<Record<ServerName, number>>;
  /** Embedded database in memory, no lock and no admin endpoint (tests). */
  inMemory?: boolean;
}

export interface RunningSuite {
  deps: Deps;
  urls: Partial<Record<ServerName, string>>;
  hosts: Partial<Record<ServerName, Host>>;
  /** The key printed at start-up (demo or bootstrap), if any. */
  key?: string;
  keyCreated: boolean;
  /**
   * Graceful stop, before close(): new requests get 503, long tools stop at their next step,
   * and calls in flight get their answers; resolves when none is left or after graceMs.
   */
  drain(graceMs: number): Promise<{ ms: number; unfinished: number }>;
  /** Why the demo key is not printed: its file no longer matches the database (reported, never replaced). */
  keyMismatch?: string;
  close(): Promise<void>;
}

export const ADMIN_FILE = 'admin.json';

export async function startSuite(opts: StartOptions): Promise<RunningSuite> {
  const config = opts.config ?? loadConfig();
  const db = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.dataDir,
    poolSize: config.AIBT_DB_POOL,
    inMemory: opts.inMemory,
    sharedBuffers: config.AIBT_PGLITE_SHARED_BUFFERS,
  });
  const closers: (() => Promise<void>)[] = [() => db.close()];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch((e) => logEvent('shutdown_error', { error: String(e) }));
  };
  try {
    const applied = await migrate(db.sql);
    if (applied.length) logEvent('migrations_applied', { applied });
    const deps = buildDeps(config, db);
    closers.push(() => deps.cache.close());
    closers.push(() => deps.workers.close());
    closers.push(() => deps.limits.close());
    closers.push(await syncKeyCache(db.sql, config.REDIS_URL));

    let key: string | undefined;
    let keyCreated = false;
    let keyMismatch: string | undefined;
    if (config.AIBT_BOOTSTRAP_KEY) {
      await ensureBootstrapKey(db.sql, config.AIBT_BOOTSTRAP_KEY);
      key = config.AIBT_BOOTSTRAP_KEY;
    } else if (db.embedded) {
      ({ key, created: keyCreated, mismatch: keyMismatch } = await ensureDemoKey(db.sql, config.dataDir));
      if (keyMismatch) logEvent('demo_key_mismatch', { message: keyMismatch });
    }

    const loopbackOnly = ['127.0.0.1', 'localhost', '::1'].includes(config.AIBT_HOST);
    const gate = createGate(deps, { probesPerSecond: config.AIBT_PROBES_PER_SEC });
    const urls: RunningSuite['urls'] = {};
    const hosts: RunningSuite['hosts'] = {};
    for (const spec of opts.specs) {
      const host = createHost({ name: spec.name, deps, createServer: () => buildServer(spec, deps), loopbackOnly });
      const port = opts.ports?.[spec.name] ?? serverPort(config, spec.name);
      const server = await listen(gate.wrap(host.app.fetch), config.AIBT_HOST, port);
      closers.push(async () => {
        await host.close();
        await closeServer(server);
      });
      const actual = (server.address() as AddressInfo).port;
      const shownHost = config.AIBT_HOST.includes(':') ? `[${config.AIBT_HOST}]` : config.AIBT_HOST;
      urls[spec.name] = `http://${shownHost}:${actual}/mcp`;
      hosts[spec.name] = host;
    }

    const idleMs = config.AIBT_SESSION_IDLE_MINUTES * 60_000;
    const sweep = setInterval(() => {
      for (const h of Object.values(hosts)) void h!.expireIdle(idleMs);
    }, Math.min(60_000, idleMs));
    sweep.unref();
    closers.push(async () => clearInterval(sweep));

    // The live runs' clock ticks where orders are served.
    if (opts.specs.some((s) => s.name === 'trade') && !opts.inMemory) {
      const stopTicker = startLiveTicker(deps);
      closers.push(async () => stopTicker());
    }
    if (db.embedded && !opts.inMemory) closers.push(await startAdminEndpoint(deps));

    const drain = async (graceMs: number) => {
      const t0 = performance.now();
      gate.begin();
      await gate.settle(graceMs);
      return { ms: Math.round(performance.now() - t0), unfinished: gate.inFlight() };
    };
    return { deps, urls, hosts, key, keyCreated, keyMismatch, drain, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The process-wide dependencies, built the same way by the suite and the admin CLI. */
export function buildDeps(config: Config, db: Database): Deps {
  const cache = createCache(config.REDIS_URL, {
    sql: db.sql,
    listen: !db.embedded, // the embedded database has one process: no one else bumps the epoch
    timeoutMs: config.AIBT_CACHE_TIMEOUT_MS,
    breakerOpenMs: config.AIBT_CACHE_BREAKER_MS,
  });
  const market = createMarket({ sql: db.sql, cache, config });
  const workers = new WorkerPool(
    { sql: db.sql, market },
    { threads: config.AIBT_ANALYST_THREADS, perKey: config.AIBT_ANALYST_PER_KEY, maxQueue: config.AIBT_ANALYST_QUEUE, memoryMb: config.AIBT_ANALYST_MEMORY_MB, workerData: config },
  );
  return { config, db, sql: db.sql, cache, metrics: new Metrics(), limits: createLimits(config), market, workers };
}

function listen(fetch: (req: Request, env?: unknown) => Response | Promise<Response>, hostname: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, () => resolve(server as Server)) as Server;
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`Port ${port} on ${hostname} is already in use; set another port.`) : err),
    );
  });
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    // Open SSE streams would hold close() forever.
    server.closeAllConnections?.();
  });
}

/**
 * While the suite holds the embedded database, the admin CLI reaches it through this
 * loopback endpoint, authenticated by a secret only readable in AIBT_DATA_DIR.
 */
async function startAdminEndpoint(deps: Deps): Promise<() => Promise<void>> {
  const secret = randomBytes(32).toString('hex');
  const app = new Hono();
  app.post('/admin', async (c) => {
    const given = Buffer.from(c.req.header('x-aibt-admin-secret') ?? '');
    const expected = Buffer.from(secret);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return c.json({ error: 'Forbidden.' }, 403);
    const body = (await c.req.json().catch(() => null)) as { argv?: unknown } | null;
    const argv = Array.isArray(body?.argv) ? body!.argv.map(String) : [];
    try {
      return c.json({ lines: await runAdminCommand(deps, argv) });
    } catch (err) {
      return c.json({ error: err instanceof Error ? err.message : String(err) }, 400);
    }
  });
  const server = await listen(app.fetch, '127.0.0.1', 0);
  const file = path.join(deps.config.dataDir, ADMIN_FILE);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin`;
  fs.writeFileSync(file, JSON.stringify({ pid: process.pid, url, secret }), { mode: 0o600 });
  return async () => {
    fs.rmSync(file, { force: true });
    await closeServer(server);
  };
}

/** npm start / npm run start:<server>: run until SIGINT or SIGTERM, then shut down cleanly. */
export async function runUntilSignal(specs: ServerSpec[]): Promise<void> {
  // A driver or socket error nothing caught is logged and the servers keep serving.
  installLastResort(isStorageUnavailable);
  const t0 = performance.now();
  let suite: RunningSuite;
  try {
    suite = await startSuite({ specs });
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const ms = Math.round(performance.now() - t0);
  const lines = [
    `AIBT ${specs.map((s) => s.name).join(', ')} ready in ${ms} ms (${suite.deps.db.where}; cache: ${suite.deps.cache.kind}).`,
    ...Object.entries(suite.urls).map(([name, url]) => `  ${name.padEnd(8)} ${url}`),
  ];
  if (suite.key && suite.keyCreated) lines.push(`Demo key (kept in ${path.join(suite.deps.config.dataDir, 'demo-key')}):`, `  ${suite.key}`);
  else if (suite.key && !suite.deps.config.AIBT_BOOTSTRAP_KEY) lines.push(`Demo key: see ${path.join(suite.deps.config.dataDir, 'demo-key')}`);
  else if (suite.key) lines.push('Key: the one in AIBT_BOOTSTRAP_KEY.');
  else if (suite.keyMismatch) lines.push(suite.keyMismatch);
  process.stderr.write(lines.join('\n') + '\n');
  logEvent('started', { servers: specs.map((s) => s.name), ms, rss_mb: Math.round(process.memoryUsage().rss / 1048576) });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const grace = suite.deps.config.AIBT_SHUTDOWN_GRACE_MS;
    logEvent('stopping', { signal, grace_ms: grace });
    const force = setTimeout(() => process.exit(1), grace + 10_000);
    force.unref();
    const drained = await suite.drain(grace);
    logEvent('drained', drained);
    await suite.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
