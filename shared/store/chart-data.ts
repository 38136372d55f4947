// What an equity chart draws, read in two queries per run: the equity curve and the fills.
import type { Q } from '../db/database.js';
import type { ChartFill } from '../chart/equity-chart.js';
import type { SeriesPoint } from '../domain/downsample.js';
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
 * The caller's runs with their equity points and fills, in the order asked. Values are read
 * as float8 (a picture needs no exact cents), which keeps 100k points cheap to load.
 * Raises "Run N was not found." for a missing run or another user's.
 */
export async function loadChartRuns(sql: Q, userId: number, runIds: readonly number[]): Promise<ChartRunData[]> {
  const out: ChartRunData[] = [];
  for (const runId of runIds) {
    const run = await getOwnedRun(sql, userId, runId);
    const [model] = await sql`select name from models where id = ${run.model_id}`;
    const rows = await sql`
      select (extract(epoch from clock) * 1000)::float8 as t, total_value::float8 as v
      from equity_snapshots where run_id = ${runId} order by clock`;
    const fills = await sql`
      select (extract(epoch from clock) * 1000)::float8 as t, side
      from fills where run_id = ${runId} order by clock, id`;
    const points = rows.map((r) => ({ t: r.t as number, v: r.v as number }));
    if (!points.length) points.push({ t: Date.parse(run.start ?? run.started_at), v: run.initial_cash });
    out.push({
      run,
      model_name: model!.name as string,
      points,
      fills: fills.map((f) => ({ t: f.t as number, kind: f.side === 'buy' || f.side === 'short' ? 'entry' : 'exit' })),
    });
  }
  return out;
}
