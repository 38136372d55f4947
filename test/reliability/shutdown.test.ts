// Clean stops (issue 20 item 6, issue 19 item 7):
// - SIGTERM or SIGINT to the PID `npm start` gives stops every server and releases the
//   embedded data directory within 10 s;
// - SIGTERM with calls in flight: every caller gets an answer (a result or one sentence,
//   never a dropped connection or the SDK's timeout), a long advance_run stops at its next
//   step and says how far it got, and what the answers say is exactly what the database
//   holds after a restart; advance_run's client_request_id makes its retry a no-op.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../shared/db/database.js';
import { connect, ROOT, sleep, spawnSuite } from './procs.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-rel-stop-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const base = { DATABASE_URL: '', REDIS_URL: '', AIBT_RATE_LIMIT_PER_SEC: '0' };
const ports = { TRADE_PORT: '0', PRICE_PORT: '0', RULES_PORT: '0', RUNS_PORT: '0', ANALYST_PORT: '0' };

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start stops on a signal to its own PID', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to npm's PID stops every server and releases the data directory within 10 s`, async () => {
      expect(fs.existsSync(path.join(ROOT, 'dist/bin/aibt.js')), 'dist/ is built by npm ci (prepare)').toBe(true);
      const dataDir = fs.mkdtempSync(path.join(root, 'npm-'));
      const npm = spawn('npm', ['start'], { cwd: ROOT, env: { ...process.env, ...base, ...ports, AIBT_DATA_DIR: dataDir, AIBT_LOG: 'silent' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      npm.stderr!.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 180_000;
      while (!/ready in \d+ ms/.test(stderr) && Date.now() < deadline) await sleep(100);
      expect(stderr).toMatch(/ready in \d+ ms/);
      const url = /^\s+runs\s+(http:\S+)$/m.exec(stderr)![1]!;
      // the server npm runs is npm's own child (exec), not a shell's
      const servers = childrenOf(npm.pid!);
      expect(servers).toHaveLength(1);
      expect(fs.existsSync(path.join(dataDir, 'db.lock'))).toBe(true);

      const t0 = Date.now();
      npm.kill(signal);
      const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
      const ms = Date.now() - t0;
      console.log(JSON.stringify({ case: `${signal} to npm start's PID`, exit: code, ms }));
      expect(code).not.toBe('timeout');
      expect(alive(servers[0]!)).toBe(false);
      expect(fs.existsSync(path.join(dataDir, 'db.lock'))).toBe(false);
      expect(await fetch(url.replace(/\/mcp$/, '/health')).then((r) => r.status, () => 'refused')).toBe('refused');
    }, 240_000);
  }
});

