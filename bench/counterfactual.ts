// replay_with_rules on runs of 40 / 1k / 10k / 100k agent orders over five sessions of minute
// bars for 10 symbols, in the same process (issue 19 item 4): the replay's read (loadReplay: the
// run's records and the preloaded bars and prices), its loop beyond the read (replayLoaded, the
// figure the issue's targets are about), and counterfactual() whole (read, loop and both runs'
// metrics). CPU time of this process beside wall time: the machine is shared.
// The run's rows are written directly (a bench of the replay, not of the order path).
import os from 'node:os';
import { centsToDecimal, toCents } from '../shared/domain/money.js';
import { getOwnedRun } from '../shared/store/runs.js';
import { counterfactual, loadReplay, loadRunTape, replayLoaded } from '../shared/trading/counterfactual.js';
import { suggestRules } from '../shared/trading/suggest.js';
import { bootSuite } from '../test/harness.js';
import { HEAVY_SYMBOLS, randomOrderRows, startHeavyRun } from '../test/heavy-run.js';
import { analystServer } from '../servers/analyst/server.js';
import type { Deps } from '../shared/deps.js';
import type { RuleRecord } from '../shared/domain/types.js';

const START = '2025-03-10';
const END = '2025-03-14';
export const RULES: RuleRecord[] = [
  { ruleId: 'a', ruleName: 'Cap 20%', ruleCategory: 'position_sizing', enforcementParams: { max_position_pct: 0.2 }, appliesToSymbols: null, excludeSymbols: null, priority: 5, isActive: true },
  { ruleId: 'b', ruleName: 'Stop 1%', ruleCategory: 'stop_loss', enforcementParams: { stop_loss_pct: 0.01 }, appliesToSymbols: null, excludeSymbols: null, priority: 5, isActive: true },
];

export async function makeRun(deps: Deps, userId: number, orders: number): Promise<number> {
  const sql = deps.sql;
  const { modelId, run, clocks, last } = await startHeavyRun(deps, userId, `bench ${orders}`);
  const cash = centsToDecimal(toCents(1_000_000));
  for (let i = 0; i < clocks.length; i += 500) {
    const rows = clocks.slice(i, i + 500).map((c) => ({ run_id: run.run_id, clock: c, cash, positions_value: 0, total_value: cash }));
    await sql`insert into equity_snapshots ${sql(rows)}`;
  }
  const rows = randomOrderRows(run.run_id, modelId, clocks, HEAVY_SYMBOLS, orders);
  for (let i = 0; i < rows.length; i += 1000) await sql`insert into orders ${sql(rows.slice(i, i + 1000))}`;
  await sql`update runs set status = 'completed', clock = ${last}, ended_at = now() where id = ${run.run_id}`;
  return run.run_id;
}

/** What the replay reads before its loop (loadRunTape: the run's records, fills and preloaded market), timed. */
async function readData(deps: Deps, userId: number, runId: number): Promise<{ ms: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await loadRunTape(deps, await getOwnedRun(deps.sql, userId, runId));
  return { ms: performance.now() - t0, cpu: cpuMs(c0) };
}

async function replay(deps: Deps, userId: number, runId: number): Promise<{ ms: number; cpu: number; fills: number; changed: number }> {
  const run = await getOwnedRun(deps.sql, userId, runId);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const cf = await counterfactual(deps, run, RULES);
  return { ms: performance.now() - t0, cpu: cpuMs(c0), fills: cf.replay.fills.length, changed: cf.changed.length };
}

/** suggest_rules on the run, timed: its base and each candidate replayed over one read of the run (loadRunTape once). */
async function suggest(deps: Deps, userId: number, runId: number): Promise<{ ms: number; cpu: number; tried: number }> {
  const run = await getOwnedRun(deps.sql, userId, runId);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await suggestRules(deps, run, 5);
  return { ms: performance.now() - t0, cpu: cpuMs(c0), tried: r.candidatesTried };
}

/** replayRun in its two parts: the read (loadReplay) and the loop beyond it (replayLoaded), each timed. */
async function replayParts(deps: Deps, userId: number, runId: number): Promise<{ ms: number; readMs: number; readCpu: number; loopMs: number; loopCpu: number }> {
  const run = await getOwnedRun(deps.sql, userId, runId);
  let c0 = process.cpuUsage();
  let t0 = performance.now();
  const input = await loadReplay(deps, run, RULES);
  const readMs = performance.now() - t0;
  const readCpu = cpuMs(c0);
  c0 = process.cpuUsage();
  t0 = performance.now();
  replayLoaded(run, input);
  const loopMs = performance.now() - t0;
  return { ms: loopMs, readMs, readCpu, loopMs, loopCpu: cpuMs(c0) };
}

/** This process's CPU time since `c0` (user + system), ms: the work done, whatever the machine's load. */
const cpuMs = (c0: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1000;
};

export interface CounterfactualFigures {
  readMs: number;
  readCpuMs: number;
  /** orders → counterfactual() ms (replay and both runs' metrics): wall and this process's CPU. */
  replayMs: Record<number, number>;
  replayCpuMs: Record<number, number>;
  /** orders → the replay's loop beyond its read (replayLoaded after loadReplay), ms: wall and CPU (median of 5 by CPU). */
  loopMs: Record<number, number>;
  loopCpuMs: Record<number, number>;
  /** orders → the replay's own read (loadReplay), CPU ms, in the same runs. */
  loopReadCpuMs: Record<number, number>;
  /** orders → the loop's CPU ms on its first run at that size (cold: before the warm-up runs). */
  loopFirstCpuMs: Record<number, number>;
}

