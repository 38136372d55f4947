// npm run bench: runs every bench/*.ts (but this file and noop.ts), one after another, each in
// its own process, then prints the targets of the performance issues with the figures beside them.
// `npm run bench -- NAME...` runs the files whose name contains a NAME (e.g. analyst).
// Benchmarks print figures and ratios against a no-op tool on the same stack and against a
// bare SDK v2 echo server (bench/lib/bare.ts), so a faster host cannot hide behind its floor; they never
// pass or fail. Round trips per call are counted by shared/db/round-trips.ts.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Footprint } from './footprint.js';
import type { ReplayFigures } from './replay.js';
import type { TradeFigures } from './trade.js';
import type { HostFigures } from './host.js';
import type { HistoryFigures } from './order-history.js';
import type { MetricsFigures } from './metrics.js';
import type { CounterfactualFigures } from './counterfactual.js';
import type { AttackFigures } from './attack.js';
import { BENCH_RATE_LIMIT, tripsPerCall } from './lib/server.js';

const dir = path.dirname(fileURLToPath(import.meta.url));

// Each bench runs in a process of its own (this file forked with BENCH_FILE set), so no figure
// carries memory, compiled code or garbage from the benches before it (the attack's peak RSS did:
// 779 MB before it started when run after bench/analyst.ts in one process). Figures come back
// by IPC with structured clone.
if (process.env.BENCH_FILE) {
  const mod = (await import(pathToFileURL(path.join(dir, process.env.BENCH_FILE)).href)) as { main?: () => Promise<unknown> };
  let reply: { result?: unknown; error?: string };
  try {
    reply = { result: await mod.main?.() };
  } catch (e) {
    reply = { error: String((e as Error).stack ?? e) };
  }
  process.send!(reply, () => process.exit(0));
  await new Promise(() => {}); // the send's callback exits
}

/** Runs one bench file in its own process; its figures, or throws with its error. */
function runOne(file: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_FILE: file }, serialization: 'advanced', stdio: 'inherit' });
    let reply: { result?: unknown; error?: string } | null = null;
    child.on('message', (m) => (reply = m as typeof reply));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (reply?.error !== undefined) reject(new Error(reply.error));
      else if (reply) resolve(reply.result);
      else reject(new Error(`bench/${file} exited (${signal ?? code}) without its figures`));
    });
  });
}

const only = process.argv.slice(2);
const files = fs
  .readdirSync(dir)
  .filter((f) => /\.[jt]s$/.test(f) && !f.endsWith('.d.ts') && !/^(run|noop)\./.test(f) && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort();
const results: Record<string, unknown> = {};
const failed: string[] = [];
for (const f of files) {
  process.stdout.write(`\n== bench/${f}\n`);
  try {
    results[f.replace(/\.[jt]s$/, '')] = await runOne(f);
  } catch (e) {
    // one bench failing leaves its figures "not run" in the tables; the others still run
    failed.push(f);
    process.stdout.write(`bench/${f} failed: ${(e as Error).message}\n`);
  }
}

const trade = results.trade as TradeFigures[] | undefined;
const replay = results.replay as ReplayFigures[] | undefined;
const footprint = results.footprint as Footprint | undefined;
if (trade || replay || footprint) {
  const x = (v: number | undefined) => (v === undefined ? 'not run' : `${v.toFixed(2)}x`);
  const on = <T extends { db: string }>(list: T[] | undefined, db: string) => list?.find((f) => f.db === db);
  const pg = on(trade, 'postgres');
  const emb = on(trade, 'embedded');
  const trips = (f: TradeFigures | ReplayFigures | undefined, tool: string) => {
    const s = f?.result[tool];
    return s ? tripsPerCall(s).toFixed(2) : 'not run';
  };
  const mb = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(0));
  const rows: [string, string, string][] = [
    ['DB round trips, market order (per call, bench; test counts exactly)', `${trips(emb, 'order@16')} emb / ${trips(pg, 'order@16')} pg`, '≤ 4'],
    ['DB round trips, replay step of 10 symbols', `${trips(on(replay, 'embedded'), 'advance_run@1')} emb / ${trips(on(replay, 'postgres'), 'advance_run@1')} pg`, '≤ 6'],
    ['DB round trips, read-only tool (get_portfolio), warm key cache', `${trips(emb, 'get_portfolio@16')} emb / ${trips(pg, 'get_portfolio@16')} pg`, 'its reads only'],
    ['order vs warm no-op (vs bare SDK echo), Postgres 15: p50', `${x(pg?.p50Ratio)} (${x(pg?.p50VsBare)})`, '≤ 3× the no-op'],
    ['order vs warm no-op (vs bare SDK echo), Postgres 15: throughput, 16 clients', `${x(pg?.throughputRatio)} (${x(pg?.throughputVsBare)})`, '≥ 0.5× the no-op'],
    ['order vs warm no-op (vs bare SDK echo), embedded: throughput', `${x(emb?.throughputRatio)} (${x(emb?.throughputVsBare)})`, '≥ 0.35× the no-op'],
    [
      'replay steps/s vs no-op calls/s (vs bare SDK echo calls/s), 10 symbols, minute bars',
      `${x(on(replay, 'embedded')?.ratio)} (${x(on(replay, 'embedded')?.ratioVsBare)}) emb / ${x(on(replay, 'postgres')?.ratio)} (${x(on(replay, 'postgres')?.ratioVsBare)}) pg`,
      '≥ 0.5× the no-op',
    ],
    ['idle RSS after start, Postgres / embedded / fresh embedded (MB)', footprint ? `${mb(footprint.postgres)} / ${mb(footprint.embedded)} / ${mb(footprint.freshEmbedded)}` : 'not run', '≤ 150 / 250 / 450'],
  ];
  process.stdout.write('\n== targets (issue 11): today beside the target\n');
  process.stdout.write(`| what | today | target |\n|---|---|---|\n`);
  for (const [what, today, target] of rows) process.stdout.write(`| ${what} | ${today} | ${target} |\n`);
}

