import { describe, expect, it } from 'vitest';
import { minMaxPerColumn, thinPerColumn } from './downsample.js';

describe('minMaxPerColumn', () => {
  it('keeps each column’s lowest and highest point in time order, plus the first and last', () => {
    // 12 points, 2 columns over t 0…11: column 0 is t 0–5, column 1 is t 6–11
    const v = [5, 9, 1, 7, 3, 4, 6, 2, 8, 0, 7, 5];
    const pts = v.map((x, t) => ({ t, v: x }));
    const out = minMaxPerColumn(pts, 2);
    // first (t0), column 0 interior t1..5: max 9@1, min 1@2; column 1 interior t6..10: max 8@8, min 0@9; last (t11)
    expect(out).toEqual([
      { t: 0, v: 5 }, { t: 1, v: 9 }, { t: 2, v: 1 }, { t: 8, v: 8 }, { t: 9, v: 0 }, { t: 11, v: 5 },
    ]);
  });

  it('bounds a long series by the columns and never loses its extremes', () => {
    let s = 42;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pts = Array.from({ length: 100_000 }, (_, t) => ({ t: t * 60_000, v: 1000 + Math.round((rnd() - 0.5) * 10_000) / 100 }));
    const out = minMaxPerColumn(pts, 900);
    expect(out.length).toBeLessThanOrEqual(2 * 900 + 2);
    expect(Math.min(...out.map((p) => p.v))).toBe(Math.min(...pts.map((p) => p.v)));
    expect(Math.max(...out.map((p) => p.v))).toBe(Math.max(...pts.map((p) => p.v)));
    for (let i = 1; i < out.length; i++) expect(out[i]!.t).toBeGreaterThan(out[i - 1]!.t);
  });

  it('returns a short series unchanged', () => {
    const pts = [{ t: 1, v: 1 }, { t: 2, v: 3 }];
    expect(minMaxPerColumn(pts, 10)).toEqual(pts);
  });
});

describe('thinPerColumn', () => {
  it('keeps the earliest marker of each kind per column and counts the rest', () => {
    const marks = [
      { t: 0, kind: 'entry' as const }, { t: 1, kind: 'entry' as const }, { t: 2, kind: 'exit' as const },
      { t: 9, kind: 'exit' as const }, { t: 10, kind: 'exit' as const },
    ];
    expect(thinPerColumn(marks, 2, 0, 10)).toEqual([
      { t: 0, kind: 'entry', count: 2 }, { t: 2, kind: 'exit', count: 1 }, { t: 9, kind: 'exit', count: 2 },
    ]);
  });
});
