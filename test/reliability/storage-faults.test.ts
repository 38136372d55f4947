// Storage faults in words (issue 20 item 3), on the embedded database in a small tmpfs: a full
// disk answers every failing call with one sentence, /health says 503 with the cause,
// the log has one line per fault episode (no stack per call), and service resumes by itself
// when the fault clears; what callers were told filled is exactly what is stored.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, sleep, spawnSuite, type SuiteProcess } from './procs.js';

const KEY = 'reliability-storage-faults-key';
const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-rel-fault-'));
let mounted = false;
let suite: SuiteProcess;
let modelId = 0;

function tryMount(): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=112m', 'tmpfs', mnt], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  mounted = tryMount();
  suite = await spawnSuite({ DATABASE_URL: '', REDIS_URL: '', AIBT_DATA_DIR: path.join(mnt, 'data'), AIBT_BOOTSTRAP_KEY: KEY, AIBT_RATE_LIMIT_PER_SEC: '0' });
  const runs = await connect(suite.urls.runs!, KEY);
  modelId = ((await runs.callTool({ name: 'create_model', arguments: { name: 'faults', initial_cash: 1_000_000, max_orders_per_minute: 10_000 } })) as any).structuredContent.model_id;
  await runs.callTool({ name: 'start_run', arguments: { model_id: modelId, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-13', symbols: ['AAPL'] } });
  await runs.close();
}, 300_000);

afterAll(async () => {
  await suite?.kill('SIGKILL');
  if (mounted) execFileSync('umount', ['-l', mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
});

const health = async () => {
  const res = await fetch(suite.urls.trade!.replace(/\/mcp$/, '/health'));
  return { status: res.status, body: (await res.json()) as { status: string; failed?: string[] } };
};

async function buys(n: number) {
  const trade = await connect(suite.urls.trade!, KEY);
  const out: { filled: boolean; text: string }[] = [];
  for (let i = 0; i < n; i++) {
    const r = (await trade.callTool({ name: 'buy', arguments: { model_id: modelId, symbol: 'AAPL', quantity: 1, reasoning: 'x'.repeat(2000) } })) as any;
    out.push({ filled: !r.isError && r.structuredContent.status === 'filled', text: r.isError ? r.content[0].text : 'filled' });
  }
  await trade.close();
  return out;
}

const faultLines = () => suite.stdout().split('\n').filter((l) => l.includes('"storage_fault"'));
const stackLines = () => suite.stdout().split('\n').filter((l) => l.includes('"stack"'));

async function until(cond: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await cond()) return Date.now() - t0;
    await sleep(200);
  }
  return -1;
}

describe('storage faults in words', () => {
  it('a full disk: one sentence per call, /health 503 with the cause, one log line, resumes by itself', async () => {
    expect(mounted, 'this test mounts a 112 MB tmpfs (mount -t tmpfs needs root, as in .ci/run)').toBe(true);
    const filler = path.join(mnt, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M'], { stdio: 'ignore' });
    } catch {
      // dd stops at ENOSPC: the disk is full now
    }
    const before = faultLines().length;
    const answers = await buys(60);
    const failed = answers.filter((a) => !a.filled);
        const h = await health();
    console.log(JSON.stringify({ case: 'disk full', calls: answers.length, failed: failed.length, sentences: [...new Set(failed.map((a) => a.text))], health: h, log_lines: faultLines().length - before }));
    expect(failed.length).toBeGreaterThan(0);
    for (const a of failed) expect(a.text).toBe("The database's disk is full; nothing was changed. Free space on it: the server resumes by itself.");
    expect(h.status).toBe(503);
    expect(h.body.failed).toEqual(["database: the database's disk is full"]);
    expect(faultLines().length - before).toBe(1);
    expect(stackLines()).toEqual([]);

    fs.rmSync(filler);
    const ms = await until(async () => (await health()).status === 200, 15_000);
    console.log(JSON.stringify({ case: 'disk full cleared', health_ok_after_ms: ms }));
    expect(ms).toBeGreaterThanOrEqual(0);
    const after = await buys(3);
    expect(after.every((a) => a.filled)).toBe(true);
    // what callers were told is what is stored: only the orders answered filled exist
    const trade = await connect(suite.urls.trade!, KEY);
    const listed = ((await trade.callTool({ name: 'list_orders', arguments: { model_id: modelId, limit: 200 } })) as any).structuredContent.orders;
    await trade.close();
    expect(listed.filter((o: { status: string }) => o.status === 'filled')).toHaveLength(answers.filter((a) => a.filled).length + after.length);
  });
});
