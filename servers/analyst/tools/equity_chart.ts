import { z } from 'zod';
import { LINE_STYLES, renderEquityChart } from '../../../shared/chart/equity-chart.js';
import { nyLocal } from '../../../shared/domain/ny-time.js';
import { ToolError } from '../../../shared/mcp/errors.js';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY, stopIfCancelled, type ToolContext } from '../../../shared/mcp/tool.js';
import type { Q } from '../../../shared/db/database.js';
import { loadChartRuns, type ChartRunData } from '../../../shared/store/chart-data.js';
import { offload } from '../../../shared/workers/offload.js';
import type { JobContext } from '../../../shared/workers/pool.js';

export const CHART_WIDTH = { min: 320, max: 2400, fallback: 1000 };
export const CHART_HEIGHT = { min: 240, max: 1600, fallback: 600 };
const MAX_RUNS = 5;

const pixels = (what: string, b: typeof CHART_WIDTH) =>
  z
    .number({ error: `${what} must be a whole number of pixels.` })
    .int({ error: `${what} must be a whole number of pixels.` })
    .min(b.min, { error: `${what} must be at least ${b.min} pixels.` })
    .max(b.max, { error: `${what} must be at most ${b.max} pixels.` })
    .optional()
    .describe(`${what[0]!.toUpperCase()}${what.slice(1)} in pixels (default ${b.fallback})`);

export interface EquityChart {
  png: Buffer;
  title: string;
  data: z.infer<z.ZodObject<typeof chartOutput>>;
}

/**
 * Loads the caller's runs and draws them: equity (dollars, or percent return when the runs
 * started from different cash) above the drawdown, fills marked, New York time axis.
 * Raises "Run N was not found." for a missing or another user's run.
 */
export async function drawEquityChart(sql: Q, userId: number, runIds: number[], width: number, height: number): Promise<EquityChart> {
  const loaded = await loadChartRuns(sql, userId, runIds);
  const title = chartTitle(loaded);
  const rendered = renderEquityChart({
    title,
    subtitle: chartSubtitle(loaded),
    width,
    height,
    runs: loaded.map((r) => ({ name: `${r.model_name} #${r.run.run_number}`, initialValue: r.run.initial_cash, points: r.points, fills: r.fills })),
  });
  const runs = loaded.map((r, i) => {
    const drawn = rendered.runs[i]!;
    return {
      run_id: r.run.run_id,
      model_id: r.run.model_id,
      model_name: r.model_name,
      run_number: r.run.run_number,
      color: drawn.color,
      first: new Date(r.points[0]!.t).toISOString(),
      last: new Date(r.points.at(-1)!.t).toISOString(),
      end_value: r.points.at(-1)!.v,
      equity_points: drawn.points,
      points_drawn: drawn.points_drawn,
      fills: drawn.fills,
      fill_markers_drawn: drawn.markers_drawn,
    };
  });
  return { png: rendered.png, title, data: { title, width, height, scale: rendered.scale, trading_time: rendered.compressed, png_bytes: rendered.png.length, runs } };
}

/** drawEquityChart in a worker thread (rendering is CPU work), off the loop that serves orders. */
export async function drawOffLoop(ctx: Pick<ToolContext, 'deps' | 'auth' | 'signal' | 'progress'>, runIds: number[], width: number, height: number): Promise<EquityChart> {
  const chart = await offload<EquityChart>(ctx, import.meta.url, 'chartJob', { userId: ctx.auth.userId, runIds, width, height });
  // the PNG crossed the thread as a Uint8Array
  return { ...chart, png: Buffer.from(chart.png.buffer, chart.png.byteOffset, chart.png.byteLength) };
}

/** Worker job: drawEquityChart over the data port. */
export function chartJob(input: { userId: number; runIds: number[]; width: number; height: number }, ctx: JobContext): Promise<EquityChart> {
  return drawEquityChart(ctx.sql, input.userId, input.runIds, input.width, input.height);
}

const chartOutput = {
  title: z.string(),
  width: z.number(),
  height: z.number(),
  scale: z.enum(['value', 'return']).describe('value: equity in dollars; return: percent since start (runs with different starting cash)'),
  trading_time: z.boolean().describe('Nights, weekends and holidays left out of the time axis (sessions side by side)'),
  png_bytes: z.number(),
  runs: z.array(
    z.object({
      run_id: z.number(),
      model_id: z.number(),
      model_name: z.string(),
      run_number: z.number(),
      color: z.string().describe('the curve colour, #rrggbb'),
      first: z.string().describe('UTC time of the first equity point'),
      last: z.string().describe('UTC time of the last equity point'),
      end_value: z.number().describe('dollars at the last equity point'),
      equity_points: z.number(),
      points_drawn: z.number().describe('points left after min/max-per-pixel-column down-sampling'),
      fills: z.number(),
      fill_markers_drawn: z.number().describe('Every fill up to 600 a run; past that thinned to one per 3 px column and kind (the chart says so)'),
    }),
  ),
};

