// Applies migrations/NNN_name.sql in order, each once, each in its own transaction,
// recorded in schema_migrations. An advisory lock keeps two starting processes apart.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from './database.js';

// shared/db/ in the sources, dist/shared/db/ once compiled: migrations/ sits at the package root
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MIGRATIONS_DIR = [path.resolve(HERE, '../../migrations'), path.resolve(HERE, '../../../migrations')].find((d) => fs.existsSync(d)) ?? path.resolve(HERE, '../../migrations');
const LOCK_ID = 724_151_001;

export function listMigrations(dir: string): { name: string; file: string }[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ name: f.replace(/\.sql$/, ''), file: path.join(dir, f) }));
}

/** Returns the names applied by this call. */
export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<string[]> {
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${LOCK_ID})`;
    await conn`create table if not exists schema_migrations (
      name text primary key,
      applied_at timestamptz not null default now()
    )`;
    const seen = new Set((await conn`select name from schema_migrations`).map((r) => r.name as string));
    const applied: string[] = [];
    for (const m of listMigrations(dir)) {
      if (seen.has(m.name)) continue;
      await conn.unsafe('begin');
      try {
        await conn.unsafe(fs.readFileSync(m.file, 'utf8'));
        await conn`insert into schema_migrations (name) values (${m.name})`;
        await conn.unsafe('commit');
      } catch (err) {
        await conn.unsafe('rollback');
        throw err;
      }
      applied.push(m.name);
    }
    return applied;
  } finally {
    await conn`select pg_advisory_unlock(${LOCK_ID})`.catch(() => {});
    conn.release();
  }
}
