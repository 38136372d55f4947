// The equity chart as a PNG, drawn on the server with no browser: Apache ECharts builds the
// picture as SVG (its server-side renderer), resvg rasterizes it with the DejaVu Sans font
// shipped in the dejavu-fonts-ttf package, so the text renders on a machine with no fonts.
import { createRequire } from 'node:module';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { LineChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, MarkPointComponent, TitleComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { minMaxPerColumn, thinPerColumn, type SeriesPoint } from '../domain/downsample.js';
import { nyLocal } from '../domain/ny-time.js';

echarts.use([LineChart, ScatterChart, GridComponent, LegendComponent, MarkLineComponent, MarkPointComponent, TitleComponent, SVGRenderer]);

const require = createRequire(import.meta.url);
const FONT_DIR = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => path.join(FONT_DIR, f));
const FONT = 'DejaVu Sans';

/** Curve colours, one per run in order (at most 5 runs). */
export const RUN_COLORS = ['#1d4ed8', '#c2410c', '#7e22ce', '#0f766e', '#be185d'] as const;
/** Entry fills (buy, short) are green triangles pointing up, exits (sell, cover) red pointing down. */
export const ENTRY_COLOR = '#16a34a';
export const EXIT_COLOR = '#dc2626';
const DRAWDOWN_FILL = 0.18;

export interface ChartFill {
  /** epoch milliseconds (UTC) */
  t: number;
  kind: 'entry' | 'exit';
}

export interface ChartRun {
  /** legend label, e.g. "Momentum #3" */
  name: string;
  /** the starting value in dollars: the first point of the drawdown's running peak */
  initialValue: number;
  /** equity in dollars by time (epoch ms, UTC), sorted by time */
  points: SeriesPoint[];
  fills: ChartFill[];
}

export interface ChartRequest {
  title: string;
  subtitle?: string;
  /** pixels */
  width: number;
  height: number;
  runs: ChartRun[];
}

export interface RenderedChart {
  png: Buffer;
  /** "value": dollars; "return": percent since start, used when runs start from different cash */
  scale: 'value' | 'return';
  runs: { name: string; color: string; points: number; points_drawn: number; fills: number; markers_drawn: number }[];
  /** Whether nights, weekends and holidays were squeezed out of the time axis (sessions side by side). */
  compressed: boolean;
}

/** Every fill is drawn up to this many per run; past it, one of each kind per 3 px column, and the chart says how many. */
export const MAX_MARKERS = 600;
/** Line styles per run, with the colours, so runs stay apart in grey or for a colour-blind reader. */
export const LINE_STYLES = ['solid', 'dashed', 'dotted', 'dashed', 'dotted'] as const;

/**
 * Renders equity curve(s) above their drawdown (percent below the running peak, the starting
 * value counting as the first peak) with entry and exit fills marked, on a time axis in New
 * York wall-clock time. Each curve is down-sampled to min/max per pixel column first, so the
 * cost of the picture does not grow with the run. Throws on no runs.
 */
