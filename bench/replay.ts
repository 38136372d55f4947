// A minute replay of one regular session for 10 symbols, one advance_run step per MCP call,
// against a no-op tool on the same stack: load from a separate process after a warm-up,
// phases of 20 steps and 20 no-op calls alternating. On the embedded database, then on
// DATABASE_URL if set.
import { runsServer } from '../servers/runs/server.js';
import { bootFor, perSec, runLoad, type Database, type LoadResult } from './lib/server.js';
import { withNoop } from './noop.js';
import { printTools } from './trade.js';

export interface ReplayFigures {
  db: Database;
  where: string;
  /** advance_run steps/s / no-op calls/s */
  ratio: number;
  /** advance_run steps/s / bare SDK echo calls/s (bench/lib/bare.ts) */
  ratioVsBare: number;
  result: LoadResult;
}

export async function measureReplay(db: Database): Promise<ReplayFigures> {
  const t = await bootFor(db, [withNoop(runsServer)]);
  try {
    const result = await runLoad(t, 'replay');
    const steps = perSec(result['advance_run@1']!);
    return { db, where: t.suite.deps.db.where, ratio: steps / perSec(result['noop@1']!), ratioVsBare: steps / perSec(result['bare@1']!), result };
  } finally {
    await t.close();
  }
}

export async function main(): Promise<ReplayFigures[]> {
  const out: ReplayFigures[] = [];
  for (const db of ['embedded', ...(process.env.DATABASE_URL ? ['postgres'] : [])] as Database[]) {
    const f = await measureReplay(db);
    process.stdout.write(`${f.where}: 10 symbols, minute bars\n`);
    printTools(f.result, ['bare', 'noop', 'advance_run'], 1);
    process.stdout.write(`  advance_run steps/s / warm no-op calls/s: ${f.ratio.toFixed(2)}x; / bare SDK echo calls/s: ${f.ratioVsBare.toFixed(2)}x\n`);
    out.push(f);
  }
  return out;
}