describe('SIGTERM with calls in flight', () => {
  it('answers every caller, stops a long advance_run at its next step, and the answers match the database', async () => {
    const dataDir = path.join(root, 'inflight');
    const key = `shutdown-${randomBytes(8).toString('hex')}`;
    const env = { ...base, AIBT_DATA_DIR: dataDir, AIBT_BOOTSTRAP_KEY: key };
    let suite = await spawnSuite(env);
    const runs = await connect(suite.urls.runs!, key);
    const call = async (c: typeof runs, name: string, args: Record<string, unknown>) => (await c.callTool({ name, arguments: args })) as any;
    // a minute run to advance by a whole session, and 8 models with a day run each for buys
    const long = (await call(runs, 'create_model', { name: 'long-advance', initial_cash: 100_000 })).structuredContent;
    const longRun = (await call(runs, 'start_run', { model_id: long.model_id, kind: 'replay', timespan: 'minute', start: '2025-03-12', end: '2025-03-20', symbols: ['SPY', 'KO'] })).structuredContent;
    const buyers: { modelId: number; runId: number }[] = [];
    for (let i = 0; i < 8; i++) {
      const m = (await call(runs, 'create_model', { name: `buyer-${i}`, initial_cash: 1_000_000, max_orders_per_minute: 10_000 })).structuredContent;
      const r = (await call(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-13', symbols: ['AAPL'] })).structuredContent;
      buyers.push({ modelId: m.model_id, runId: r.run_id });
    }
    // warm the minute bars so the advance below spends its time stepping
    await call(runs, 'advance_run', { run_id: longRun.run_id, steps: 1 });

    // connected before the signal: a connect racing the SIGTERM on a busy machine is not a call in flight
    const traders = await Promise.all(buyers.map(() => connect(suite.urls.trade!, key)));
    const requestId = 'advance-1';
    const advance = call(runs, 'advance_run', { run_id: longRun.run_id, steps: 390, client_request_id: requestId }).then(
      (r) => ({ r }),
      (e: Error) => ({ e }),
    );
    // 8 buyers each placing buys until the server answers no more
    const answered: { id: string; filled: boolean; text: string }[] = [];
    const dropped: string[] = [];
    let stop = false;
    const loops = buyers.map(async ({ modelId }, i) => {
      const c = traders[i]!;
      while (!stop) {
        const id = `stop-${modelId}-${randomBytes(4).toString('hex')}`;
        try {
          const r = await call(c, 'buy', { model_id: modelId, symbol: 'AAPL', quantity: 1, client_order_id: id });
          answered.push({ id, filled: !r.isError && r.structuredContent.status === 'filled', text: r.isError ? r.content[0].text : 'ok' });
        } catch (e) {
          const msg = (e as Error).message;
          // after the signal a new request is refused with the shutdown sentence, or finds the port closed
          if (/shutting down/.test(msg) || /fetch failed|ECONNREFUSED|ECONNRESET|socket/i.test(msg)) break;
          dropped.push(msg);
          break;
        }
      }
    });
    await sleep(400);
    const t0 = Date.now();
    suite.child.kill('SIGTERM');
    const adv = await advance;
    stop = true;
    await Promise.all(loops);
    const code = await suite.exited;
    const ms = Date.now() - t0;
    expect('r' in adv, `advance_run answered: ${'e' in adv ? adv.e.message : ''}`).toBe(true);
    const a = (adv as { r: any }).r;
    expect(a.isError, a.content?.[0]?.text).toBeFalsy();
    const data = a.structuredContent;
    console.log(JSON.stringify({ case: 'SIGTERM in flight', exit: code, ms, advance_steps: data.steps_taken, stopped_early: data.stopped_early, buys_answered: answered.length, dropped: dropped.length }));
    expect(code).toBe(0);
    expect(dropped).toEqual([]);
    expect(data.steps_taken).toBeLessThan(390);
    expect(data.stopped_early).toMatch(/^the server is shutting down: \d+ of 390 steps were taken$/);

    // the database holds exactly what the answers said
    const db = await openDatabase({ dataDir });
    try {
      const [run] = await db.sql<{ clock: Date }[]>`select clock from runs where id = ${longRun.run_id}`;
      expect(run!.clock.toISOString()).toBe(data.clock);
      const rows = await db.sql<{ client_order_id: string; status: string }[]>`
        select client_order_id, status from orders where client_order_id = any(${answered.map((x) => x.id)}) or client_order_id like 'stop-%'`;
      const stored = new Map(rows.map((r) => [r.client_order_id, r.status]));
      for (const x of answered) expect(stored.get(x.id) === 'filled', `${x.id}: ${x.text}`).toBe(x.filled);
      // no order the callers did not hear about
      expect([...stored.keys()].filter((id) => !answered.some((x) => x.id === id))).toEqual([]);
    } finally {
      await db.close();
    }

    // a retry of the lost-answer kind: the same client_request_id does not advance again
    suite = await spawnSuite(env);
    try {
      const again = await connect(suite.urls.runs!, key);
      const retry = (await call(again, 'advance_run', { run_id: longRun.run_id, steps: 390, client_request_id: requestId })).structuredContent;
      expect(retry).toEqual({ ...data, repeated: true });
      const run = (await call(again, 'get_run', { run_id: longRun.run_id })).structuredContent;
      expect(run.clock ?? run.run?.clock).toBe(data.clock);
      await again.close();
    } finally {
      expect(await suite.kill('SIGTERM')).toBe(0);
    }
  }, 400_000);
});
