// npm run admin -- <command> ... (and aibt admin ...): runs in the suite when it holds the
// embedded database (through its loopback admin endpoint), otherwise against storage directly.
import fs from 'node:fs';
import path from 'node:path';
import { syncKeyCache } from '../auth/key-cache.js';
import { loadConfig } from '../config.js';
import { openDatabase, processAlive, restoreEmbedded } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { setLogSilent } from '../log.js';
import { ADMIN_FILE, buildDeps } from '../runtime.js';
import { runAdminCommand } from './commands.js';

/** Arguments that name files are made absolute here: the suite may run elsewhere. */
const FILE_ARGS: Record<string, number> = { 'import-bars': 0, 'import-actions': 0, backup: 0, restore: 0 };

/** Runs one admin command and prints its lines. */
export async function adminMain(argv: string[]): Promise<void> {
  setLogSilent(true);
  const config = loadConfig();
  const fileArg = FILE_ARGS[argv[0] ?? ''];
  if (fileArg !== undefined && argv[fileArg + 1]) argv[fileArg + 1] = path.resolve(argv[fileArg + 1]!);

  if (argv[0] === 'restore') return print(await restore(config.DATABASE_URL, config.dataDir, argv[1]));
  if (!config.DATABASE_URL) {
    const viaSuite = await throughRunningSuite(config.dataDir, argv);
    if (viaSuite) return print(viaSuite);
  }
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir, poolSize: 2 });
  const deps = buildDeps(config, db);
  // A revoke-key here reaches the running servers' key caches through Redis.
  const unsync = await syncKeyCache(db.sql, config.REDIS_URL);
  try {
    await migrate(db.sql);
    print(await runAdminCommand(deps, argv));
  } finally {
    await unsync();
    await deps.workers.close();
    await deps.cache.close();
    await deps.limits.close();
    await db.close();
  }
}

/** aibt admin restore FILE: a backup into an empty AIBT_DATA_DIR, never under a running suite. */
async function restore(databaseUrl: string | undefined, dataDir: string, file: string | undefined): Promise<string[]> {
  if (!file) throw new Error('Usage: restore FILE (into an empty AIBT_DATA_DIR)');
  if (databaseUrl) throw new Error(`With DATABASE_URL, restore a pg_dump file into an empty database with pg_restore --dbname "$DATABASE_URL" ${file}.`);
  const running = runningSuitePid(dataDir);
  if (running) throw new Error(`A suite (process ${running}) holds ${dataDir}; restore goes into an empty directory: stop it, or set AIBT_DATA_DIR to a new directory.`);
  const pgdata = await restoreEmbedded(dataDir, file);
  const db = await openDatabase({ dataDir });
  try {
    await migrate(db.sql);
    const [orders] = await db.sql<{ n: number }[]>`select count(*)::int as n from orders`;
    return [`Restored ${file} into ${pgdata}: ${orders!.n} orders. Start the suite with this AIBT_DATA_DIR.`];
  } finally {
    await db.close();
  }
}

function runningSuitePid(dataDir: string): number | null {
  const file = path.join(dataDir, ADMIN_FILE);
  if (!fs.existsSync(file)) return null;
  const { pid } = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number };
  return processAlive(pid) ? pid : null;
}

async function throughRunningSuite(dataDir: string, argv: string[]): Promise<string[] | null> {
  const file = path.join(dataDir, ADMIN_FILE);
  if (!fs.existsSync(file)) return null;
  const { pid, url, secret } = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; url: string; secret: string };
  if (!processAlive(pid)) return null;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-aibt-admin-secret': secret },
    body: JSON.stringify({ argv }),
  });
  const body = (await res.json()) as { lines?: string[]; error?: string };
  if (!res.ok) throw new Error(body.error ?? `The running suite answered HTTP ${res.status}.`);
  return body.lines ?? [];
}

function print(lines: string[]): void {
  process.stdout.write(lines.join('\n') + '\n');
}
