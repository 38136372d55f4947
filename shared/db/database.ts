// The one way to reach storage: postgres.js against DATABASE_URL, or against the
// embedded PGlite under AIBT_DATA_DIR served in-process through pglite-socket.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { countingSocket, type CountingSocket, type RoundTripCounter } from './round-trips.js';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** Anything that runs a query: the pool or an open transaction. */
export type Q = Sql | Tx;

/**
 * Waits for statements issued without awaiting in between (postgres.js pipelines them: one
 * round trip, executed in issue order); the first failure in issue order is thrown, so a
 * transaction rolls back on it rather than on a later "transaction is aborted".
 */
export async function settleAll(statements: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(statements)).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

export interface Database {
  sql: Sql;
  embedded: boolean;
  /** Where the data lives, for people: a directory or a redacted URL. */
  where: string;
  /** Database round trips made through `sql` (bench/ and the round-trip tests read it). */
  roundTrips: RoundTripCounter;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string;
  dataDir: string;
  /** Pool size for a real Postgres; the embedded database always gets one connection. */
  poolSize?: number;
  /** Keep the embedded database in memory (tests); no lock file is taken. */
  inMemory?: boolean;
  /** The embedded database's shared_buffers (AIBT_PGLITE_SHARED_BUFFERS), e.g. "16MB". */
  sharedBuffers?: string;
}

/** PGlite's own default is 128MB; the suite's working set is far smaller. */
export const DEFAULT_PGLITE_SHARED_BUFFERS = '16MB';

const driverOptions = {
  onnotice: () => {},
  // A database that does not answer fails a call in seconds (the driver's default is 30 s).
  connect_timeout: 10,
  // Ids are int4; counts come back as int8 strings unless cast, which the stores do.
  connection: { application_name: 'aibt' },
} as const;

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const counting = countingSocket(opts.databaseUrl);
    const sql = postgres(opts.databaseUrl, { ...driverOptions, max: opts.poolSize ?? 10, ...socketOption(counting.socket) });
    await sql`select 1`;
    return { sql, embedded: false, where: redact(opts.databaseUrl), roundTrips: counting.counter, close: () => sql.end({ timeout: 5 }) };
  }
  return openEmbedded(opts.dataDir, opts.inMemory ?? false, opts.sharedBuffers ?? DEFAULT_PGLITE_SHARED_BUFFERS);
}

/** postgres.js documents `socket` (README "Custom socket") but its types omit it. */
function socketOption(socket: CountingSocket['socket']): postgres.Options<{}> {
  return (socket ? { socket } : {}) as postgres.Options<{}>;
}

export class EmbeddedInUseError extends Error {}

async function openEmbedded(dataDir: string, inMemory: boolean, sharedBuffers: string): Promise<Database> {
  const release = inMemory ? () => {} : acquireLock(dataDir);
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`];
    const pgdata = path.join(dataDir, 'pglite');
    if (!inMemory && !fs.existsSync(path.join(pgdata, 'PG_VERSION'))) await initdbInChild(pgdata, startParams);
    const db = await PGlite.create(inMemory ? 'memory://' : pgdata, { startParams });
    const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1' });
    await server.start();
    const [host, port] = server.getServerConn().split(':');
    // PGlite is single-connection: one pooled connection also serializes transactions.
    const counting = countingSocket(null);
    const sql = postgres({ ...driverOptions, host, port: Number(port), max: 1, user: 'postgres', database: 'postgres', ...socketOption(counting.socket) });
    await sql`select 1`;
    return {
      sql,
      embedded: true,
      roundTrips: counting.counter,
      where: inMemory ? 'embedded PGlite (in memory)' : `embedded PGlite in ${path.join(dataDir, 'pglite')}`,
      async close() {
        await sql.end({ timeout: 5 });
        await server.stop();
        await db.close();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * Creates a fresh embedded data directory in a short-lived child process: initdb's memory
 * (hundreds of MB of WebAssembly heap) goes back to the system when the child exits
 * instead of staying in the suite's resident set.
 */
async function initdbInChild(pgdata: string, startParams: string[]): Promise<void> {
  const pglite = import.meta.resolve('@electric-sql/pglite');
  const code = `const { PGlite } = await import(${JSON.stringify(pglite)});
const db = await PGlite.create(${JSON.stringify(pgdata)}, { startParams: ${JSON.stringify(startParams)} });
await db.close();`;
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', code], { timeout: 300_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`Could not create the embedded database in ${pgdata}: ${stderr.trim() || err.message}`)) : resolve(),
    );
  });
}

/** Refuse a second process on the same embedded data directory, in one clear sentence. */
function acquireLock(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'db.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (pid && processAlive(pid)) {
        throw new EmbeddedInUseError(
          `The embedded database in ${dataDir} is already open in process ${pid}; stop that process, use another AIBT_DATA_DIR, or set DATABASE_URL to a shared Postgres.`,
        );
      }
      fs.rmSync(lockPath, { force: true }); // stale lock from a process that is gone
    }
  }
  throw new EmbeddedInUseError(`Could not lock the embedded database in ${dataDir}.`);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'DATABASE_URL';
  }
}
