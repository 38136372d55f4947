// API keys: random, shown once, stored as a SHA-256 hash with a visible prefix.
// High-entropy keys need no slow hash; a lookup is one indexed equality.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Q, Sql } from '../db/database.js';
import { forgetKey, keyCacheFor } from './key-cache.js';

export const SCOPES = ['read', 'trade', 'rules:write', 'approve', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface AuthContext {
  userId: number;
  userName: string;
  keyId: number;
  keyPrefix: string;
  scopes: Scope[];
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateKey(): { key: string; prefix: string } {
  const prefix = `aibt_${randomBytes(4).toString('hex')}`;
  return { key: `${prefix}_${randomBytes(24).toString('base64url')}`, prefix };
}

/** The visible part of a key: everything before its secret. */
export function keyPrefix(key: string): string {
  const m = /^(aibt_[0-9a-f]{8})_/.exec(key);
  return m ? m[1]! : key.slice(0, 13);
}

export function parseScopes(list: string): Scope[] {
  const scopes = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of scopes) {
    if (!(SCOPES as readonly string[]).includes(s)) {
      throw new Error(`Unknown scope '${s}'; scopes are ${SCOPES.join(', ')}.`);
    }
  }
  if (scopes.length === 0) throw new Error(`Give at least one scope: ${SCOPES.join(', ')}.`);
  return [...new Set(scopes)] as Scope[];
}

/**
 * The key's user and scopes, or null for a missing, unknown or revoked key. Answered from
 * the key cache (shared/auth/key-cache.ts) when the key was verified in the last few
 * seconds: no database round trip; revokeKey forgets it at once.
 */
export async function authenticate(sql: Sql, key: string): Promise<AuthContext | null> {
  if (!key || key.length > 200) return null;
  const hash = hashKey(key);
  const cache = keyCacheFor(sql);
  const hit = cache.fresh(hash);
  if (hit) return hit;
  const ticket = cache.ticket();
  const [row] = await sql<{ key_id: number; user_id: number; name: string; prefix: string; scopes: string[] }[]>`
    select k.id as key_id, k.user_id, u.name, k.prefix, k.scopes
    from api_keys k join users u on u.id = k.user_id
    where k.key_hash = ${hash} and k.revoked_at is null`;
  if (!row) return null;
  const auth: AuthContext = { userId: row.user_id, userName: row.name, keyId: row.key_id, keyPrefix: row.prefix, scopes: row.scopes as Scope[] };
  cache.remember(hash, auth, ticket);
  return auth;
}

export async function createUser(sql: Sql, name: string, scopes: Scope[]): Promise<{ userId: number; key: string; prefix: string }> {
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) {
    throw new Error('A user name is 1 to 64 letters, digits, dots, dashes, underscores or @.');
  }
  return sql.begin(async (tx) => {
    const [existing] = await tx`select id from users where name = ${name}`;
    if (existing) throw new Error(`A user named '${name}' already exists; use create-key to give it another key.`);
    const [user] = await tx<{ id: number }[]>`insert into users (name) values (${name}) returning id`;
    const { key, prefix } = await insertKey(tx, user!.id, scopes);
    return { userId: user!.id, key, prefix };
  });
}

export async function createKey(sql: Sql, userName: string, scopes?: Scope[]): Promise<{ key: string; prefix: string }> {
  return sql.begin(async (tx) => {
    const [user] = await tx<{ id: number }[]>`select id from users where name = ${userName}`;
    if (!user) throw new Error(`There is no user named '${userName}'.`);
    return insertKey(tx, user.id, scopes ?? [...SCOPES]);
  });
}

/** Revokes the key with this prefix; the key cache forgets it here at once, elsewhere through Redis. */
export async function revokeKey(sql: Sql, prefix: string): Promise<boolean> {
  const visible = keyPrefix(prefix);
  const rows = await sql`update api_keys set revoked_at = now() where prefix = ${visible} and revoked_at is null returning id`;
  if (rows.length > 0) await forgetKey(sql, { prefix: visible });
  return rows.length > 0;
}