/** Unmeasured loop runs per size before the measured five: the first is reported apart (cold). */
const WARM_UP = 2;

const SIZES = (process.env.BENCH_CF_ORDERS ?? '40,1000,10000,100000').split(',').map(Number);

export async function main(): Promise<CounterfactualFigures> {
  const t = await bootSuite({ specs: [analystServer] });
  try {
    const deps = t.suite.deps;
    const { name } = await t.user();
    const [u] = await deps.sql`select id from users where name = ${name}`;
    const userId = u!.id as number;
    const line = (k: string, v: string) => process.stdout.write(`${k.padEnd(52)} ${v}\n`);
    const runs = new Map<number, number>();
    for (const n of SIZES) runs.set(n, await makeRun(deps, userId, n));
    // First pass stores the simulated bars of the five sessions (a one-time cost, not measured).
    await replay(deps, userId, runs.get(SIZES[0]!)!);
    // the median run of three by wall time, with its CPU time
    const median = async <T extends { ms: number }>(f: () => Promise<T>) => {
      const xs: T[] = [];
      for (let i = 0; i < 3; i++) xs.push(await f());
      return xs.sort((a, b) => a.ms - b.ms)[1]!;
    };
    const read = await median(() => readData(deps, userId, runs.get(SIZES[0]!)!));
    line('run', `${START}…${END} minute, ${HEAVY_SYMBOLS.length} symbols, 1,950 steps; counterfactual() in process (replay + both runs' metrics)`);
    line('load average (1 min) when measured', os.loadavg()[0]!.toFixed(1));
    line('read before the loop (records + preloaded bars and prices)', `${read.ms.toFixed(0)} ms (cpu ${read.cpu.toFixed(0)} ms)`);
    const replayMs: Record<number, number> = {};
    const replayCpuMs: Record<number, number> = {};
    const loopMs: Record<number, number> = {};
    const loopCpuMs: Record<number, number> = {};
    const loopReadCpuMs: Record<number, number> = {};
    const loopFirstCpuMs: Record<number, number> = {};
    line('target', '10k orders < 300 ms beyond the read; 40 orders a few tens of ms beyond the read');
    line('method', `per size ${WARM_UP} warm-up runs (the first printed: cold), then the median of 5 by CPU`);
    for (const n of SIZES) {
      const warm: number[] = [];
      for (let i = 0; i < WARM_UP; i++) warm.push((await replayParts(deps, userId, runs.get(n)!)).loopCpu);
      loopFirstCpuMs[n] = warm[0]!;
      // the median of five by CPU time (the figure that does not move with the machine's load)
      const parts: Awaited<ReturnType<typeof replayParts>>[] = [];
      for (let i = 0; i < (n >= 100_000 ? 3 : 5); i++) parts.push(await replayParts(deps, userId, runs.get(n)!));
      const p = parts.sort((a, b) => a.loopCpu - b.loopCpu)[parts.length >> 1]!;
      loopMs[n] = p.loopMs;
      loopCpuMs[n] = p.loopCpu;
      loopReadCpuMs[n] = p.readCpu;
      line(
        `replay ${n.toLocaleString('en-US')} orders: BEYOND THE READ (loop)`,
        `cpu ${p.loopCpu.toFixed(0)} ms (wall ${p.loopMs.toFixed(0)} ms); its read: cpu ${p.readCpu.toFixed(0)} ms (wall ${p.readMs.toFixed(0)} ms); loop cpu of 5: ${parts.map((x) => x.loopCpu.toFixed(0)).join(' ')}; warm-up runs: ${warm.map((x) => x.toFixed(0)).join(' ')} (first: cold)`,
      );
    }
    for (const n of SIZES) {
      const r = await median(() => replay(deps, userId, runs.get(n)!));
      replayMs[n] = r.ms;
      replayCpuMs[n] = r.cpu;
      line(
        `counterfactual() ${n.toLocaleString('en-US')} orders (+ both runs' metrics)`,
        `${r.ms.toFixed(0)} ms = read + ${(r.ms - read.ms).toFixed(0)} ms (${(r.ms / read.ms).toFixed(2)}× read); cpu ${r.cpu.toFixed(0)} ms = read + ${(r.cpu - read.cpu).toFixed(0)} ms; ${r.fills} fills, ${r.changed} orders changed`,
      );
    }
    const small = SIZES.find((n) => n >= 1000);
    const big = SIZES.find((n) => n >= 10_000);
    if (small && big) line(`scaling ${small / 1000}k → ${big / 1000}k orders`, `${(replayMs[big]! / replayMs[small]!).toFixed(2)}x`);
    if (small) {
      const m = await median(() => suggest(deps, userId, runs.get(small)!));
      line(`suggest_rules ${small.toLocaleString('en-US')} orders (+ its findings)`, `${m.ms.toFixed(0)} ms, cpu ${m.cpu.toFixed(0)} ms; ${m.tried} candidates replayed beside the base over one read (read cpu ${read.cpu.toFixed(0)} ms)`);
    }
    return { readMs: read.ms, readCpuMs: read.cpu, replayMs, replayCpuMs, loopMs, loopCpuMs, loopReadCpuMs, loopFirstCpuMs };
  } finally {
    await t.close();
  }
}