export function renderEquityChart(req: ChartRequest): RenderedChart {
  if (!req.runs.length) throw new Error('renderEquityChart needs at least one run.');
  const { width, height } = req;
  const scale: RenderedChart['scale'] = new Set(req.runs.map((r) => r.initialValue)).size > 1 ? 'return' : 'value';
  const left = 84;
  const right = 24;
  const columns = Math.max(1, width - left - right);
  const all = req.runs.flatMap((r) => [r.points[0]?.t, r.points.at(-1)?.t]).filter((t): t is number => t !== undefined);
  const from = Math.min(...all);
  const to = Math.max(...all);
  // The x axis is trading time: pauses between steps (nights, weekends, holidays) are squeezed
  // to a short spacer, so sessions sit side by side; labels map back to New York dates.
  const axis = tradingTimeAxis(req.runs.flatMap((r) => r.points.map((p) => p.t)));
  const ny = axis.x;

  const many = req.runs.length > 1;
  const series: Record<string, unknown>[] = [];
  const stats: RenderedChart['runs'] = [];
  req.runs.forEach((run, i) => {
    const color = RUN_COLORS[i % RUN_COLORS.length]!;
    const y = (v: number) => (scale === 'value' ? v : run.initialValue > 0 ? (v / run.initialValue - 1) * 100 : 0);
    const equity = minMaxPerColumn(run.points, columns, from, to);
    const drawdown = minMaxPerColumn(drawdownSeries(run.initialValue, run.points), columns, from, to);
    const gap = gapMs(run.points);
    // markers are 11 px wide: one of each kind per 12 px keeps them apart and the curve visible
    // thinned on the trading-time axis, so a night's empty stretch takes no column
    const realOf = new Map(run.fills.map((f) => [ny(f.t), f.t]));
    const markers =
      run.fills.length <= MAX_MARKERS
        ? run.fills
        : thinPerColumn(run.fills.map((f) => ({ t: ny(f.t), kind: f.kind })), columns / 3, ny(from), ny(to)).map((m) => ({ t: realOf.get(m.t)!, kind: m.kind }));
    const at = valueAt(run.points);
    const last = run.points.at(-1);
    const tag = many ? `${run.name.replace(/^.* (#\d+)$/, '$1')} ` : '';
    const label = (v: number) => (scale === 'value' ? dollars(v) : `${y(v) >= 0 ? '+' : ''}${y(v).toFixed(2)}%`);
    series.push(
      {
        type: 'line', name: run.name, xAxisIndex: 0, yAxisIndex: 0, showSymbol: false, animation: false,
        lineStyle: { color, width: 2, type: LINE_STYLES[i % LINE_STYLES.length] }, itemStyle: { color },
        data: withGaps(equity, gap, (p) => [ny(p.t), y(p.v)]),
        // the start value (a dashed level across the chart) and the final value (a dot with its figure)
        markLine: i === 0 ? {
          silent: true, symbol: 'none', animation: false,
          lineStyle: { color: '#6b7280', type: 'dashed', width: 1 },
          label: { formatter: `start ${scale === 'value' ? dollars(run.initialValue) : '0%'}`, position: 'insideStartTop', color: '#111827', fontFamily: FONT, fontSize: 11, backgroundColor: 'rgba(255,255,255,0.9)', padding: [1, 3], borderColor: '#9ca3af', borderWidth: 0.5 },
          data: [{ yAxis: y(run.initialValue) }],
        } : undefined,
        markPoint: last ? {
          silent: true, animation: false, symbol: 'circle', symbolSize: 8, itemStyle: { color, borderColor: '#ffffff', borderWidth: 1 },
          label: { show: true, formatter: `${tag}final ${label(last.v)}`, position: 'left', distance: 6, color, fontFamily: FONT, fontSize: 12, fontWeight: 'bold', backgroundColor: 'rgba(255,255,255,0.85)', padding: [1, 3] },
          data: [{ coord: [ny(last.t), y(last.v)] }],
        } : undefined,
      },
      {
        type: 'line', name: run.name, xAxisIndex: 1, yAxisIndex: 1, showSymbol: false, animation: false,
        // one run's drawdown is shaded; overlapping shades of several runs would blur each other
        lineStyle: { color, width: 1, type: LINE_STYLES[i % LINE_STYLES.length] }, itemStyle: { color }, ...(req.runs.length === 1 ? { areaStyle: { color, opacity: DRAWDOWN_FILL } } : {}),
        data: withGaps(drawdown, gap, (p) => [ny(p.t), p.v * 100]),
      },
    );
    for (const kind of ['entry', 'exit'] as const) {
      const marks = markers.filter((m) => m.kind === kind);
      if (!marks.length) continue;
      series.push({
        type: 'scatter', name: kind === 'entry' ? 'Entry fill' : 'Exit fill', xAxisIndex: 0, yAxisIndex: 0, animation: false,
        symbol: 'triangle', symbolRotate: kind === 'entry' ? 0 : 180, symbolSize: 11, z: 3,
        // several runs: each run's markers are outlined in its colour
        itemStyle: { color: kind === 'entry' ? ENTRY_COLOR : EXIT_COLOR, opacity: 1, borderColor: many ? color : '#ffffff', borderWidth: many ? 1.5 : 0.5 },
        data: marks.map((m) => [ny(m.t), y(at(m.t))]),
      });
    }
    stats.push({ name: run.name, color, points: run.points.length, points_drawn: equity.length, fills: run.fills.length, markers_drawn: markers.length });
  });

  const thinned = stats.filter((r) => r.markers_drawn < r.fills);
  const note = thinned.length ? `fills drawn: ${thinned.map((r) => `${r.markers_drawn} of ${r.fills}${many ? ` (${r.name})` : ''}`).join(', ')}, thinned to one per 3 px` : '';
  const subtitle = [req.subtitle, note].filter(Boolean).join(' · ') || undefined;
  const titleH = subtitle ? 58 : 40;
  const legendH = 26;
  const top = titleH + legendH;
  const bottom = 44;
  const gap = 34;
  const plotH = height - top - bottom - gap;
  const equityH = Math.round(plotH * 0.7);
  const ticks = axis.ticks(Math.max(2, Math.floor(columns / 90)));
  const xAxis = (gridIndex: number, labels: boolean) => ({
    type: 'value', gridIndex, min: ny(from), max: to === from ? ny(from) + 60_000 : ny(to),
    axisLabel: { show: labels, color: '#374151', fontFamily: FONT, hideOverlap: true, customValues: ticks, formatter: (v: number) => axis.label(v), alignMinLabel: 'left', alignMaxLabel: 'right' },
    axisTick: { customValues: ticks },
    axisLine: { lineStyle: { color: '#9ca3af' } },
    splitLine: { show: true, lineStyle: { color: '#eef0f3' } },
    ...(labels ? { name: axis.compressed ? 'New York time (trading time: nights and weekends left out)' : 'New York time', nameLocation: 'middle', nameGap: 26, nameTextStyle: { color: '#6b7280', fontFamily: FONT } } : {}),
  });
  const option = {
    useUTC: true,
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: FONT },
    title: {
      text: req.title, subtext: subtitle, left: 'center', top: 8,
      textStyle: { fontFamily: FONT, fontSize: 17, fontWeight: 'bold', color: '#111827' },
      subtextStyle: { fontFamily: FONT, fontSize: 12, color: '#4b5563' },
    },
    legend: {
      top: titleH, left: 'center', itemWidth: 18, itemHeight: 10, itemGap: 26, textStyle: { fontFamily: FONT, color: '#374151' },
      data: [...req.runs.map((r) => r.name), ...(series.some((s) => s.name === 'Entry fill') ? ['Entry fill'] : []), ...(series.some((s) => s.name === 'Exit fill') ? ['Exit fill'] : [])],
    },
    grid: [
      // fixed bounds: ECharts 6 would otherwise shrink a grid whose edge label overflows, and the two panels would not line up
      { left, right, top, height: equityH, outerBoundsMode: 'none' },
      { left, right, top: top + equityH + gap, height: plotH - equityH, outerBoundsMode: 'none' },
    ],
    xAxis: [xAxis(0, false), xAxis(1, true)],
    yAxis: [
      {
        type: 'value', gridIndex: 0, scale: true, name: scale === 'value' ? 'Equity ($)' : 'Return (%)',
        nameTextStyle: { fontFamily: FONT, color: '#6b7280', align: 'left' },
        axisLabel: { fontFamily: FONT, color: '#374151', formatter: scale === 'value' ? dollars : (v: number) => `${v.toFixed(1)}%` },
        splitLine: { lineStyle: { color: '#eef0f3' } },
      },
      {
        type: 'value', gridIndex: 1, max: 0, name: 'Drawdown (%)',
        nameTextStyle: { fontFamily: FONT, color: '#6b7280', align: 'left' },
        axisLabel: { fontFamily: FONT, color: '#374151', formatter: (v: number) => `${Number(v.toFixed(2))}%` },
        splitLine: { lineStyle: { color: '#eef0f3' } },
      },
    ],
    series,
  };

  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  let svg: string;
  try {
    chart.setOption(option as echarts.EChartsCoreOption);
    svg = chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
  const png = new Resvg(svg, {
    fitTo: { mode: 'original' },
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT },
  })
    .render()
    .asPng();
  return { png, scale, runs: stats, compressed: axis.compressed };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A trading-time axis over the given instants (epoch ms): each pause between consecutive
 * instants longer than 1.5 typical steps (a night, a weekend, a holiday) is squeezed to one step
 * (daily steps) or 15 steps (intraday), so sessions sit side by side. x maps an instant to the
 * axis, label maps an axis value back to its New York date ("Mar 4", with the time when the
 * whole chart is within two days), ticks gives at most `max` of them at session starts.
 */
