// Threat detectors on hand-made facts: every figure below is worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import type { RoundTrip, TradeFill } from './round-trips.js';
import { fifoRoundTrips } from './round-trips.js';
import { concentrationPeaks, holdingsAt, type ValuedPoint } from './concentration.js';
import { detectThreats, lossStreaks, severityOf, THREAT_THRESHOLDS, type OrderFact, type ThreatFacts } from './threats.js';

let fid = 0;
function fill(order_id: number, side: TradeFill['side'], symbol: string, quantity: number, price: number, clock: string): TradeFill {
  return { fill_id: ++fid, order_id, symbol, side, quantity, price, notional_cents: Math.round(quantity * price * 100), commission_cents: 0, slippage_cents: 0, clock };
}
function order(order_id: number, side: OrderFact['side'], symbol: string, quantity: number, price: number | null, clock: string, status = 'filled', rejections: OrderFact['rejections'] = []): OrderFact {
  return { order_id, clock, side, symbol, quantity, status, source: 'agent', price, rejections };
}

function facts(over: Partial<ThreatFacts>): ThreatFacts {
  return { run_id: 7, timespan: 'day', initial_cash: 10_000, equity: [], fills: [], orders: [], round_trips: [], marks: [], as_of: '2025-06-20T20:00:00.000Z', concentration: [], breaker: null, ...over };
}
/** The concentration of hand-made points (each with its positions value) and fills: one symbol held, so the book's marks. */
const peaksOf = (points: ValuedPoint[], fills: TradeFill[]) => concentrationPeaks(points, holdingsAt(points, fills), () => null);

describe('severity thresholds', () => {
  it('map each value to the band it reaches, with values exactly at a threshold included', () => {
    expect(severityOf('concentration', 0.2)).toBeNull();
    expect(severityOf('concentration', 0.25)).toBe('low');
    expect(severityOf('concentration', 0.97)).toBe('critical');
    // 1 − 0.9 is 0.09999999999999998 in floating point: still the 10% medium band
    expect(severityOf('drawdown', 1 - 0.9)).toBe('medium');
    expect(severityOf('consecutive_losses', 5)).toBe('medium');
    for (const t of Object.values(THREAT_THRESHOLDS)) expect([...t]).toEqual([...t].sort((a, b) => a - b));
  });
});