export const equityChartTool = defineTool({
  name: 'equity_chart',
  title: 'Equity chart',
  description:
    'PNG of the equity curve of a run (run_id) or up to 5 runs (run_ids), drawdown beneath, start and final value marked, entry (green ▲) and exit (red ▼) fills (up to 600 a run, else counted in the text); trading-time axis (no nights or weekends), New York dates.',
  scope: 'read',
  input: {
    run_id: idSchema('run_id').optional(),
    run_ids: z
      .array(idSchema('run_ids item').meta({ description: undefined }), { error: 'run_ids must be a list of run ids.' })
      .min(1, { error: 'run_ids must name at least one run.' })
      .max(MAX_RUNS, { error: `run_ids can name at most ${MAX_RUNS} runs.` })
      .refine((ids) => new Set(ids).size === ids.length, { error: 'run_ids must not name a run twice.' })
      .optional()
      .describe(`Up to ${MAX_RUNS} run ids drawn together`),
    width: pixels('width', CHART_WIDTH),
    height: pixels('height', CHART_HEIGHT),
  },
  output: chartOutput,
  annotations: READ_ONLY,
  async handler({ run_id, run_ids, width, height }, ctx) {
    const { progress, signal } = ctx;
    if ((run_id === undefined) === (run_ids === undefined)) {
      throw new ToolError('BAD_ARGUMENTS', 'Give either run_id or run_ids (not both, not neither).');
    }
    const ids = run_ids ?? [run_id!];
    stopIfCancelled({ signal });
    await progress(0, 1, 'drawing');
    const chart = await drawOffLoop(ctx, ids, width ?? CHART_WIDTH.fallback, height ?? CHART_HEIGHT.fallback);
    const d = chart.data;
    const parts = d.runs.map(
      (r) =>
        `${r.model_name} #${r.run_number} (run ${r.run_id}, ${r.color}${d.runs.length > 1 ? `, ${LINE_STYLES[d.runs.indexOf(r) % LINE_STYLES.length]} line` : ''}): ${r.equity_points} equity point(s) drawn as ${r.points_drawn}, ${r.fill_markers_drawn < r.fills ? `${r.fill_markers_drawn} of ${r.fills} fills drawn (thinned)` : `all ${r.fills} fill(s) drawn`}, ends at $${r.end_value.toFixed(2)}`,
    );
    return {
      data: d,
      summary: `Equity chart "${d.title}", ${d.width}×${d.height} PNG (${d.png_bytes} bytes), ${d.scale === 'value' ? 'equity in dollars' : 'percent return, since the runs started from different cash'}, start and final values marked, drawdown beneath${d.trading_time ? ', nights and weekends left out of the time axis' : ''}. ${parts.join('; ')}.`,
      content: [{ type: 'image', data: chart.png.toString('base64'), mimeType: 'image/png' }],
    };
  },
});

function chartTitle(runs: ChartRunData[]): string {
  const models = new Set(runs.map((r) => r.run.model_id));
  if (runs.length === 1) return `${runs[0]!.model_name} — run #${runs[0]!.run.run_number}`;
  if (models.size === 1) return `${runs[0]!.model_name} — runs ${runs.map((r) => `#${r.run.run_number}`).join(', ')}`;
  return runs.map((r) => `${r.model_name} #${r.run.run_number}`).join(' vs ');
}

function chartSubtitle(runs: ChartRunData[]): string {
  const first = Math.min(...runs.map((r) => r.points[0]!.t));
  const last = Math.max(...runs.map((r) => r.points.at(-1)!.t));
  const a = nyLocal(new Date(first));
  const b = nyLocal(new Date(last));
  const span = a.date === b.date ? `${a.date} ${a.hhmm}–${b.hhmm}` : `${a.date} ${a.hhmm} → ${b.date} ${b.hhmm}`;
  const steps = [...new Set(runs.map((r) => (r.run.kind === 'live' ? 'live' : `${r.run.timespan} steps`)))].join(', ');
  return `${span} New York time · ${steps}`;
}