export async function listUsers(sql: Sql): Promise<{ name: string; keys: { prefix: string; scopes: string[]; revoked: boolean }[] }[]> {
  const rows = await sql<{ name: string; prefix: string | null; scopes: string[] | null; revoked_at: Date | null }[]>`
    select u.name, k.prefix, k.scopes, k.revoked_at
    from users u left join api_keys k on k.user_id = u.id
    order by u.name, k.id`;
  const users = new Map<string, { name: string; keys: { prefix: string; scopes: string[]; revoked: boolean }[] }>();
  for (const r of rows) {
    const u = users.get(r.name) ?? { name: r.name, keys: [] };
    users.set(r.name, u);
    if (r.prefix) u.keys.push({ prefix: r.prefix, scopes: r.scopes ?? [], revoked: r.revoked_at !== null });
  }
  return [...users.values()];
}

async function insertKey(sql: Q, userId: number, scopes: Scope[], fixedKey?: string): Promise<{ key: string; prefix: string }> {
  const generated = generateKey();
  const key = fixedKey ?? generated.key;
  const prefix = fixedKey ? keyPrefix(fixedKey) : generated.prefix;
  await sql`insert into api_keys (user_id, prefix, key_hash, scopes)
            values (${userId}, ${prefix}, ${hashKey(key)}, ${sql.array(scopes)})`;
  return { key, prefix };
}

async function ensureDemoUser(sql: Q): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    insert into users (name) values ('demo')
    on conflict (name) do update set name = excluded.name
    returning id`;
  return row!.id;
}

/** AIBT_BOOTSTRAP_KEY: the owner user `demo` holds that key with every scope. */
export async function ensureBootstrapKey(sql: Sql, key: string): Promise<void> {
  if (key.length < 16) throw new Error('AIBT_BOOTSTRAP_KEY must be at least 16 characters.');
  await sql.begin(async (tx) => {
    const userId = await ensureDemoUser(tx);
    const [existing] = await tx<{ user_id: number }[]>`select user_id from api_keys where key_hash = ${hashKey(key)}`;
    if (existing) {
      await tx`update api_keys set user_id = ${userId}, scopes = ${tx.array([...SCOPES])}, revoked_at = null
               where key_hash = ${hashKey(key)}`;
      return;
    }
    // A custom key may not carry the aibt_ shape; its prefix is its first characters.
    await tx`insert into api_keys (user_id, prefix, key_hash, scopes)
             values (${userId}, ${bootstrapPrefix(key)}, ${hashKey(key)}, ${tx.array([...SCOPES])})
             on conflict (prefix) do nothing`;
  });
  // Its user or scopes may have changed: verify it again on next use.
  await forgetKey(sql, { hash: hashKey(key) });
}

function bootstrapPrefix(key: string): string {
  return /^aibt_[0-9a-f]{8}_/.test(key) ? keyPrefix(key) : `boot_${hashKey(key).slice(0, 8)}`;
}

/**
 * The embedded default's demo key: created on first start, printed once, kept in
 * AIBT_DATA_DIR/demo-key. Returns the key and whether it was created now. A demo-key file
 * that no longer matches any key in the database (a restore from another copy, a damaged
 * directory) is never replaced: the answer has no key and `mismatch` says so in one sentence.
 */
export async function ensureDemoKey(sql: Sql, dataDir: string): Promise<{ key?: string; created: boolean; mismatch?: string }> {
  const file = path.join(dataDir, 'demo-key');
  if (fs.existsSync(file)) {
    const key = fs.readFileSync(file, 'utf8').trim();
    if (await authenticate(sql, key)) return { key, created: false };
    return {
      created: false,
      mismatch: `The key in ${file} (${keyPrefix(key)}) is not a key of this database (restored from another copy, or revoked); it was left as it is. Make a key with: npm run admin -- create-key demo`,
    };
  }
  const userId = await ensureDemoUser(sql);
  const { key } = await insertKey(sql, userId, [...SCOPES]);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
  return { key, created: true };
}
