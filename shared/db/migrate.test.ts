import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './database.js';
import { listMigrations, migrate, MIGRATIONS_DIR } from './migrate.js';

let db: Database;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-mig-'));

beforeAll(async () => {
  db = await openDatabase({ dataDir: dir, inMemory: true });
});
afterAll(async () => {
  await db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, body: string) {
  fs.writeFileSync(path.join(dir, name), body);
}

describe('migration runner', () => {
  it('applies files in numeric order, each once, and records them', async () => {
    write('002_second.sql', 'insert into t (v) values (2);');
    write('001_first.sql', 'create table t (v int);');
    write('notes.txt', 'not a migration');
    expect(listMigrations(dir).map((m) => m.name)).toEqual(['001_first', '002_second']);
    expect(await migrate(db.sql, dir)).toEqual(['001_first', '002_second']);
    expect(await migrate(db.sql, dir)).toEqual([]);
    expect((await db.sql`select v from t`).map((r) => r.v)).toEqual([2]);
    const recorded = await db.sql`select name from schema_migrations order by name`;
    expect(recorded.map((r) => r.name)).toEqual(['001_first', '002_second']);
  });

  it('rolls a failing migration back entirely and does not record it', async () => {
    write('003_broken.sql', 'create table half (x int); insert into nowhere values (1);');
    await expect(migrate(db.sql, dir)).rejects.toThrow(/nowhere/);
    const [half] = await db.sql`select to_regclass('half') as r`;
    expect(half!.r).toBeNull();
    expect((await db.sql`select count(*)::int as n from schema_migrations where name = '003_broken'`)[0]!.n).toBe(0);
    fs.rmSync(path.join(dir, '003_broken.sql'));
  });

  it('applies the real migrations to a fresh database', async () => {
    const fresh = await openDatabase({ dataDir: dir, inMemory: true });
    try {
      const applied = await migrate(fresh.sql, MIGRATIONS_DIR);
      expect(applied).toEqual(listMigrations(MIGRATIONS_DIR).map((m) => m.name));
      expect(applied[0]).toBe('001_core');
    } finally {
      await fresh.close();
    }
  });
});
