// Down-sampling a time series for a picture: min/max per pixel column (the "M4" family,
// Jugel et al., VLDB 2014, without first/last), so every peak and every drawdown valley
// that would colour a pixel survives, which LTTB does not promise.

export interface SeriesPoint {
  /** time, epoch milliseconds */
  t: number;
  v: number;
}

/**
 * Keeps, for each of `columns` equal time buckets over [from, to], the lowest and the highest
 * point in their time order (one point when they coincide), plus the very first and last
 * point of the series. Input sorted by t; output sorted by t, at most 2 × columns + 2 points.
 * A series already that short is returned unchanged.
 */
export function minMaxPerColumn(points: readonly SeriesPoint[], columns: number, from = points[0]?.t ?? 0, to = points.at(-1)?.t ?? 0): SeriesPoint[] {
  const cols = Math.max(1, Math.floor(columns));
  if (points.length <= 2 * cols + 2) return points.slice();
  const span = to - from || 1;
  const out: SeriesPoint[] = [points[0]!];
  let bucket = -1;
  let lo: SeriesPoint | null = null;
  let hi: SeriesPoint | null = null;
  const flush = () => {
    if (!lo || !hi) return;
    if (lo === hi) out.push(lo);
    else if (lo.t <= hi.t) out.push(lo, hi);
    else out.push(hi, lo);
  };
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i]!;
    const b = Math.min(cols - 1, Math.max(0, Math.floor(((p.t - from) / span) * cols)));
    if (b !== bucket) {
      flush();
      bucket = b;
      lo = hi = p;
    } else {
      if (p.v < lo!.v) lo = p;
      if (p.v > hi!.v) hi = p;
    }
  }
  flush();
  out.push(points.at(-1)!);
  return out;
}

/**
 * Markers thinned to one per pixel column and kind (the earliest), with how many it stands
 * for. Input sorted by t.
 */
export function thinPerColumn<K extends string>(
  marks: readonly { t: number; kind: K }[],
  columns: number,
  from: number,
  to: number,
): { t: number; kind: K; count: number }[] {
  const cols = Math.max(1, Math.floor(columns));
  const span = to - from || 1;
  const seen = new Map<string, { t: number; kind: K; count: number }>();
  for (const m of marks) {
    const b = Math.min(cols - 1, Math.max(0, Math.floor(((m.t - from) / span) * cols)));
    const key = `${m.kind}|${b}`;
    const kept = seen.get(key);
    if (kept) kept.count++;
    else seen.set(key, { t: m.t, kind: m.kind, count: 1 });
  }
  return [...seen.values()].sort((a, b) => a.t - b.t);
}