// Issue 19's own targets: the figures this bench measures, 'not measured' where it has no
// figure yet (never a looser target in their place).
const history = results['order-history'] as HistoryFigures[] | undefined;
const host = results.host as HostFigures | undefined;
const metrics = results.metrics as MetricsFigures | undefined;
const cf = results.counterfactual as CounterfactualFigures | undefined;
const attack = results.attack as AttackFigures | undefined;
if (history || trade || host || metrics || cf || attack) {
  const x = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 'not run' : `${v.toFixed(2)}x`);
  // 50000 → 50k, 1000000 → 1M
  const kilo = (n: number) => (n >= 1e6 && n % 1e5 === 0 ? `${n / 1e6}M` : n >= 1000 && n % 100 === 0 ? `${n / 1000}k` : String(n));
  const ratioAt = (f: HistoryFigures | undefined, n: number) => {
    const base = f?.points.find((p) => p.earlier === 0)?.p50;
    const at = f?.points.find((p) => p.earlier === n)?.p50;
    return base && at ? at / base : undefined;
  };
  const hist = (db: string) => history?.find((f) => f.db === db);
  const pgOrders = trade?.find((f) => f.db === 'postgres')?.result['order@16'];
  const rows: [string, string, string, string][] = [
    [
      'trade p99 beside 6 heavy analyst calls, vs idle (bench/attack.ts, embedded, get_trading_status)',
      attack ? `${x(attack.p99Ratio)} (${attack.attack.p99.toFixed(0)} / ${attack.idle.p99.toFixed(0)} ms, ${attack.orders} orders)` : 'not run',
      '83–227×',
      '≤ 3×',
    ],
    [
      'order p50 after 10k / 100k earlier orders, vs after 0 (bench/order-history.ts)',
      `${x(ratioAt(hist('embedded'), 10_000))} / ${x(ratioAt(hist('embedded'), 100_000))} emb; ${x(ratioAt(hist('postgres'), 10_000))} / ${x(ratioAt(hist('postgres'), 100_000))} pg`,
      '1.9× / 18×',
      '≤ 1.3×',
    ],
    [
      'order throughput vs bare SDK echo, 16 clients, Postgres (bench/trade.ts: orders/s over the bare echo no-op/s, same load process)',
      pgOrders ? x(trade!.find((f) => f.db === 'postgres')!.throughputVsBare) : 'not run',
      '—',
      'print it',
    ],
    [
      `calculate_metrics ${metrics ? kilo(metrics.points) : '1M'} points vs numpy (bench/metrics.ts: the MCP call; the array path alone)`,
      metrics
        ? metrics.numpyMs
          ? `${x(metrics.toolMs / metrics.numpyMs)} (${metrics.toolMs.toFixed(0)} ms vs ${metrics.numpyMs.toFixed(1)} ms; cpu ${x(metrics.toolCpuMs / metrics.numpyMs)}); array path ${x(metrics.arrayMs / metrics.numpyMs)}; first call on the run (packs it) ${metrics.firstToolMs.toFixed(0)} ms`
          : `numpy absent: MCP call ${metrics.toolMs.toFixed(0)} ms, array path ${metrics.arrayMs.toFixed(1)} ms, JS floor ${metrics.floorMs.toFixed(2)} ms`
        : 'not run',
      '420×',
      '≤ 20×',
    ],
    [
      // the sizes measured (BENCH_TRADES_FILLS may override 50k / 100k / 200k)
      `analyze_trades ${metrics?.trades.length ? metrics.trades.map((t) => kilo(t.fills)).join(' / ') : '50k / 100k / 200k'} fills, vs ${metrics?.trades.length ? kilo(metrics.trades[0]!.fills) : '50k'} (bench/metrics.ts)`,
      metrics && metrics.trades.length
        ? `wall ${metrics.trades.map((t) => x(t.ms / metrics.trades[0]!.ms)).join(' / ')}; cpu ${metrics.trades.map((t) => x(t.cpuMs / metrics.trades[0]!.cpuMs)).join(' / ')}`
        : 'not run',
      '—',
      `linear (${metrics?.trades.length ? metrics.trades.map((t) => x(t.fills / metrics.trades[0]!.fills)).join(' / ') : '1× / 2× / 4×'})`,
    ],
    [
      'counterfactual 10k orders, minute run, beyond the read (bench/counterfactual.ts, in process: the loop; then counterfactual() whole with both runs\' metrics)',
      cf?.replayMs[10_000] !== undefined
        ? `loop cpu ${cf.loopCpuMs[10_000]!.toFixed(0)} ms, median of 5 after warm-up (first run ${cf.loopFirstCpuMs[10_000]!.toFixed(0)} ms; read cpu ${cf.loopReadCpuMs[10_000]!.toFixed(0)} ms); whole ${(cf.replayMs[10_000] / 1000).toFixed(2)} s, cpu ${(cf.replayCpuMs[10_000]! / 1000).toFixed(2)} s`
        : 'not run',
      '1.3–1.9 s',
      '< 0.3 s',
    ],
    [
      'counterfactual 40 orders beyond reading the bars (loop cpu); 1k / 10k / 100k orders (counterfactual() whole, wall)',
      cf
        ? `${cf.loopCpuMs[40] !== undefined ? `${cf.loopCpuMs[40].toFixed(0)} ms cpu (first run ${cf.loopFirstCpuMs[40]!.toFixed(0)} ms)` : 'not run'}; ${[1_000, 10_000, 100_000].map((n) => (cf.replayMs[n] === undefined ? '—' : `${(cf.replayMs[n] / 1000).toFixed(2)} s`)).join(' / ')}`
        : 'not run',
      '1.09 / 1.82 / 5.88 s',
      'a few tens of ms',
    ],
    ['RSS during the analyst attack (bench/attack.ts, peak, whole process)', attack ? `${(attack.peakRssMb / 1024).toFixed(2)} GB` : 'not run', '2.1 GB', '≤ 1 GB'],
  ];
  process.stdout.write(`\n== targets (issue 19): measured beside the issue's figures and targets\n`);
  process.stdout.write(
    `(every bench client has its own key; bench/trade.ts and bench/replay.ts still lift the per-key rate limit to ${BENCH_RATE_LIMIT.perSec}/s, burst ${BENCH_RATE_LIMIT.burst}, as one sequential client's no-op calls alone pass the default 100/s; bench/attack.ts runs at the default limit)\n`,
  );
  process.stdout.write(`| figure | measured | issue's today | target |\n|---|---|---|---|\n`);
  for (const [what, today, before, target] of rows) process.stdout.write(`| ${what} | ${today} | ${before} | ${target} |\n`);
}

if (failed.length) {
  process.stdout.write(`\nfailed: ${failed.map((f) => `bench/${f}`).join(', ')} (see above)\n`);
  process.exitCode = 1;
}