describe('detectThreats', () => {
  it('flags the incident: 97% in one stock (critical) and a 12% drawdown (medium), each with a create_rule payload', () => {
    const f = facts({
      fills: [fill(1, 'buy', 'XYZ', 97, 100, '2025-06-10T13:30:00.000Z')],
      orders: [order(1, 'buy', 'XYZ', 97, 100, '2025-06-10T13:30:00.000Z')],
      // peak 10,000, valley 8,800: 8,800 / 10,000 − 1 = −12%
      equity: [
        { clock: '2025-06-10T13:30:00.000Z', value: 10_000 },
        { clock: '2025-06-11T20:00:00.000Z', value: 9_500 },
        { clock: '2025-06-12T20:00:00.000Z', value: 8_800 },
        { clock: '2025-06-13T20:00:00.000Z', value: 9_030 },
      ],
      marks: [{ symbol: 'XYZ', quantity: 97, price: 90 }],
      // 97 shares: $9,700 of $10,000 = 0.97 at the fill; then 97 × 95, 88.66, 90 of the next values (≈ 0.966–0.970)
      concentration: peaksOf(
        [
          { clock: '2025-06-10T13:30:00.000Z', value: 10_000, positions_value: 9_700 },
          { clock: '2025-06-11T20:00:00.000Z', value: 9_500, positions_value: 9_215 },
          { clock: '2025-06-12T20:00:00.000Z', value: 8_800, positions_value: 8_500 },
          { clock: '2025-06-13T20:00:00.000Z', value: 9_030, positions_value: 8_730 },
        ],
        [fill(1, 'buy', 'XYZ', 97, 100, '2025-06-10T13:30:00.000Z')],
      ),
    });
    const ev = detectThreats(f);
    const conc = ev.find((e) => e.type === 'concentration')!;
    expect(conc.severity).toBe('critical');
    expect(conc.evidence.figures.weight).toBe(0.97);
    expect(conc.evidence.order_ids).toEqual([1]);
    expect(conc.recommendation.rule).toEqual({ rule_name: 'Max 20% per position', rule_category: 'position_sizing', rule_description: expect.any(String), enforcement_params: { max_position_pct: 0.2 }, created_by: 'ai_suggested' });
    const dd = ev.find((e) => e.type === 'drawdown')!;
    expect(dd.severity).toBe('medium');
    expect(dd.evidence.figures.max_drawdown).toBe(0.12);
    expect(dd.clock).toBe('2025-06-12T20:00:00.000Z');
    // half the 12% depth, in whole percent: 6%
    expect(dd.recommendation.rule!.enforcement_params).toEqual({ max_drawdown_pct: 0.06 });
    // same facts, same events and keys: the store's unique key makes a second run store nothing
    expect(detectThreats(f)).toEqual(ev);
  });

  it('finds a loss streak, the revenge order after it, rule refusals, overtrading and a breaker', () => {
    const day = (d: number, h = 14) => `2025-06-${String(d).padStart(2, '0')}T${h}:00:00.000Z`;
    const fills = [
      // three losing round trips of 10 shares: 100→95, 100→98, 100→99.5 (−$50, −$20, −$5)
      fill(1, 'buy', 'AAA', 10, 100, day(10)),
      fill(2, 'sell', 'AAA', 10, 95, day(10, 15)),
      fill(3, 'buy', 'AAA', 10, 100, day(11)),
      fill(4, 'sell', 'AAA', 10, 98, day(11, 15)),
      fill(5, 'buy', 'AAA', 10, 100, day(12)),
      fill(6, 'sell', 'AAA', 10, 99.5, day(12, 15)),
      // then, one day later, 25 shares at $100 = $2,500: 2.5× the $1,000 entry that lost → high
      fill(8, 'buy', 'AAA', 25, 100, day(13)),
    ];
    const orders = fills.map((x) => order(x.order_id, x.side, x.symbol, x.quantity, x.price, x.clock));
    const refused = (id: number, h: number) =>
      order(id, 'buy', 'BBB', 1000, 50, day(13, h), 'rejected', [{ source: 'rule', code: 'MAX_POSITION_PCT', rule_name: 'Max 20%', message: "Rule 'Max 20%': …" }]);
    orders.push(refused(9, 15), refused(10, 16), refused(11, 17));
    // 10 orders on one New York day (2025-06-16, 14:00–14:09 UTC) reach overtrading's low band
    for (let i = 0; i < 10; i++) orders.push(order(20 + i, 'buy', 'CCC', 1, 10, `2025-06-16T14:0${i}:00.000Z`, 'rejected', [{ source: 'gate', code: 'INSUFFICIENT_CASH', message: 'x' }]));
    // at the last fill: 25 × $100 = $2,500 of $10,000 − $75 = $9,925
    const concentration = peaksOf([{ clock: day(13), value: 9_925, positions_value: 2_500 }], fills);
    const f = facts({ fills, orders, round_trips: fifoRoundTrips(fills).round_trips, concentration, breaker: { reason: 'Circuit breaker: drawdown 26% ≥ 25%', clock: day(16) } });
    const ev = detectThreats(f);
    const types = ev.map((e) => `${e.type}:${e.severity}`).sort();
    expect(types).toEqual(['circuit_breaker:critical', 'concentration:low', 'consecutive_losses:low', 'overtrading:low', 'revenge_trading:high', 'rule_violation_attempts:medium'].sort());
    const streak = ev.find((e) => e.type === 'consecutive_losses')!;
    expect(streak.evidence.figures).toEqual({ losses_in_a_row: 3, total_pnl: -75 });
    expect(streak.evidence.order_ids).toEqual([2, 4, 6]);
    const revenge = ev.find((e) => e.type === 'revenge_trading')!;
    // the loss that triggers it is the last one (order 6, −$5 on a $1,000 entry)
    expect(revenge.evidence.order_ids).toEqual([6, 8]);
    expect(revenge.evidence.figures.size_ratio).toBe(2.5);
    expect(revenge.recommendation.rule!.enforcement_params).toEqual({ max_order_value: 1000 });
    // concentration: 25 × $100 = $2,500 of $10,000 − $75 = $9,925 → 25.19% (low)
    expect(ev.find((e) => e.type === 'concentration')!.evidence.figures.weight).toBeCloseTo(2_500 / 9_925, 4);
    const viol = ev.find((e) => e.type === 'rule_violation_attempts')!;
    expect(viol.evidence.figures.attempts).toBe(3);
    expect(viol.evidence.order_ids).toEqual([9, 10, 11]);
    expect(ev.find((e) => e.type === 'overtrading')!.evidence.figures).toEqual({ day: '2025-06-16', orders: 10 });
    expect(new Set(ev.map((e) => e.key)).size).toBe(ev.length);
  });

  it('finds nothing on a calm run', () => {
    expect(detectThreats(facts({ equity: [{ clock: '2025-06-10T13:30:00.000Z', value: 10_000 }, { clock: '2025-06-11T20:00:00.000Z', value: 10_050 }] }))).toEqual([]);
  });
});

describe('lossStreaks', () => {
  it('counts zero P&L as a loss (CONTRACT §5)', () => {
    expect(lossStreaks([{ pnl_cents: -1 }, { pnl_cents: 0 }, { pnl_cents: 5 }, { pnl_cents: -2 }])).toEqual([
      { start: 0, length: 2 },
      { start: 3, length: 1 },
    ]);
  });
});

export type { RoundTrip };
