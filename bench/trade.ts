// Orders (buy/sell, market, 1 share, on models with 5 active rules) against a no-op tool on
// the same stack, load from a separate process after a warm-up: per tool p50/p99 (one client,
// calls interleaved), throughput with 16 clients (phases interleaved), server CPU ms per call
// and database round trips per call. On the embedded database, then on DATABASE_URL if set.
import { rulesServer } from '../servers/rules/server.js';
import { runsServer } from '../servers/runs/server.js';
import { tradeServer } from '../servers/trade/server.js';
import { bootFor, cpuPerCall, pct, perSec, runLoad, statementsPerCall, tripsPerCall, type Database, type LoadResult } from './lib/server.js';
import { withNoop } from './noop.js';

export interface TradeFigures {
  db: Database;
  where: string;
  /** order p50 / no-op p50, one client */
  p50Ratio: number;
  /** orders/s / no-op calls/s, 16 clients */
  throughputRatio: number;
  /** The same two against the bare SDK echo (bench/lib/bare.ts), from the same load process. */
  p50VsBare: number;
  throughputVsBare: number;
  result: LoadResult;
}

export async function measureTrade(db: Database): Promise<TradeFigures> {
  const t = await bootFor(db, [withNoop(tradeServer), runsServer, rulesServer]);
  try {
    const result = await runLoad(t, 'trade');
    return {
      db,
      where: t.suite.deps.db.where,
      p50Ratio: pct(result['order@1']!.latencies, 50) / pct(result['noop@1']!.latencies, 50),
      throughputRatio: perSec(result['order@16']!) / perSec(result['noop@16']!),
      p50VsBare: pct(result['order@1']!.latencies, 50) / pct(result['bare@1']!.latencies, 50),
      throughputVsBare: perSec(result['order@16']!) / perSec(result['bare@16']!),
      result,
    };
  } finally {
    await t.close();
  }
}

export function printTools(result: LoadResult, tools: string[], clients: number): void {
  const line = (k: string, v: string) => process.stdout.write(`  ${k.padEnd(16)} ${v}\n`);
  line('tool', `p50 ms   p99 ms   calls/s (${clients} clients)   CPU ms/call   DB round trips/call   statements/call`);
  for (const tool of tools) {
    const one = result[`${tool}@1`];
    const many = result[`${tool}@${clients}`];
    const lat = one?.latencies.length ? one.latencies : (many?.latencies ?? []);
    const load = many ?? one!;
    line(
      tool,
      `${pct(lat, 50).toFixed(2).padStart(6)}   ${pct(lat, 99).toFixed(2).padStart(6)}   ${perSec(load).toFixed(0).padStart(8)}              ${cpuPerCall(load).toFixed(3).padStart(7)}       ${tripsPerCall(load).toFixed(2).padStart(19)}   ${statementsPerCall(load).toFixed(2)}`,
    );
  }
}

export async function runTrade(): Promise<TradeFigures[]> {
  const out: TradeFigures[] = [];
  for (const db of ['embedded', ...(process.env.DATABASE_URL ? ['postgres'] : [])] as Database[]) {
    const f = await measureTrade(db);
    process.stdout.write(`${f.where}\n`);
    printTools(f.result, ['bare', 'noop', 'order', 'get_portfolio'], 16);
    process.stdout.write(`  (bare: the no-op on a bare SDK v2 echo server, no auth or database)\n`);
    process.stdout.write(`  order / warm no-op: p50 ${f.p50Ratio.toFixed(2)}x, throughput (16 clients) ${f.throughputRatio.toFixed(2)}x\n`);
    process.stdout.write(`  order / bare SDK echo: p50 ${f.p50VsBare.toFixed(2)}x, throughput (16 clients) ${f.throughputVsBare.toFixed(2)}x\n`);
    out.push(f);
  }
  return out;
}

export async function main(): Promise<TradeFigures[]> {
  return runTrade();
}
