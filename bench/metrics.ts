// npm run bench -- metrics: issue 19 item 3 in one process.
// 1. calculate_metrics on a finished minute run of 1,000,000 equity points beside numpy computing the
//    same curve metrics on the same curve (bench/lib/metrics_numpy.py, data in memory), when
//    python3 with numpy is present; else beside a JS floor (one pass summing the values). Printed:
//    numpy, our array path on the columns (shared/domain/metrics.ts curveMetricsOf), the columns'
//    reads (the points as a running run reads them, the first read of the finished run that
//    packs it, the pack), the old read (rows → EquityPoint objects), and the MCP call (its first
//    call on the run packs it). Wall and CPU time of this process (main thread and workers).
// 2. analyze_trades over runs of 50k / 100k / 200k fills (20k equity points each, so only the
//    fills grow), beside reading the same fills with their orders; linear is 2× and 4×.
// Runs are written straight to the tables with generate_series (a bench of the analyst, not of
// the order path). Ratios, never pass/fail.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import { analystServer } from '../servers/analyst/server.js';
import { runsServer } from '../servers/runs/server.js';
import { curveMetricsOf, MINUTE_PERIODS_PER_YEAR, pickColumns, returnSeriesIndex, type CurveMetrics } from '../shared/domain/metrics.js';
import { getOwnedRun } from '../shared/store/runs.js';
import { loadEquityColumns, loadRunFills } from '../shared/store/analyst.js';
import { bootSuite, ok, type TestSuite } from '../test/harness.js';
import { withNoop } from './noop.js';
import { median } from './analyst.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Medians of n calls: wall ms and this process's CPU ms (main thread and worker threads). */
async function timed(n: number, f: () => Promise<unknown>): Promise<{ ms: number; cpu: number }> {
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    ms.push(performance.now() - t0);
    const d = process.cpuUsage(c0);
    cpu.push((d.user + d.system) / 1000);
  }
  const mid = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(n / 2)]!;
  return { ms: mid(ms), cpu: mid(cpu) };
}
const POINTS = Number(process.env.BENCH_METRICS_POINTS ?? 1_000_000);
const FILL_SIZES = (process.env.BENCH_TRADES_FILLS ?? '50000,100000,200000').split(',').map(Number);
const TRADE_POINTS = 20_000;

export interface MetricsFigures {
  points: number;
  numpyMs: number | null;
  numpyPerStepMs: number | null;
  /** The JS floor when numpy is absent: one pass summing the values. */
  floorMs: number;
  arrayMs: number;
  arrayPerStepMs: number;
  /** The rows' read (a running run); readPackMs the finished run's pack, packMs its first read that writes it. */
  readColumnsMs: number;
  readPackMs: number;
  packMs: number;
  readRowsMs: number;
  toolMs: number;
  /** CPU time of this process (main thread and workers) per call. */
  toolCpuMs: number;
  /** The first call on the finished run: it writes the run's pack (migration 028). */
  firstToolMs: number;
  trades: { fills: number; ms: number; cpuMs: number; readMs: number; readCpuMs: number }[];
}

/**
 * A completed minute replay of `points` steps (390 a weekday from 2000-01-03 14:31 UTC), a
 * wandering curve in whole cents from $1M, and `fills` fills of JPM (buy/sell pairs of 100,
 * spread evenly over the steps), written with generate_series.
 */
export async function syntheticRun(t: TestSuite, runs: Client, points: number, fills: number): Promise<number> {
  const model = await ok(runs, 'create_model', { name: `bench-metrics-${points}-${fills}`, initial_cash: 1_000_000, commission_per_share: 0.005 });
  const start = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2024-01-02T14:31:00Z', end: '2024-01-02T15:31:00Z', symbols: ['JPM'] });
  const runId = start.run_id as number;
  const sql = t.suite.deps.sql;
  const clockOf = (i: string) => `(timestamptz '2000-01-03 14:31:00+00' + ((${i} / 390) / 5 * 7 + (${i} / 390) % 5) * interval '1 day' + (${i} % 390) * interval '1 minute')`;
  await sql`delete from equity_snapshots where run_id = ${runId}`;
  await sql.unsafe(`
    insert into equity_snapshots (run_id, clock, cash, positions_value, total_value)
    select ${runId}, ${clockOf('i')}, v, 0, v from (
      select i, (100000000 + sum(round(sin(i / 37.0) * 900 + cos(i / 11.0) * 500)) over (order by i)) / 100.0 as v
      from generate_series(0, ${points - 1}) i) s`);
  const every = points / fills;
  await sql.unsafe(`
    insert into orders (run_id, model_id, side, symbol, quantity, status, reasoning, source, clock)
    select ${runId}, ${model.model_id}, case when k % 2 = 0 then 'buy' else 'sell' end, 'JPM', 100, 'filled', 'Bench ' || k, 'agent', ${clockOf(`floor(k * ${every})::int`)}
    from generate_series(0, ${fills - 1}) k order by k`);
  // the fills' counting trigger (migration 018) is bypassed while they are written: one
  // statement updating the run's row once per fill walks an ever longer version chain
  // (quadratic); the counters are then set from the fills, as bench/order-history.ts does
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx.unsafe(`
      insert into fills (order_id, run_id, symbol, side, quantity, price, commission, slippage, cash_change, realized_pnl, clock)
      select id, run_id, symbol, side, 100, p, 0.50, 0, case when side = 'buy' then -p * 100 - 0.50 else p * 100 - 0.50 end, 0, clock
      from (select o.*, 200 + ((row_number() over (order by o.id) - 1) * 7 % 50) / 10.0 as p from orders o where o.run_id = ${runId}) x order by id`);
  });
  const [last] = await sql`select max(clock) as c from equity_snapshots where run_id = ${runId}`;
  await sql`
    update runs r set status = 'completed', clock = ${last!.c}, ended_at = now(),
      realized_pnl = c.pnl, trades_in_run = c.n, trades_day = c.day, trades_on_day = c.on_day
    from (select coalesce(sum(cash_change), 0) as pnl, count(*)::int as n,
                 max((clock at time zone 'America/New_York')::date) as day,
                 count(*) filter (where (clock at time zone 'America/New_York')::date =
                   (select max((clock at time zone 'America/New_York')::date) from fills where run_id = ${runId}))::int as on_day
          from fills where run_id = ${runId}) c
    where r.id = ${runId}`;
  await sql`analyze equity_snapshots`;
  await sql`analyze fills`;
  await sql`analyze orders`;
  return runId;
}

