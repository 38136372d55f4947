// npm run bench -- attack: trading beside heavy analysis (issue 19 item 1). One client polls
// get_trading_status (a call every 20 ms) while idle, then while six analyst clients each
// make one heavy call at once (suggest_rules and analyze_trades, alternating) on a completed
// minute run of ~8,000 orders and fills over five sessions of 10 symbols. Prints the trade
// call's p50/p99 in both phases and their ratio (target ≤ 3×), the process's peak RSS during
// the attack (target ≤ 1 GB, sampled every 50 ms) and the main event loop's worst lag.
// Every client has its own key at the default rate limit (the poller makes 50 calls a
// second); the clients run in a separate process (bench/lib/attack-load.ts).
import { fork } from 'node:child_process';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { analystServer } from '../servers/analyst/server.js';
import { tradeServer } from '../servers/trade/server.js';
import { createKey } from '../shared/auth/keys.js';
import { bootSuite } from '../test/harness.js';
import { HEAVY_SYMBOLS, makeHeavyRun } from '../test/heavy-run.js';
import { pct } from './lib/server.js';
import { bareServer } from './lib/bare.js';
import { withNoop } from './noop.js';

export interface AttackFigures {
  idle: { p50: number; p99: number; calls: number };
  /** The two floors' p99, idle: the warm no-op on the trade server, the bare SDK echo. */
  noopP99: number;
  bareP99: number;
  attack: { p50: number; p99: number; calls: number };
  p99Ratio: number;
  peakRssMb: number;
  idleRssMb: number;
  maxLagMs: number;
  analystMs: number[];
  analystErrors: string[];
  orders: number;
}

const ORDERS = Number(process.env.BENCH_ATTACK_ORDERS ?? 8000);

const here = path.dirname(fileURLToPath(import.meta.url));
const loadFile = path.join(here, 'lib', `attack-load${path.extname(fileURLToPath(import.meta.url))}`);

export async function main(): Promise<AttackFigures> {
  // the embedded database, on disk, as npm start runs it; default rate limits (own keys)
  const t = await bootSuite({ specs: [withNoop(tradeServer), analystServer], onDisk: true, env: { DATABASE_URL: '', REDIS_URL: '' } });
  try {
    const deps = t.suite.deps;
    const { name } = await t.user();
    const [u] = await deps.sql`select id from users where name = ${name}`;
    const { runId, modelId } = await makeHeavyRun(deps, u!.id as number, ORDERS);
    const keys: string[] = [];
    for (let i = 0; i < 7; i++) keys.push((await createKey(deps.sql, name)).key);
    const bare = await bareServer();
    const child = fork(loadFile, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const lag = monitorEventLoopDelay({ resolution: 10 });
    let rss = { idle: 0, peak: 0 };
    let sampler: NodeJS.Timeout | null = null;
    const figures = await new Promise<{ idle: number[]; noop: number[]; echo: number[]; attack: number[]; analystMs: number[]; analystErrors: string[] }>((resolve, reject) => {
      child.on('message', (m: { type: string; [k: string]: unknown }) => {
        if (m.type === 'attack-start') {
          rss = { idle: process.memoryUsage.rss() / 2 ** 20, peak: 0 };
          lag.enable();
          sampler = setInterval(() => (rss.peak = Math.max(rss.peak, process.memoryUsage.rss() / 2 ** 20)), 50);
        } else if (m.type === 'attack-end') {
          clearInterval(sampler!);
          lag.disable();
        } else if (m.type === 'done') {
          resolve(m as never);
          return;
        } else if (m.type === 'error') {
          reject(new Error(`attack load process: ${m.error as string}`));
          return;
        }
        child.send({ type: 'ack' });
      });
      child.once('exit', (code) => code && reject(new Error(`attack load process exited with ${code}`)));
      child.send({ type: 'go', urls: { ...t.suite.urls, bare: bare.url }, keys, runId, modelId });
    }).finally(() => {
      bare.close();
      if (sampler) clearInterval(sampler);
      if (child.exitCode === null) child.kill();
    });
    const f: AttackFigures = {
      idle: { p50: pct(figures.idle, 50), p99: pct(figures.idle, 99), calls: figures.idle.length },
      noopP99: pct(figures.noop, 99),
      bareP99: pct(figures.echo, 99),
      attack: { p50: pct(figures.attack, 50), p99: pct(figures.attack, 99), calls: figures.attack.length },
      p99Ratio: pct(figures.attack, 99) / pct(figures.idle, 99),
      peakRssMb: rss.peak,
      idleRssMb: rss.idle,
      maxLagMs: lag.max / 1e6,
      analystMs: figures.analystMs,
      analystErrors: figures.analystErrors,
      orders: ORDERS,
    };
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    process.stdout.write(
      `run of ${ORDERS} orders and fills, ${HEAVY_SYMBOLS.length} symbols, five minute sessions; ${deps.workers.options.threads} analyst worker thread(s)\n` +
        `get_trading_status idle:   p50 ${ms(f.idle.p50)}, p99 ${ms(f.idle.p99)} (${f.idle.calls} calls)\n` +
        `get_trading_status attack: p50 ${ms(f.attack.p50)}, p99 ${ms(f.attack.p99)} (${f.attack.calls} calls beside 6 analyst calls)\n` +
        `trade p99 attack / idle: ${f.p99Ratio.toFixed(2)}x (target ≤ 3x); the floors' idle p99: warm no-op ${ms(f.noopP99)}, bare SDK echo ${ms(f.bareP99)}: ` +
        `attack p99 = ${(f.attack.p99 / f.noopP99).toFixed(1)}x the no-op, ${(f.attack.p99 / f.bareP99).toFixed(1)}x the bare echo (idle: ${(f.idle.p99 / f.noopP99).toFixed(1)}x, ${(f.idle.p99 / f.bareP99).toFixed(1)}x)\n` +
        `analyst calls: ${f.analystMs.map((x) => `${(x / 1000).toFixed(1)} s`).join(', ')}${f.analystErrors.length ? `; refused/failed: ${f.analystErrors.join(' | ')}` : ''}\n` +
        `RSS: ${f.idleRssMb.toFixed(0)} MB before, peak ${f.peakRssMb.toFixed(0)} MB during the attack (target ≤ 1024 MB); main loop's worst lag ${ms(f.maxLagMs)}\n`,
    );
    return f;
  } finally {
    await t.close();
  }
}
