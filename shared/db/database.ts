// The one way to reach storage: postgres.js against DATABASE_URL, or against the
// embedded PGlite under AIBT_DATA_DIR served in-process through pglite-socket.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { logEvent } from '../log.js';
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
  /**
   * The embedded database only: its whole data directory as a gzipped tarball (PGlite's
   * dumpDataDir), taken while holding the one connection, so no transaction is half done in it;
   * `describe` reads the same state on that connection (what the backup holds).
   */
  dumpEmbedded?<T>(describe: (q: Q) => Promise<T>): Promise<{ tarball: Uint8Array; described: T }>;
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
  // Outages are answered in under 2 s (issue 19 item 6): a connection that cannot be made in
  // 1.5 s fails its query (the driver's default waits 30 s), and a closed connection is
  // tried again after 0.1 s. The driver's default backoff grows to 10-20 s after a few
  // refused connects under load, and a query handed to that connection waits the whole
  // delay before its connect is even tried: calls hung 15-50 s in an outage under 8 order
  // clients while idle ones answered in milliseconds.
  connect_timeout: 1.5,
  backoff: () => 0.1,
  // Ids are int4; counts come back as int8 strings unless cast, which the stores do.
  connection: { application_name: 'aibt' },
} as const;

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const counting = countingSocket(opts.databaseUrl);
    const sql = postgres(opts.databaseUrl, {
      ...driverOptions,
      // A statement that runs away (a lock never granted, a server that stalls) is cut by the
      // server after 30 s, and a transaction left idle by a stalled client after 60 s, so a
      // pool connection comes back.
      connection: { ...driverOptions.connection, statement_timeout: 30_000, idle_in_transaction_session_timeout: 60_000 },
      max: opts.poolSize ?? 10,
      ...socketOption(counting.socket),
    });
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

/** The embedded data directory holds something that is not a database AIBT can open; nothing was written. */
export class DataDirectoryError extends Error {}

async function openEmbedded(dataDir: string, inMemory: boolean, sharedBuffers: string): Promise<Database> {
  const release = inMemory ? () => {} : acquireLock(dataDir);
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`];
    const pgdata = path.join(dataDir, 'pglite');
    if (!inMemory) {
      // initdb only into an absent or empty directory: never over data (a lost PG_VERSION
      // would otherwise wipe every order and write a new demo key).
      const files = countFiles(pgdata);
      if (files === 0) await initdbInChild(pgdata, startParams);
      else if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) {
        throw new DataDirectoryError(
          `The embedded data directory ${pgdata} holds ${files} files but no PG_VERSION, so it is not a database AIBT can open; nothing was written. Restore from a backup (aibt admin restore FILE) or move it aside to start fresh.`,
        );
      }
    }
    let db: InstanceType<typeof PGlite>;
    try {
      db = await PGlite.create(inMemory ? 'memory://' : pgdata, { startParams });
    } catch (err) {
      if (inMemory) throw err;
      const reason = (err instanceof Error ? err.message : String(err)).split('.')[0]!.trim();
      throw new DataDirectoryError(
        `The embedded database in ${pgdata} (${countFiles(pgdata)} files) is damaged and does not open (PGlite: ${reason}); nothing was written. Restore from a backup (aibt admin restore FILE) or move it aside to start fresh.`,
      );
    }
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
      async dumpEmbedded(describe) {
        const conn = await sql.reserve();
        try {
          await conn`checkpoint`;
          const described = await describe(conn as unknown as Q);
          return { tarball: new Uint8Array(await (await db.dumpDataDir('gzip')).arrayBuffer()), described };
        } finally {
          conn.release();
        }
      },
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
 * Restores a backup made by `aibt admin backup` into AIBT_DATA_DIR, which must hold no
 * database (pglite/ absent or empty) and no running suite. Returns the directory restored.
 * Throws DataDirectoryError with a sentence when the directory is in use or not empty, or
 * the file is not a backup.
 */
export async function restoreEmbedded(dataDir: string, file: string): Promise<string> {
  const pgdata = path.join(dataDir, 'pglite');
  const present = countFiles(pgdata);
  if (present > 0) {
    throw new DataDirectoryError(`${pgdata} already holds ${present} files; restore goes into an empty directory only: set AIBT_DATA_DIR to a new directory, or move this one aside.`);
  }
  if (!fs.existsSync(file)) throw new DataDirectoryError(`There is no backup file ${file}.`);
  const release = acquireLock(dataDir);
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const blob = new Blob([fs.readFileSync(file)]);
    let db: InstanceType<typeof PGlite>;
    try {
      db = await PGlite.create(pgdata, { loadDataDir: blob, startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${DEFAULT_PGLITE_SHARED_BUFFERS}`] });
    } catch (err) {
      fs.rmSync(pgdata, { recursive: true, force: true });
      throw new DataDirectoryError(`${file} is not a backup made by aibt admin backup (${(err instanceof Error ? err.message : String(err)).split('.')[0]}); nothing was restored.`);
    }
    await db.query('select 1');
    await db.close();
    return pgdata;
  } finally {
    release();
  }
}

/** Files (not directories) under dir, 0 when it is absent. */
export function countFiles(dir: string): number {
  try {
    return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).length;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
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

interface LockOwner {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22); null off Linux. */
  started: string | null;
}

/** A process's start time (Linux), which tells a PID's owner from a later process given the same PID. */
function processStarted(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the lock's owner still runs: the same PID started at the same time (an old bare-PID lock: a live node process). */
function lockHeld(owner: LockOwner): boolean {
  if (!owner.pid || !processAlive(owner.pid)) return false;
  if (owner.started) {
    const now = processStarted(owner.pid);
    return now === null || now === owner.started;
  }
  try {
    return /node/.test(fs.readFileSync(`/proc/${owner.pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc: trust the PID
  }
}

function readLock(lockPath: string): LockOwner {
  const text = fs.readFileSync(lockPath, 'utf8').trim();
  try {
    const o = JSON.parse(text) as Partial<LockOwner> | number;
    if (typeof o === 'number') return { pid: o, started: null };
    return { pid: Number(o.pid) || 0, started: typeof o.started === 'string' ? o.started : null };
  } catch {
    return { pid: Number(text) || 0, started: null };
  }
}

/**
 * Refuse a second process on the same embedded data directory, in one clear sentence. A lock
 * whose process is gone, or whose PID now belongs to another program, is taken over with a log line.
 */
function acquireLock(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'db.lock');
  const mine: LockOwner = { pid: process.pid, started: processStarted(process.pid) };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, JSON.stringify(mine), { flag: 'wx' });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readLock(lockPath);
      if (lockHeld(owner)) {
        throw new EmbeddedInUseError(
          `The embedded database in ${dataDir} is already open in process ${owner.pid}; stop that process, use another AIBT_DATA_DIR, or set DATABASE_URL to a shared Postgres.`,
        );
      }
      logEvent('stale_lock_taken_over', { lock: lockPath, pid: owner.pid, reason: owner.pid && processAlive(owner.pid) ? 'the PID now belongs to another program' : 'the process is gone' });
      fs.rmSync(lockPath, { force: true });
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
