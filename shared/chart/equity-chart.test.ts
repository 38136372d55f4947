// The renderer alone: a real PNG (decoded with pngjs) of the size asked, with the curve,
// entry and exit colours in it, and a 100k-point run still a small picture.
import { decodePng, pixelsNear } from '../../test/png.js';
import { describe, expect, it } from 'vitest';
import { ENTRY_COLOR, EXIT_COLOR, RUN_COLORS, drawdownSeries, renderEquityChart, tradingTimeAxis } from './equity-chart.js';

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
    // thinned to one per kind per 3 px column (892 px / 3 = 297 columns, 2 kinds), and the chart says so
    expect(out.runs[0]!.markers_drawn).toBeLessThanOrEqual(2 * 297);
    expect(out.runs[0]!.markers_drawn).toBeGreaterThan(500);
    // the markers cover much of the curve; it still shows between them
    expect(pixelsNear(out.png, RUN_COLORS[0], { fromRow: 70 })).toBeGreaterThan(250);
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

describe('trading time', () => {
  const MIN = 60_000;
  it('squeezes nights and weekends to 15 minutes and daily weekends to one day; labels carry the month', () => {
    // Fri 2025-10-10 and Mon 2025-10-13, 09:30–16:00 New York (13:30–20:00 UTC), one point a minute
    const fri = Array.from({ length: 391 }, (_, m) => Date.parse('2025-10-10T13:30:00Z') + m * MIN);
    const mon = Array.from({ length: 391 }, (_, m) => Date.parse('2025-10-13T13:30:00Z') + m * MIN);
    const axis = tradingTimeAxis([...fri, ...mon]);
    expect(axis.compressed).toBe(true);
    expect(axis.x(mon[0]!) - axis.x(fri.at(-1)!)).toBe(15 * MIN); // 65.5 hours → 15 minutes
    expect(axis.x(mon[100]!) - axis.x(mon[0]!)).toBe(100 * MIN); // inside a session: unchanged
    expect(axis.label(axis.x(mon[0]!))).toBe('Oct 13'); // more than two days shown: dates only
    expect(tradingTimeAxis(fri).label(fri[30]!)).toBe('Oct 10 10:00'); // within a day: date and time
    expect(axis.ticks(10).length).toBeLessThanOrEqual(10);
    // daily steps at 16:00 New York: Fri → Mon is one step like any other
    const days = ['2025-10-09', '2025-10-10', '2025-10-13', '2025-10-14'].map((d) => Date.parse(`${d}T20:00:00Z`));
    const daily = tradingTimeAxis([...days, Date.parse('2025-10-15T20:00:00Z'), Date.parse('2025-10-16T20:00:00Z')]);
    expect(daily.x(days[2]!) - daily.x(days[1]!)).toBe(daily.x(days[3]!) - daily.x(days[2]!));
    expect(daily.label(daily.x(days[2]!))).toBe('Oct 13');
    expect(daily.ticks(10).map(daily.label)).toEqual(['Oct 9', 'Oct 10', 'Oct 13', 'Oct 14', 'Oct 15', 'Oct 16']);
  });

  it("draws a two-session minute run side by side: the curve fills both halves, broken only at the night's 15 minutes", () => {
    const points = ['2025-06-10', '2025-06-11'].flatMap((day, d) => walk(391, 11 + d, 50_000, Date.parse(`${day}T13:30:00Z`)));
    const fills = Array.from({ length: 32 }, (_, i) => ({ t: points[10 + i * 24]!.t, kind: (i % 2 ? 'exit' : 'entry') as 'entry' | 'exit' }));
    const out = renderEquityChart({ title: 'Nights', width: 1000, height: 600, runs: [{ name: 'N #1', initialValue: 50_000, points, fills }] });
    expect(out.compressed).toBe(true);
    expect(out.runs[0]).toMatchObject({ fills: 32, markers_drawn: 32 }); // every fill drawn
    const img = decodePng(out.png);
    // axis: 390 + 15 + 390 minutes over x 84 … 976 (left 84, right 24 in renderEquityChart)
    const column = (minutes: number) => Math.round(84 + (minutes / 795) * 892);
    const curvePixels = (x: number) => {
      let n = 0;
      for (let y = 90; y < 390; y++) {
        const i = (y * img.width + x) * 4;
        if (Math.abs(img.data[i]! - 0x1d) + Math.abs(img.data[i + 1]! - 0x4e) + Math.abs(img.data[i + 2]! - 0xd8) <= 60) n++;
      }
      return n;
    };
    expect(curvePixels(column(397))).toBe(0); // the middle of the 15-minute spacer
    expect(curvePixels(column(214))).toBeGreaterThan(0); // 13:04 on day 1, between two fill markers
    expect(curvePixels(column(612))).toBeGreaterThan(0); // 12:57 on day 2, between two fill markers (was: a night-wide empty stretch)
  });
});

describe('drawdownSeries', () => {
  it('measures from the running peak with the starting value as the first peak (by hand)', () => {
    const dd = drawdownSeries(100, [{ t: 1, v: 90 }, { t: 2, v: 120 }, { t: 3, v: 96 }, { t: 4, v: 130 }]);
    // 90/100−1 = −0.10; 120 is a new peak: 0; 96/120−1 = −0.20; 130 a new peak: 0
    expect(dd.map((p) => Number(p.v.toFixed(12)))).toEqual([-0.1, 0, -0.2, 0]);
  });
});
