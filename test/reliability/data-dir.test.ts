// The embedded data directory is never initialised over data (issue 20 item 1): a directory
// that lost PG_VERSION, or whose files are damaged, is refused at start with one sentence,
// a non-zero exit and not one byte written; an emptied pglite/ starts fresh but the demo-key
// file is reported, never replaced; a stale lock naming an unrelated live PID is taken over.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../shared/db/database.js';
import { connect, ROOT, spawnSuite } from './procs.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-rel-datadir-'));
const origin = path.join(root, 'origin');
const base = { DATABASE_URL: '', REDIS_URL: '', AIBT_BOOTSTRAP_KEY: '', AIBT_RATE_LIMIT_PER_SEC: '0' };
let demoKey = '';
let orderIds: number[] = [];
let modelId = 0;
let ordersFile = '';

/** Every file under dir with its SHA-256 (db.lock and admin.json excluded: they belong to a running process). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isDirectory()) continue;
    const full = path.join(e.parentPath, e.name);
    out[path.relative(dir, full)] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
  }
  return out;
}

function copyOf(name: string): string {
  const dir = path.join(root, name);
  fs.cpSync(origin, dir, { recursive: true });
  return dir;
}

/** Starts npm start's entry expecting a refusal: its exit code and stderr. */
function refusedStart(dataDir: string): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'servers/suite.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...base, AIBT_DATA_DIR: dataDir, AIBT_LOG: 'json', TRADE_PORT: '0', PRICE_PORT: '0', RULES_PORT: '0', RUNS_PORT: '0', ANALYST_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr: stderr.trim(), ms: Date.now() - t0 });
    }),
  );
}

beforeAll(async () => {
  const suite = await spawnSuite({ ...base, AIBT_DATA_DIR: origin });
  demoKey = /Demo key[^\n]*\n\s+(\S+)/.exec(suite.stderr())![1]!;
  const runs = await connect(suite.urls.runs!, demoKey);
  const trade = await connect(suite.urls.trade!, demoKey);
  const model = ((await runs.callTool({ name: 'create_model', arguments: { name: 'data-dir', initial_cash: 100_000 } })) as any).structuredContent;
  modelId = model.model_id;
  await runs.callTool({ name: 'start_run', arguments: { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-13', symbols: ['AAPL'] } });
  for (let i = 0; i < 3; i++) {
    const r = (await trade.callTool({ name: 'buy', arguments: { model_id: model.model_id, symbol: 'AAPL', quantity: 1 } })) as any;
    orderIds.push(r.structuredContent.order_id);
  }
  await runs.close();
  await trade.close();
  expect(await suite.kill('SIGTERM')).toBe(0);
  const db = await openDatabase({ dataDir: origin });
  ordersFile = (await db.sql<{ f: string }[]>`select pg_relation_filepath('orders') as f`)[0]!.f;
  await db.close();
}, 300_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('the embedded data directory is never initialised over data', () => {
  it('refuses a directory that lost PG_VERSION, in one sentence, writing nothing', async () => {
    const dir = copyOf('no-version');
    fs.rmSync(path.join(dir, 'pglite', 'PG_VERSION'));
    const before = snapshot(dir);
    const r = await refusedStart(dir);
    const files = Object.keys(before).filter((f) => f.startsWith('pglite')).length;
    console.log(JSON.stringify({ case: 'no PG_VERSION', exit: r.code, ms: r.ms, files, stderr: r.stderr }));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `The embedded data directory ${path.join(dir, 'pglite')} holds ${files} files but no PG_VERSION, so it is not a database AIBT can open; nothing was written. Restore from a backup (aibt admin restore FILE) or move it aside to start fresh.`,
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses a damaged directory (pg_control overwritten) in one sentence, writing nothing', async () => {
    const dir = copyOf('damaged');
    fs.writeFileSync(path.join(dir, 'pglite', 'global', 'pg_control'), Buffer.alloc(8192, 0x5a));
    const before = snapshot(dir);
    const r = await refusedStart(dir);
    console.log(JSON.stringify({ case: 'damaged pg_control', exit: r.code, ms: r.ms, stderr: r.stderr }));
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^The embedded database in \S+ \(\d+ files\) is damaged and does not open \(PGlite: .+\); nothing was written\. Restore from a backup/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('starts an emptied pglite/ fresh but reports the demo key instead of replacing it', async () => {
    const dir = copyOf('emptied');
    fs.rmSync(path.join(dir, 'pglite'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'pglite'));
    const keyFile = fs.readFileSync(path.join(dir, 'demo-key'), 'utf8');
    const suite = await spawnSuite({ ...base, AIBT_DATA_DIR: dir });
    try {
      expect(suite.stderr()).toContain(`The key in ${path.join(dir, 'demo-key')} (${demoKey.slice(0, 13)}) is not a key of this database`);
      expect(suite.stderr()).not.toMatch(/Demo key/);
      expect(fs.readFileSync(path.join(dir, 'demo-key'), 'utf8')).toBe(keyFile);
    } finally {
      expect(await suite.kill('SIGTERM')).toBe(0);
    }
  });

  it('takes over a stale lock naming a live unrelated process, and finds every order', async () => {
    const dir = copyOf('stale-lock');
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    fs.writeFileSync(path.join(dir, 'db.lock'), String(other.pid));
    const suite = await spawnSuite({ ...base, AIBT_DATA_DIR: dir });
    try {
      const line = suite.stdout().split('\n').find((l) => l.includes('stale_lock_taken_over'));
      expect(JSON.parse(line!)).toMatchObject({ pid: other.pid, reason: 'the PID now belongs to another program' });
      expect(suite.stderr()).toContain(`Demo key: see ${path.join(dir, 'demo-key')}`);
      const trade = await connect(suite.urls.trade!, demoKey);
      const r = (await trade.callTool({ name: 'list_orders', arguments: { model_id: modelId } })) as any;
      expect(r.structuredContent.orders.map((o: { order_id: number }) => o.order_id).sort()).toEqual([...orderIds].sort());
      await trade.close();
    } finally {
      other.kill('SIGKILL');
      expect(await suite.kill('SIGTERM')).toBe(0);
    }
  });

  it('a directory that opens but whose orders are damaged: reads answer the damaged sentence and /health 503', async () => {
    const dir = copyOf('damaged-orders');
    fs.writeFileSync(path.join(dir, 'pglite', ordersFile), Buffer.alloc(8192, 0x5a));
    const suite = await spawnSuite({ ...base, AIBT_DATA_DIR: dir });
    try {
      const trade = await connect(suite.urls.trade!, demoKey);
      const texts: string[] = [];
      for (let i = 0; i < 3; i++) texts.push((((await trade.callTool({ name: 'list_orders', arguments: { model_id: modelId } })) as any).content[0].text));
      await trade.close();
      const health = await fetch(suite.urls.trade!.replace(/\/mcp$/, '/health'));
      const body = (await health.json()) as { failed?: string[] };
      const lines = suite.stdout().split('\n').filter((l) => l.includes('"storage_fault"'));
      console.log(JSON.stringify({ case: 'damaged orders file', answers: texts, health: health.status, log_lines: lines.length }));
      for (const t of texts) expect(t).toBe("The database's files are damaged; nothing was changed. Restore from a backup (aibt admin restore FILE) or ask the operator.");
      expect(health.status).toBe(503);
      expect(body.failed).toEqual(["database: the database's files are damaged"]);
      expect(lines).toHaveLength(1);
      expect(suite.stdout()).not.toMatch(/"stack"/);
    } finally {
      expect(await suite.kill('SIGTERM')).toBe(0);
    }
  });
});
