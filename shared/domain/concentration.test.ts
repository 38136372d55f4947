// Concentration at every equity point, by hand: each weight is worked out in the comments.
import { describe, expect, it } from 'vitest';
import { concentrationPeaks, holdingsAt, maxConcentration, type HeldFill, type ValuedPoint } from './concentration.js';

const at = (d: string, hhmm = '20:00') => `${d}T${hhmm}:00.000Z`;
const buy = (symbol: string, quantity: number, clock: string): HeldFill => ({ symbol, side: 'buy', quantity, clock });

describe('concentration at every equity point', () => {
  it('a 30% position that grew to 56% weighs 56%, not its 30% at the fill', () => {
    // $10,000; 30 shares at $100 = $3,000 (30%), cash $7,000. The price goes to $200, $300, $250:
    // 6,000 / 13,000 = 46.15%, 9,000 / 16,000 = 56.25%, 7,500 / 14,500 = 51.72%
    const points: ValuedPoint[] = [
      { clock: at('2025-06-10', '13:30'), value: 10_000, positions_value: 3_000 },
      { clock: at('2025-06-10'), value: 13_000, positions_value: 6_000 },
      { clock: at('2025-06-11'), value: 16_000, positions_value: 9_000 },
      { clock: at('2025-06-12'), value: 14_500, positions_value: 7_500 },
    ];
    const peaks = concentrationPeaks(points, holdingsAt(points, [buy('XYZ', 30, at('2025-06-10', '13:30'))]), () => null);
    expect(peaks).toEqual([{ symbol: 'XYZ', weight: 0.5625, clock: at('2025-06-11'), portfolio_value: 16_000 }]);
    expect(maxConcentration(peaks)).toBe(0.5625);
  });

  it('several symbols: each priced at the point; a short weighs its absolute value', () => {
    // point 1: 10 A at $50 = $500 and −20 B at $30 = −$600 (short) of $2,000: A 25%, B 30%
    // point 2: A at $80 = $800 of $2,100 = 38.10%; B at $20 = $400 of $2,100 = 19.05%
    const points: ValuedPoint[] = [
      { clock: at('2025-06-10'), value: 2_000, positions_value: -100 },
      { clock: at('2025-06-11'), value: 2_100, positions_value: 400 },
    ];
    const fills: HeldFill[] = [buy('A', 10, at('2025-06-10', '14:00')), { symbol: 'B', side: 'short', quantity: 20, clock: at('2025-06-10', '14:00') }];
    const px: Record<string, number[]> = { A: [50, 80], B: [30, 20] };
    const peaks = concentrationPeaks(points, holdingsAt(points, fills), (i, s) => px[s]![i]!);
    expect(peaks.map((p) => [p.symbol, p.clock, p.weight])).toEqual([
      ['A', at('2025-06-11'), 800 / 2_100],
      ['B', at('2025-06-10'), 0.3],
    ]);
  });

  it('a split on the books changes the share count from its date (2-for-1: 10 → 20 shares)', () => {
    const points: ValuedPoint[] = [
      { clock: at('2025-06-10'), value: 3_000, positions_value: 2_000 },
      { clock: at('2025-06-11'), value: 3_000, positions_value: 2_000 },
    ];
    const fills = [buy('A', 10, at('2025-06-09', '14:00')), buy('B', 5, at('2025-06-09', '14:00'))];
    const h = holdingsAt(points, fills, [{ kind: 'split', symbol: 'A', date: '2025-06-11', splitFrom: 1, splitTo: 2 }]);
    expect(h.map((m) => m.get('A'))).toEqual([10, 20]);
    // A at $150 before, $75 after: $1,500 of $3,000 = 50% either way (equity continuous); B 5 × $100 = 1/6
    const px: Record<string, number[]> = { A: [150, 75], B: [100, 100] };
    const peaks = concentrationPeaks(points, h, (i, s) => px[s]![i]!);
    expect(peaks[0]).toMatchObject({ symbol: 'A', weight: 0.5, clock: at('2025-06-10') });
    // a 3-for-2 of 5 shares leaves 7 (the half share is paid in lieu)
    expect(holdingsAt(points, fills, [{ kind: 'split', symbol: 'B', date: '2025-06-10', splitFrom: 2, splitTo: 3 }])[0]!.get('B')).toBe(7);
  });

  it('nothing held, or a value ≤ 0: no weight', () => {
    const points: ValuedPoint[] = [{ clock: at('2025-06-10'), value: 0, positions_value: 100 }];
    expect(concentrationPeaks(points, holdingsAt(points, [buy('A', 1, at('2025-06-10'))]), () => 1)).toEqual([]);
    expect(maxConcentration([])).toBe(0);
  });
});
