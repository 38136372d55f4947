// `aibt stdio`: the chosen servers' tools (and prompts/resources) as one MCP server over
// stdio, in this process, on the embedded database (or DATABASE_URL), for a client that
// launches a command (Claude Desktop, Cursor, an SDK StdioClientTransport).
// Both eras: serveStdio pins the connection to the era its opening selects (server/discover
// for 2026-07-28, initialize for the 2025 revisions).
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { authenticate, ensureBootstrapKey, ensureDemoKey } from './auth/keys.js';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { migrate } from './db/migrate.js';
import { setLogSilent } from './log.js';
import { buildServer, type ServerSpec } from './mcp/server-spec.js';
import { buildDeps } from './runtime.js';

/**
 * Serves `specs` on stdin/stdout until stdin closes or SIGTERM/SIGINT. The caller acts as the
 * key in AIBT_KEY, else AIBT_BOOTSTRAP_KEY, else the embedded demo key (every scope).
 * stdout carries only JSON-RPC: logs are off.
 */
export async function runStdio(specs: ServerSpec[]): Promise<void> {
  setLogSilent(true);
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir, poolSize: config.AIBT_DB_POOL });
  await migrate(db.sql);
  const deps = buildDeps(config, db);
  let key = process.env.AIBT_KEY?.trim() || config.AIBT_BOOTSTRAP_KEY;
  if (!key && config.AIBT_BOOTSTRAP_KEY) await ensureBootstrapKey(db.sql, config.AIBT_BOOTSTRAP_KEY);
  if (!key && db.embedded) key = (await ensureDemoKey(db.sql, config.dataDir)).key;
  const auth = key ? await authenticate(db.sql, key) : null;
  if (!auth) throw new Error('No usable key for aibt stdio: set AIBT_KEY to a key (npm run admin -- create-user prints one).');

  // stdio has no header to carry a key: every message acts as the key chosen above
  const handle = serveStdio(() => buildServer(specs, deps, { label: 'stdio', fixedAuth: auth }));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await handle.close().catch(() => {});
    await deps.workers.close().catch(() => {});
    await deps.cache.close().catch(() => {});
    await deps.limits.close().catch(() => {});
    await db.close().catch(() => {});
    process.exit(0);
  };
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}
