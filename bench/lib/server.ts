// The server side of a benchmark: boots the suite in this process and runs the load from a
// separate process (bench/lib/load.ts), so the clients never share the server's thread.
// Around each measured phase the load process asks for a mark: the server records its own
// CPU time (process.cpuUsage) and the database round trips (shared/db/round-trips.ts).
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerSpec } from '../../shared/mcp/server-spec.js';
import { createKey } from '../../shared/auth/keys.js';
import { bootSuite, type TestSuite } from '../../test/harness.js';
import { bareServer } from './bare.js';

export interface PhaseStats {
  calls: number;
  wallMs: number;
  cpuMs: number;
  roundTrips: number;
  /** Statements sent (Execute/Query messages): unlike round trips, not merged when concurrent calls pipeline on one connection. */
  statements: number;
  /** Per-call latencies (ms), when the load process reports them. */
  latencies: number[];
}

export type Scenario = 'trade' | 'replay';

/** Per tool: the sum over its phases. */
export type LoadResult = Record<string, PhaseStats>;

export type Database = 'embedded' | 'postgres';

const here = path.dirname(fileURLToPath(import.meta.url));
const loadFile = path.join(here, `load${path.extname(fileURLToPath(import.meta.url))}`);

/** The rate limit the bench's suites run with (lifted: see bootFor). */
export const BENCH_RATE_LIMIT = { perSec: 100_000, burst: 1_000_000 };
/** Keys the load process gets: one per client (16) and one for its setup clients. */
export const BENCH_KEYS = 17;

/** Boots `specs` on the embedded database (on disk, like npm start) or on DATABASE_URL. */
export async function bootFor(db: Database, specs: ServerSpec[]): Promise<TestSuite> {
  // Every bench client has its own key, but the per-key rate limit is still lifted: one
  // client's sequential no-op calls alone exceed the default 100/s (p50 ~1.6 ms); npm run
  // bench says so in its target table.
  const env: Record<string, string> = {
    AIBT_RATE_LIMIT_PER_SEC: String(BENCH_RATE_LIMIT.perSec),
    AIBT_RATE_LIMIT_BURST: String(BENCH_RATE_LIMIT.burst),
    ...(db === 'embedded' ? { DATABASE_URL: '', REDIS_URL: '' } : {}),
  };
  return bootSuite({ specs, onDisk: true, env });
}

export async function runLoad(t: TestSuite, scenario: Scenario): Promise<LoadResult> {
  const { name } = await t.user();
  const keys: string[] = [];
  for (let i = 0; i < BENCH_KEYS; i++) keys.push((await createKey(t.suite.deps.sql, name)).key);
  // the bare SDK echo, in this process beside the suite: each table's second floor
  const bare = await bareServer();
  const child = fork(loadFile, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result: LoadResult = {};
  let open: { tool: string; cpu: NodeJS.CpuUsage; trips: number; statements: number; t0: number } | null = null;
  return new Promise<LoadResult>((resolve, reject) => {
    child.on('message', (m: { type: string; tool?: string; calls?: number; latencies?: number[]; error?: string }) => {
      if (m.type === 'start') {
        open = { tool: m.tool!, cpu: process.cpuUsage(), trips: t.suite.deps.db.roundTrips.count, statements: t.suite.deps.db.roundTrips.statements, t0: performance.now() };
      } else if (m.type === 'end' && open) {
        const cpu = process.cpuUsage(open.cpu);
        const s = (result[open.tool] ??= { calls: 0, wallMs: 0, cpuMs: 0, roundTrips: 0, statements: 0, latencies: [] });
        s.calls += m.calls!;
        s.wallMs += performance.now() - open.t0;
        s.cpuMs += (cpu.user + cpu.system) / 1000;
        s.roundTrips += t.suite.deps.db.roundTrips.count - open.trips;
        s.statements += t.suite.deps.db.roundTrips.statements - open.statements;
        s.latencies.push(...(m.latencies ?? []));
        open = null;
      } else if (m.type === 'latencies') {
        const s = (result[m.tool!] ??= { calls: 0, wallMs: 0, cpuMs: 0, roundTrips: 0, statements: 0, latencies: [] });
        s.latencies.push(...m.latencies!);
      } else if (m.type === 'done') {
        resolve(result);
        return;
      } else if (m.type === 'error') {
        reject(new Error(`bench load process: ${m.error}`));
        return;
      }
      child.send({ type: 'ack' });
    });
    child.once('exit', (code) => (code ? reject(new Error(`bench load process exited with ${code}`)) : resolve(result)));
    child.send({ type: 'go', scenario, urls: { ...t.suite.urls, bare: bare.url }, keys });
  }).finally(() => {
    bare.close();
    if (child.exitCode === null) child.kill();
  });
}

export function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export const perSec = (s: PhaseStats) => s.calls / (s.wallMs / 1000);
export const cpuPerCall = (s: PhaseStats) => s.cpuMs / s.calls;
export const tripsPerCall = (s: PhaseStats) => s.roundTrips / s.calls;
export const statementsPerCall = (s: PhaseStats) => s.statements / s.calls;
