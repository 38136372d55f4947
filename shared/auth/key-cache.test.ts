import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { KeyCache, KEY_CACHE_TTL_MS, keyCacheFor } from './key-cache.js';
import { authenticate, createUser, ensureBootstrapKey, hashKey, revokeKey, type AuthContext } from './keys.js';

let db: Database;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-keycache-'));
beforeAll(async () => {
  db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: dir, inMemory: true });
  await migrate(db.sql);
});
afterAll(async () => {
  await db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ctx = (prefix: string): AuthContext => ({ userId: 1, userName: 'u', keyId: 1, keyPrefix: prefix, scopes: ['read'] });

describe('key cache', () => {
  it('answers a key verified moments ago without a database round trip, and revokes at once', async () => {
    const { key, prefix } = await createUser(db.sql, `kc_${Date.now()}`, ['read', 'trade']);
    await authenticate(db.sql, 'aibt_00000000_prepares-the-statement'); // the driver's first use prepares it: one more trip
    const first = await db.roundTrips.measure(() => authenticate(db.sql, key));
    expect(first.result).toMatchObject({ keyPrefix: prefix, scopes: ['read', 'trade'] });
    expect(first.roundTrips).toBe(1);
    const warm = await db.roundTrips.measure(() => authenticate(db.sql, key));
    expect(warm.result).toEqual(first.result);
    expect(warm.roundTrips).toBe(0);
    expect(await revokeKey(db.sql, prefix)).toBe(true);
    expect(keyCacheFor(db.sql).lastVerified(hashKey(key))).toBeUndefined();
    expect(await authenticate(db.sql, key)).toBeNull();
  });

  it('never caches an unknown key: a bad key costs its query every time', async () => {
    const bad = 'aibt_00000000_not-a-key-at-all';
    expect((await db.roundTrips.measure(() => authenticate(db.sql, bad))).roundTrips).toBe(1);
    expect((await db.roundTrips.measure(() => authenticate(db.sql, bad))).roundTrips).toBe(1);
  });

  it('verifies a bootstrap key again after ensureBootstrapKey changed it', async () => {
    const fixed = `kc-bootstrap-${Date.now()}-0123456789`;
    await ensureBootstrapKey(db.sql, fixed);
    const auth = (await authenticate(db.sql, fixed))!;
    await db.sql`update api_keys set scopes = ${db.sql.array(['read'])} where key_hash = ${hashKey(fixed)}`;
    expect((await authenticate(db.sql, fixed))!.scopes.length).toBe(auth.scopes.length); // cached: the direct update is not seen
    await ensureBootstrapKey(db.sql, fixed); // restores every scope and forgets the cached entry
    const again = await db.roundTrips.measure(() => authenticate(db.sql, fixed));
    expect(again.roundTrips).toBe(1);
    expect(again.result!.scopes.length).toBe(5);
  });

  it('trusts a verification for the TTL only, keeps the last one for outages, and drops a lookup raced by a revoke', () => {
    let now = 1_000_000;
    const cache = new KeyCache(KEY_CACHE_TTL_MS, () => now);
    const t = cache.ticket();
    cache.remember('h1', ctx('aibt_11111111'), t);
    expect(cache.fresh('h1')?.keyPrefix).toBe('aibt_11111111');
    now += KEY_CACHE_TTL_MS - 1;
    expect(cache.fresh('h1')).toBeDefined();
    now += 1;
    expect(cache.fresh('h1')).toBeUndefined();
    expect(cache.lastVerified('h1')).toEqual({ auth: ctx('aibt_11111111'), verifiedAt: 1_000_000 });

    // A lookup that asked the database before a revoke must not store its (stale) answer.
    const before = cache.ticket();
    cache.forget({ prefix: 'aibt_22222222' });
    cache.remember('h2', ctx('aibt_22222222'), before);
    expect(cache.lastVerified('h2')).toBeUndefined();

    cache.forget({ prefix: 'aibt_11111111' });
    expect(cache.lastVerified('h1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
