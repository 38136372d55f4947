// Backups you can make and restore (issue 20 item 2): `aibt admin backup FILE` through the
// running embedded suite while orders are being placed, the directory damaged, `aibt admin
// restore FILE` into an empty directory, and every order the backup covered is found.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { orderLoad, replayModels } from './load.js';
import { connect, ROOT, sleep, spawnSuite } from './procs.js';

const run = promisify(execFile);
const KEY = 'reliability-backup-bootstrap-key';
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-rel-backup-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const admin = (dataDir: string, ...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'shared/admin/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, AIBT_DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', AIBT_LOG: 'silent' } });

describe('backup and restore of the embedded database', () => {
  it('backs up under order load, survives damage, restores into an empty directory with every order', async () => {
    const dataDir = path.join(root, 'live');
    const env = { DATABASE_URL: '', REDIS_URL: '', AIBT_DATA_DIR: dataDir, AIBT_BOOTSTRAP_KEY: KEY, AIBT_RATE_LIMIT_PER_SEC: '0' };
    const suite = await spawnSuite(env);
    const models = await replayModels(await connect(suite.urls.runs!, KEY), 4);
    const load = orderLoad(suite.urls.trade!, KEY, models);
    while (load.tally.filled.size < 20) await sleep(100);
    const file = path.join(root, 'aibt.backup.tar.gz');
    // every order answered filled before the backup started must be in it
    const filledBefore = new Set(load.tally.filled);
    const t0 = Date.now();
    const { stdout } = await admin(dataDir, 'backup', file);
    const backupMs = Date.now() - t0;
    await load.stop();
    expect(stdout).toMatch(/^Backed up embedded PGlite in \S+ to \S+: [\d.]+ MB, \d+ orders, in \d+ ms\.$/m);
    const inBackup = Number(/MB, (\d+) orders/.exec(stdout)![1]);
    const again = await admin(dataDir, 'backup', file).catch((e: { stderr: string; code: number }) => e);
    expect((again as { stderr: string }).stderr.trim()).toBe(`${file} already exists; give a new file name (a backup never overwrites a file).`);
    expect(await suite.kill('SIGTERM')).toBe(0);

    // damage: the directory loses PG_VERSION, and the suite refuses it
    fs.rmSync(path.join(dataDir, 'pglite', 'PG_VERSION'));
    const refused = await spawnSuite(env).then(
      (s) => s.kill('SIGKILL').then(() => ''),
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/holds \d+ files but no PG_VERSION/);

    // restore into a non-empty directory is refused; into an empty one it works
    const busy = await admin(dataDir, 'restore', file).catch((e: { stderr: string }) => e);
    expect((busy as { stderr: string }).stderr.trim()).toMatch(/already holds \d+ files; restore goes into an empty directory only/);
    const restoredDir = path.join(root, 'restored');
    const t1 = Date.now();
    const restored = await admin(restoredDir, 'restore', file);
    const restoreMs = Date.now() - t1;
    expect(restored.stdout.trim()).toBe(`Restored ${file} into ${path.join(restoredDir, 'pglite')}: ${inBackup} orders. Start the suite with this AIBT_DATA_DIR.`);

    const back = await spawnSuite({ ...env, AIBT_DATA_DIR: restoredDir });
    try {
      const trade = await connect(back.urls.trade!, KEY);
      const found = new Set<string>();
      for (const m of models) {
        let cursor: string | undefined;
        do {
          const r = ((await trade.callTool({ name: 'list_orders', arguments: { model_id: m.modelId, status: 'filled', limit: 200, ...(cursor ? { cursor } : {}) } })) as any).structuredContent;
          for (const o of r.orders) if (o.client_order_id) found.add(o.client_order_id);
          cursor = r.next_cursor ?? undefined;
        } while (cursor);
      }
      console.log(JSON.stringify({ case: 'backup/restore', backup_ms: backupMs, restore_ms: restoreMs, bytes: fs.statSync(file).size, orders_in_backup: inBackup, filled_before_backup: filledBefore.size, filled_found: found.size }));
      const missing = [...filledBefore].filter((id) => !found.has(id));
      expect(missing).toEqual([]);
      expect(found.size).toBeLessThanOrEqual(inBackup);
      await trade.close();
    } finally {
      expect(await back.kill('SIGTERM')).toBe(0);
    }
  }, 400_000);
});