export function tradingTimeAxis(instants: readonly number[]): { x: (t: number) => number; label: (v: number) => string; ticks: (max: number) => number[]; compressed: boolean } {
  const ts = [...new Set(instants)].sort((a, b) => a - b);
  const diffs = ts.slice(1).map((t, i) => t - ts[i]!).sort((a, b) => a - b);
  const step = diffs.length ? diffs[diffs.length >> 1]! : 60_000;
  const spacer = step >= 12 * 3_600_000 ? step : 15 * step;
  // breaks: [instant after the pause, time removed up to and including it]
  const breaks: { at: number; removed: number }[] = [];
  let removed = 0;
  for (let i = 1; i < ts.length; i++) {
    const d = ts[i]! - ts[i - 1]!;
    if (d > 1.5 * step && d > spacer) {
      removed += d - spacer;
      breaks.push({ at: ts[i]!, removed });
    }
  }
  const removedAt = (t: number) => {
    let lo = 0;
    let hi = breaks.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (breaks[m]!.at <= t) lo = m + 1;
      else hi = m;
    }
    return lo ? breaks[lo - 1]!.removed : 0;
  };
  const x = (t: number) => t - removedAt(t);
  const xs = ts.map(x);
  /** The instant of an axis value: the nearest known instant's, offset within its stretch. */
  const back = (v: number) => {
    let lo = 0;
    let hi = xs.length - 1;
    while (lo < hi) {
      const m = (lo + hi + 1) >> 1;
      if (xs[m]! <= v) lo = m;
      else hi = m - 1;
    }
    return ts.length ? ts[lo]! + (v - xs[lo]!) : v;
  };
  const short = ts.length > 0 && ts[ts.length - 1]! - ts[0]! <= 2 * 86_400_000;
  const label = (v: number) => {
    const l = nyLocal(new Date(back(v)));
    const day = `${MONTHS[Number(l.date.slice(5, 7)) - 1]} ${Number(l.date.slice(8, 10))}`;
    return short ? `${day} ${l.hhmm}` : day;
  };
  const ticks = (max: number) => {
    let starts: number[] = [];
    let lastDate = '';
    for (const t of ts) {
      const d = nyLocal(new Date(t)).date;
      if (d !== lastDate) starts.push(x(t));
      lastDate = d;
    }
    if (short || starts.length < 2) {
      // within a day or two: round New York times (every 5, 10, 15, 30 minutes, 1, 2 or 3 hours)
      // at which the run has a point within a step
      const near = (t: number) => {
        let lo = 0;
        let hi = ts.length - 1;
        while (lo < hi) {
          const m = (lo + hi) >> 1;
          if (ts[m]! < t) lo = m + 1;
          else hi = m;
        }
        return Math.abs(ts[lo]! - t) <= step || (lo > 0 && Math.abs(ts[lo - 1]! - t) <= step);
      };
      const first = ts[0] ?? 0;
      const last = ts[ts.length - 1] ?? first;
      for (const minutes of [5, 10, 15, 30, 60, 120, 180, 360]) {
        const every = minutes * 60_000;
        const times: number[] = [];
        for (let t = Math.ceil(first / every) * every; t <= last; t += every) if (near(t)) times.push(x(t));
        starts = times;
        if (times.length <= max) break;
      }
    }
    const every = Math.ceil(starts.length / max);
    return starts.filter((_, i) => i % every === 0);
  };
  return { x, label, ticks, compressed: breaks.length > 0 };
}