function numpy(clock: Float64Array, value: Float64Array): { session_close: { ms: number; figures: Record<string, number | null> }; per_step: { ms: number; figures: Record<string, number | null> } } | null {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-bench-numpy-'));
  try {
    fs.writeFileSync(path.join(dir, 'clock.f8'), Buffer.from(clock.buffer, clock.byteOffset, clock.byteLength));
    fs.writeFileSync(path.join(dir, 'value.f8'), Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    const r = spawnSync('python3', [path.join(here, 'lib', 'metrics_numpy.py'), path.join(dir, 'clock.f8'), path.join(dir, 'value.f8'), '5'], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`numpy side failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The largest relative difference between our figures and numpy's (sharpe, sortino, volatility, drawdown, …). */
function agreement(m: CurveMetrics, f: Record<string, number | null>): number {
  const pairs: [number | null, number | null][] = [
    [m.total_return, f.total_return!],
    [m.annualized_return, f.annualized_return!],
    [m.volatility, f.volatility!],
    [m.sharpe, f.sharpe!],
    [m.sortino, f.sortino!],
    [m.max_drawdown, f.max_drawdown!],
    [m.calmar, f.calmar!],
    [m.best_period?.return ?? null, f.best!],
    [m.worst_period?.return ?? null, f.worst!],
    [m.periods, f.periods!],
  ];
  let worst = 0;
  for (const [a, b] of pairs) {
    if (a === null || b === null) return Infinity;
    worst = Math.max(worst, Math.abs(a - b) / Math.max(1e-300, Math.abs(b)));
  }
  return worst;
}

export async function main(): Promise<MetricsFigures> {
  const t = await bootSuite({ specs: [withNoop(analystServer), runsServer], onDisk: true });
  const line = (k: string, v: string) => process.stdout.write(`${k.padEnd(64)} ${v}\n`);
  try {
    const { key, name } = await t.user();
    const [analyst, runs] = await Promise.all([t.client('analyst', key), t.client('runs', key)]);
    const sql = t.suite.deps.sql;
    const [u] = await sql`select id from users where name = ${name}`;
    const userId = u!.id as number;

    // 1. calculate_metrics over 1M points
    const runId = await syntheticRun(t, runs, POINTS, 2_000);
    const run = await getOwnedRun(sql, userId, runId);
    // the run is finished: its first read writes its pack (migration 028), later reads take it
    const packing = await timed(1, () => loadEquityColumns(sql, run));
    const cols = await loadEquityColumns(sql, run);
    const pack = await timed(3, () => loadEquityColumns(sql, run));
    // the rows, as a running run reads them
    const rowsRead = await timed(3, () => loadEquityColumns(sql, { ...run, status: 'running' }));
    const readColumnsMs = rowsRead.ms;
    const readRowsMs = await median(1, async () => {
      const rows = await sql`select clock, total_value from equity_snapshots where run_id = ${runId} order by clock`;
      return rows.map((r) => ({ clock: new Date(r.clock).toISOString(), value: Number(r.total_value) }));
    });
    let sessionFigures: CurveMetrics | null = null;
    let stepFigures: CurveMetrics | null = null;
    const sessionClose = () => {
      const s = returnSeriesIndex(cols.clock, 'minute', undefined);
      sessionFigures = curveMetricsOf(cols, s.periods_per_year, [], pickColumns(cols, s.index!));
    };
    const perStep = () => (stepFigures = curveMetricsOf(cols, MINUTE_PERIODS_PER_YEAR, []));
    sessionClose();
    perStep();
    const arrayMs = await median(5, sessionClose);
    const arrayPerStepMs = await median(5, perStep);
    const floorMs = await median(5, () => {
      let s = 0;
      for (let i = 0; i < cols.value.length; i++) s += cols.value[i]!;
      return s;
    });
    const np = numpy(cols.clock, cols.value);
    await sql`delete from equity_packs where run_id = ${runId}`;
    const first = await timed(1, () => ok(analyst, 'calculate_metrics', { run_id: runId }));
    const tool = await timed(3, () => ok(analyst, 'calculate_metrics', { run_id: runId }));
    const toolMs = tool.ms;
    const noop = await median(11, () => ok(analyst, 'noop'));

    line('equity points', POINTS.toLocaleString('en-US'));
    if (np) {
      line('numpy, session-close metrics (data in memory)', `${np.session_close.ms.toFixed(1)} ms`);
      line('numpy, per-step metrics', `${np.per_step.ms.toFixed(1)} ms`);
    } else {
      line('numpy', 'python3 with numpy absent: JS floor below instead');
    }
    line('JS floor (one pass summing the values)', `${floorMs.toFixed(2)} ms`);
    const vs = (ms: number, base: number | undefined) => (base ? ` = ${(ms / base).toFixed(1)}× numpy` : ` = ${(ms / floorMs).toFixed(0)}× JS floor`);
    line('our array path, session-close (curveMetricsOf on columns)', `${arrayMs.toFixed(1)} ms${vs(arrayMs, np?.session_close.ms)}`);
    line('our array path, per step', `${arrayPerStepMs.toFixed(1)} ms${vs(arrayPerStepMs, np?.per_step.ms)}`);
    if (np) {
      line('largest relative difference from numpy (session-close / per step)', `${agreement(sessionFigures!, np.session_close.figures).toExponential(1)} / ${agreement(stepFigures!, np.per_step.figures).toExponential(1)}`);
    }
    line('read the curve from its rows as columns (a running run)', `${readColumnsMs.toFixed(0)} ms, cpu ${rowsRead.cpu.toFixed(0)} ms`);
    line('read the finished curve, first read (writes its pack)', `${packing.ms.toFixed(0)} ms, cpu ${packing.cpu.toFixed(0)} ms`);
    line('read the finished curve from its pack (loadEquityColumns)', `${pack.ms.toFixed(0)} ms, cpu ${pack.cpu.toFixed(0)} ms`);
    line('read the curve as rows → EquityPoint objects (the old read)', `${readRowsMs.toFixed(0)} ms`);
    line('calculate_metrics through MCP, first call (packs the finished run)', `${first.ms.toFixed(0)} ms (cpu ${first.cpu.toFixed(0)} ms)`);
    line('calculate_metrics through MCP (read + metrics + 2k fills)', `${toolMs.toFixed(0)} ms${vs(toolMs, np?.session_close.ms)}, cpu ${tool.cpu.toFixed(0)} ms${vs(tool.cpu, np?.session_close.ms)} (no-op call ${noop.toFixed(1)} ms)`);

    // 2. analyze_trades scaling
    const trades: MetricsFigures['trades'] = [];
    for (const fills of FILL_SIZES) {
      const id = await syntheticRun(t, runs, TRADE_POINTS, fills);
      await ok(analyst, 'analyze_trades', { run_id: id });
      const read = await timed(3, () => loadRunFills(sql, id));
      const call = await timed(3, () => ok(analyst, 'analyze_trades', { run_id: id }));
      trades.push({ fills, ms: call.ms, cpuMs: call.cpu, readMs: read.ms, readCpuMs: read.cpu });
    }
    const base = trades[0]!;
    for (const x of trades) {
      line(
        `analyze_trades ${x.fills.toLocaleString('en-US')} fills`,
        `${x.ms.toFixed(0)} ms, cpu ${x.cpuMs.toFixed(0)} ms (${((x.cpuMs / x.fills) * 1000).toFixed(1)} µs/fill) = ${(x.ms / base.ms).toFixed(2)}× wall, ${(x.cpuMs / base.cpuMs).toFixed(2)}× cpu the ${base.fills / 1000}k run (linear ${(x.fills / base.fills).toFixed(0)}×); loadRunFills ${x.readMs.toFixed(0)} ms, cpu ${x.readCpuMs.toFixed(0)} ms`,
      );
    }
    return {
      points: POINTS,
      numpyMs: np?.session_close.ms ?? null,
      numpyPerStepMs: np?.per_step.ms ?? null,
      floorMs,
      arrayMs,
      arrayPerStepMs,
      readColumnsMs,
      readPackMs: pack.ms,
      packMs: packing.ms,
      readRowsMs,
      toolMs,
      toolCpuMs: tool.cpu,
      firstToolMs: first.ms,
      trades,
    };
  } finally {
    await t.close();
  }
}
