// Concentration: the largest position weight, |position value| / portfolio value, at every
// equity point of a run, marked to market (CONTRACT §5). Pure: no I/O. One figure, read by
// detect_threats, risk_score, suggest_rules and the run report alike.
//
// Conventions
// - A point's holdings are the fills at or before its clock, signed (long +, short −), with the
//   splits dated on or before its New York date applied as the ledger applies them
//   (quantity × split_to / split_from, the fraction paid in lieu: rounded toward zero).
// - A point holding one symbol weighs it by the book's own mark: |positions_value| / value
//   (both as recorded at the step). A point holding several prices each at the point's clock
//   (`priceOf`, the as-of price the book marked it with); an unpriced one is left out.
// - Points with a value ≤ 0 weigh nothing (a weight has no meaning there).
import type { SplitAction } from './corporate-actions.js';
import { nyLocal } from './ny-time.js';

/** An equity point with its recorded positions value (dollars; null when not recorded, a live run's start). */
export interface ValuedPoint {
  clock: string;
  value: number;
  positions_value: number | null;
}

export interface HeldFill {
  clock: string;
  symbol: string;
  side: 'buy' | 'sell' | 'short' | 'cover';
  quantity: number;
}

/** A symbol's highest weight over the points: when, and of what portfolio value (dollars). */
export interface PeakWeight {
  symbol: string;
  /** |position value| / portfolio value, a fraction. */
  weight: number;
  clock: string;
  portfolio_value: number;
}

/** Signed shares held at each point (fills at or before its clock, splits on or before its date); only non-zero entries. */
export function holdingsAt(points: readonly ValuedPoint[], fills: readonly HeldFill[], splits: readonly SplitAction[] = []): Map<string, number>[] {
  const sortedFills = [...fills].sort((a, b) => (a.clock < b.clock ? -1 : a.clock > b.clock ? 1 : 0));
  const sortedSplits = [...splits].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const held = new Map<string, number>();
  const out: Map<string, number>[] = [];
  let f = 0;
  let s = 0;
  for (const p of points) {
    const date = nyLocal(new Date(p.clock)).date;
    // a split takes effect at its date's open: before that date's fills, after the earlier ones
    while (true) {
      const split = sortedSplits[s];
      const fill = sortedFills[f];
      const splitFirst = split && split.date <= date && (!fill || split.date <= nyLocal(new Date(fill.clock)).date);
      if (splitFirst) {
        const q = held.get(split.symbol);
        if (q) held.set(split.symbol, Math.trunc((q * split.splitTo) / split.splitFrom));
        s++;
      } else if (fill && fill.clock <= p.clock) {
        const delta = fill.side === 'buy' || fill.side === 'cover' ? fill.quantity : -fill.quantity;
        held.set(fill.symbol, (held.get(fill.symbol) ?? 0) + delta);
        f++;
      } else break;
    }
    out.push(new Map([...held].filter(([, q]) => q !== 0)));
  }
  return out;
}

/**
 * Each held symbol's highest weight over the points (see the module notes), highest first
 * (ties: the earlier, then by symbol). `priceOf(i, symbol)` prices a symbol at point i; it is
 * asked only at points holding several symbols.
 */
export function concentrationPeaks(points: readonly ValuedPoint[], holdings: readonly Map<string, number>[], priceOf: (i: number, symbol: string) => number | null): PeakWeight[] {
  const peaks = new Map<string, PeakWeight>();
  const see = (symbol: string, weight: number, p: ValuedPoint) => {
    const had = peaks.get(symbol);
    if (!had || weight > had.weight) peaks.set(symbol, { symbol, weight, clock: p.clock, portfolio_value: p.value });
  };
  points.forEach((p, i) => {
    const held = holdings[i]!;
    if (p.value <= 0 || !held.size) return;
    if (held.size === 1 && p.positions_value !== null) {
      const [symbol] = held.keys();
      see(symbol!, Math.abs(p.positions_value) / p.value, p);
      return;
    }
    for (const [symbol, q] of held) {
      const price = priceOf(i, symbol);
      if (price !== null) see(symbol, Math.abs(q * price) / p.value, p);
    }
  });
  return [...peaks.values()].sort((a, b) => b.weight - a.weight || a.clock.localeCompare(b.clock) || a.symbol.localeCompare(b.symbol));
}

/** The largest weight of all (0 when nothing was ever held). */
export function maxConcentration(peaks: readonly PeakWeight[]): number {
  return peaks.length ? peaks[0]!.weight : 0;
}