/** Fraction below the running peak at each point (≤ 0); the starting value is the first peak. */
export function drawdownSeries(initialValue: number, points: readonly SeriesPoint[]): SeriesPoint[] {
  let peak = initialValue;
  return points.map((p) => {
    if (p.v > peak) peak = p.v;
    return { t: p.t, v: peak > 0 ? p.v / peak - 1 : 0 };
  });
}

/**
 * The pause that breaks a curve: ten typical steps and at least 3 hours, so a minute run's
 * nights and weekends show as gaps instead of a straight line, and a daily run stays whole.
 */
function gapMs(points: readonly SeriesPoint[]): number {
  const diffs: number[] = [];
  for (let i = 1; i < points.length && i <= 2001; i++) diffs.push(points[i]!.t - points[i - 1]!.t);
  diffs.sort((a, b) => a - b);
  const step = diffs.length ? diffs[diffs.length >> 1]! : 0;
  return Math.max(10 * step, 3 * 3_600_000);
}

/** Data pairs with a null between points further apart than `gap` (ECharts breaks the line there). */
function withGaps(points: readonly SeriesPoint[], gap: number, pair: (p: SeriesPoint) => [number, number]): ([number, number] | [number, null])[] {
  const out: ([number, number] | [number, null])[] = [];
  points.forEach((p, i) => {
    if (i && p.t - points[i - 1]!.t > gap) out.push([pair(p)[0] - 1, null]);
    out.push(pair(p));
  });
  return out;
}

/** The curve's value at t: the last point at or before t (the first point before the curve starts). */
function valueAt(points: readonly SeriesPoint[]): (t: number) => number {
  return (t) => {
    let lo = 0;
    let hi = points.length - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (points[mid]!.t <= t) lo = mid;
      else hi = mid - 1;
    }
    return points[lo]!.v;
  };
}

function dollars(v: number): string {
  const abs = Math.abs(v);
  const s = abs >= 1e6 ? `${(abs / 1e6).toFixed(2)}M` : abs >= 1e4 ? `${Math.round(abs).toLocaleString('en-US')}` : abs.toLocaleString('en-US', { maximumFractionDigits: 2 });
  return `${v < 0 ? '-' : ''}$${s}`;
}
