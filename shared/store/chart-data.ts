// What an equity chart draws: the analyst's one reading of a run's equity curve and fills
// (shared/store/analyst.ts), turned into epoch-millisecond series for the renderer.
import type { Q } from '../db/database.js';
import type { ChartFill } from '../chart/equity-chart.js';
import type { SeriesPoint } from '../domain/downsample.js';
import { loadEquityCurve, loadRunFills } from './analyst.js';
import { getOwnedRun, type RunRow } from './runs.js';

export interface ChartRunData {
  run: RunRow;
  model_name: string;
  /** total value in dollars by time (epoch ms); the starting cash at the run's start when nothing was recorded */
  points: SeriesPoint[];
  /** buy and short fills are entries; sell and cover fills are exits */
  fills: ChartFill[];
}

/**
 * The caller's runs with their equity points and fills, in the order asked.
 * Raises "Run N was not found." for a missing run or another user's.
 */
export async function loadChartRuns(sql: Q, userId: number, runIds: readonly number[]): Promise<ChartRunData[]> {
  const out: ChartRunData[] = [];
  for (const runId of runIds) {
    const run = await getOwnedRun(sql, userId, runId);
    const [model] = await sql`select name from models where id = ${run.model_id}`;
    const points = (await loadEquityCurve(sql, run)).map((p) => ({ t: Date.parse(p.clock), v: p.value }));
    if (!points.length) points.push({ t: Date.parse(run.start ?? run.started_at), v: run.initial_cash });
    const fills = (await loadRunFills(sql, runId)).map((f): ChartFill => ({ t: Date.parse(f.clock), kind: f.side === 'buy' || f.side === 'short' ? 'entry' : 'exit' }));
    out.push({ run, model_name: model!.name as string, points, fills });
  }
  return out;
}
