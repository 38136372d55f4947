import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { ToolError } from '../mcp/errors.js';
import { authenticate, createKey, createUser, ensureBootstrapKey, ensureDemoKey, hashKey, keyPrefix, listUsers, parseScopes, revokeKey, SCOPES } from './keys.js';
import { requireScope } from './scopes.js';

let db: Database;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-auth-'));
beforeAll(async () => {
  db = await openDatabase({ dataDir: dir, inMemory: true });
  await migrate(db.sql);
});
afterAll(async () => {
  await db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('api keys', () => {
  it('stores only a hash and a visible prefix', async () => {
    const { key, prefix } = await createUser(db.sql, 'carol', ['read', 'trade']);
    expect(key.startsWith(`${prefix}_`)).toBe(true);
    expect(keyPrefix(key)).toBe(prefix);
    const rows = await db.sql`select prefix, key_hash from api_keys where prefix = ${prefix}`;
    expect(rows[0]!.key_hash).toBe(hashKey(key));
    expect(JSON.stringify(await db.sql`select * from api_keys`)).not.toContain(key);
    const auth = await authenticate(db.sql, key);
    expect(auth).toMatchObject({ userName: 'carol', keyPrefix: prefix, scopes: ['read', 'trade'] });
    expect(await authenticate(db.sql, key + 'x')).toBeNull();
    expect(await authenticate(db.sql, '')).toBeNull();
  });

  it('revokes by prefix, immediately', async () => {
    const { key, prefix } = await createKey(db.sql, 'carol', ['read']);
    expect(await authenticate(db.sql, key)).not.toBeNull();
    expect(await revokeKey(db.sql, prefix)).toBe(true);
    expect(await authenticate(db.sql, key)).toBeNull();
    expect(await revokeKey(db.sql, prefix)).toBe(false);
    const carol = (await listUsers(db.sql)).find((u) => u.name === 'carol')!;
    expect(carol.keys.find((k) => k.prefix === prefix)!.revoked).toBe(true);
  });

  it('parses scopes and refuses unknown ones and duplicate users', async () => {
    expect(parseScopes('read, trade,read')).toEqual(['read', 'trade']);
    expect(() => parseScopes('read,root')).toThrow("Unknown scope 'root'; scopes are read, trade, rules:write, approve, admin.");
    await expect(createUser(db.sql, 'carol', ['read'])).rejects.toThrow(/already exists/);
    await expect(createUser(db.sql, 'bad name!', ['read'])).rejects.toThrow(/user name/);
    await expect(createKey(db.sql, 'nobody')).rejects.toThrow("There is no user named 'nobody'.");
  });

  it('requires scopes with a sentence naming the missing one', async () => {
    const auth = (await authenticate(db.sql, (await createUser(db.sql, 'dave', ['read'])).key))!;
    expect(() => requireScope(auth, 'read', 'list_models')).not.toThrow();
    try {
      requireScope(auth, 'approve', 'resume_trading');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ToolError);
      expect((err as ToolError).message).toBe(`resume_trading needs the 'approve' scope; key ${auth.keyPrefix} has read.`);
    }
  });

  it('bootstraps a fixed key for demo with every scope, idempotently', async () => {
    const fixed = 'my-bootstrap-key-0123456789';
    await ensureBootstrapKey(db.sql, fixed);
    await ensureBootstrapKey(db.sql, fixed);
    expect(await authenticate(db.sql, fixed)).toMatchObject({ userName: 'demo', scopes: [...SCOPES] });
    await expect(ensureBootstrapKey(db.sql, 'short')).rejects.toThrow(/at least 16/);
  });

  it('creates the demo key once and keeps it in the data directory', async () => {
    const first = await ensureDemoKey(db.sql, dir);
    expect(first.created).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'demo-key'), 'utf8').trim()).toBe(first.key);
    const second = await ensureDemoKey(db.sql, dir);
    expect(second).toEqual({ key: first.key, created: false });
    expect((await authenticate(db.sql, first.key!))!.userName).toBe('demo');
  });
});
