// The renderer alone: a real PNG (decoded with pngjs) of the size asked, with the curve,
// entry and exit colours in it, and a 100k-point run still a small picture.
import { decodePng, pixelsNear } from '../../test/png.js';
import { describe, expect, it } from 'vitest';
import { ENTRY_COLOR, EXIT_COLOR, RUN_COLORS, drawdownSeries, renderEquityChart } from './equity-chart.js';

function walk(n: number, seed: number, start: number, t0: number, stepMs = 60_000) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  let v = start;
  return Array.from({ length: n }, (_, i) => {
    v *= 1 + (rnd() - 0.5) * 0.004;
    return { t: t0 + i * stepMs, v: Math.round(v * 100) / 100 };
  });
}

const T0 = Date.parse('2025-06-10T13:30:00Z');

describe('renderEquityChart', () => {
  it('draws a PNG of the asked size with the curve, the entries and the exits in their colours', () => {
    const points = walk(390, 7, 100_000, T0);
    const fills = [
      { t: points[30]!.t, kind: 'entry' as const },
      { t: points[200]!.t, kind: 'exit' as const },
    ];
    const out = renderEquityChart({ title: 'Test — run #1', width: 800, height: 500, runs: [{ name: 'Test #1', initialValue: 100_000, points, fills }] });
    const img = decodePng(out.png);
    expect([img.width, img.height]).toEqual([800, 500]);
    expect(pixelsNear(out.png, RUN_COLORS[0])).toBeGreaterThan(500);
    // below the title and legend (66 px), where only the markers have these colours
    expect(pixelsNear(out.png, ENTRY_COLOR, { fromRow: 70 })).toBeGreaterThan(10);
    expect(pixelsNear(out.png, EXIT_COLOR, { fromRow: 70 })).toBeGreaterThan(10);
    const bare = renderEquityChart({ title: 'Test — run #1', width: 800, height: 500, runs: [{ name: 'Test #1', initialValue: 100_000, points, fills: [] }] });
    expect(pixelsNear(bare.png, ENTRY_COLOR, { fromRow: 70 }) + pixelsNear(bare.png, EXIT_COLOR, { fromRow: 70 })).toBe(0);
    expect(out.scale).toBe('value');
    expect(out.runs[0]).toMatchObject({ points: 390, points_drawn: 390, fills: 2, markers_drawn: 2 });
  });

  it('keeps a 100k-point run with 20k fills a small PNG', () => {
    const points = walk(100_000, 3, 50_000, T0);
    const fills = Array.from({ length: 20_000 }, (_, i) => ({ t: points[i * 5]!.t, kind: (i % 2 ? 'exit' : 'entry') as 'entry' | 'exit' }));
    const out = renderEquityChart({ title: 'Big — run #9', width: 1000, height: 600, runs: [{ name: 'Big #9', initialValue: 50_000, points, fills }] });
    expect(out.png.length).toBeLessThan(400_000);
    expect(out.runs[0]!.points_drawn).toBeLessThanOrEqual(2 * 1000 + 2);
    expect(out.runs[0]!.markers_drawn).toBeLessThan(1000);
    expect(pixelsNear(out.png, RUN_COLORS[0], { fromRow: 70 })).toBeGreaterThan(400);
  });

  it('draws runs that started from different cash as percent returns, each in its colour', () => {
    const out = renderEquityChart({
      title: 'Two', width: 700, height: 450,
      runs: [
        { name: 'A #1', initialValue: 10_000, points: walk(300, 1, 10_000, T0), fills: [] },
        { name: 'B #2', initialValue: 50_000, points: walk(300, 2, 50_000, T0), fills: [] },
      ],
    });
    expect(out.scale).toBe('return');
    expect(pixelsNear(out.png, RUN_COLORS[0])).toBeGreaterThan(300);
    expect(pixelsNear(out.png, RUN_COLORS[1])).toBeGreaterThan(300);
  });
});

describe('gaps', () => {
  it("breaks a minute run's curve over the night instead of drawing a line across it", () => {
    const points = ['2025-06-10', '2025-06-11'].flatMap((day, d) => walk(390, 11 + d, 50_000, Date.parse(`${day}T13:30:00Z`)));
    const out = renderEquityChart({ title: 'Nights', width: 1000, height: 600, runs: [{ name: 'N #1', initialValue: 50_000, points, fills: [] }] });
    const img = decodePng(out.png);
    const from = points[0]!.t;
    const to = points.at(-1)!.t;
    // the grid spans x 84 … 976 (left 84, right 24 in renderEquityChart)
    const column = (t: number) => Math.round(84 + ((t - from) / (to - from)) * 892);
    const curvePixels = (x: number) => {
      let n = 0;
      for (let y = 70; y < 400; y++) {
        const i = (y * img.width + x) * 4;
        if (Math.abs(img.data[i]! - 0x1d) + Math.abs(img.data[i + 1]! - 0x4e) + Math.abs(img.data[i + 2]! - 0xd8) <= 60) n++;
      }
      return n;
    };
    expect(curvePixels(column(Date.parse('2025-06-11T06:00:00Z')))).toBe(0); // 02:00 New York
    expect(curvePixels(column(Date.parse('2025-06-10T16:00:00Z')))).toBeGreaterThan(0); // 12:00 New York
  });
});

describe('drawdownSeries', () => {
  it('measures from the running peak with the starting value as the first peak (by hand)', () => {
    const dd = drawdownSeries(100, [{ t: 1, v: 90 }, { t: 2, v: 120 }, { t: 3, v: 96 }, { t: 4, v: 130 }]);
    // 90/100−1 = −0.10; 120 is a new peak: 0; 96/120−1 = −0.20; 130 a new peak: 0
    expect(dd.map((p) => Number(p.v.toFixed(12)))).toEqual([-0.1, 0, -0.2, 0]);
  });
});
