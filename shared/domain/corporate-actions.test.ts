import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayBarStart } from './calendar.js';
import { actionsDue, applyCorporateActions, type ActionPosition, type CorporateAction } from './corporate-actions.js';

const pos = (symbol: string, quantity: number, costCents: number, extra: Partial<ActionPosition> = {}): ActionPosition => ({
  symbol,
  quantity,
  costCents,
  highWater: null,
  lowWater: null,
  stopPrice: null,
  targetPrice: null,
  ...extra,
});
const step = (fromDate: string, toDate: string) => ({ from: dayBarStart(fromDate), to: dayBarStart(toDate) });
/** cash + Σ signed basis − realized: constant under every action (the ledger invariant). */
const invariant = (cash: number, realized: number, ps: { quantity: number; costCents: number }[]) =>
  cash + ps.reduce((s, p) => s + Math.sign(p.quantity) * p.costCents, 0) - realized;

describe('splits', () => {
  it('2-for-1: 90 @ 100 become 180 @ 50, basis and cash unchanged, equity continuous', () => {
    const r = applyCorporateActions({
      account: { cashCents: 100_000, realizedPnlCents: 0 },
      positions: [pos('SPLT', 90, 900_000, { highWater: 104, lowWater: 99.5, stopPrice: 95, targetPrice: 120 })],
      orders: [
        { orderId: 7, symbol: 'SPLT', quantity: 10, limitPrice: 101, stopLoss: 95.5, takeProfit: null },
        // a stop-limit entry: its stop is divided like its limit
        { orderId: 8, symbol: 'SPLT', quantity: 5, limitPrice: 106.5, stopPrice: 105, stopLoss: null, takeProfit: null },
      ],
      actions: [{ kind: 'split', symbol: 'SPLT', date: '2025-06-06', splitFrom: 1, splitTo: 2 }],
      ...step('2025-06-05', '2025-06-06'),
      lastClose: { SPLT: 100 },
    });
    expect(r.positions).toEqual([{ ...pos('SPLT', 180, 900_000, { highWater: 52, lowWater: 49.75, stopPrice: 47.5, targetPrice: 60 }), avgCost: 50 }]);
    expect(r.orders).toEqual([
      { orderId: 7, symbol: 'SPLT', quantity: 20, limitPrice: 50.5, stopLoss: 47.75, takeProfit: null },
      { orderId: 8, symbol: 'SPLT', quantity: 10, limitPrice: 53.25, stopPrice: 52.5, stopLoss: null, takeProfit: null },
    ]);
    expect(r.account).toEqual({ cashCents: 100_000, realizedPnlCents: 0 });
    // equity at the post-split price 50: 1,000 + 180 × 50 = 10,000 = 1,000 + 90 × 100 before
    expect(r.account.cashCents + 180 * 50 * 100).toBe(1_000_000);
    expect(r.events).toMatchObject([{ kind: 'split', ratio: 2, quantityBefore: 90, quantityAfter: 180, cashInLieuCents: 0, cashChangeCents: 0, realizedCents: 0 }]);
    expect(r.events[0]!.description).toBe('2-for-1 split of SPLT on 2025-06-06: 90 shares became 180, average cost 100 → 50, cost basis kept.');
  });

  it('applies only when the clock passes the execution date’s open', () => {
    const a: CorporateAction[] = [{ kind: 'split', symbol: 'SPLT', date: '2025-06-06', splitFrom: 1, splitTo: 2 }];
    expect(actionsDue(a, ...Object.values(step('2025-06-04', '2025-06-05')) as [Date, Date])).toEqual([]);
    expect(actionsDue(a, dayBarStart('2025-06-06'), new Date('2025-06-06T15:00:00Z'))).toEqual([]); // already applied
    expect(actionsDue(a, new Date('2025-06-05T19:59:00Z'), dayBarStart('2025-06-06'))).toHaveLength(1);
  });

  it('3-for-2 on 11 shares: 16 shares and half a new share paid in lieu at the previous close', () => {
    // by hand: 11 × 1.5 = 16.5; the half new share is 1/3 of an old share: paid 1/3 × 120 =
    // $40.00; it carried 1/3 of an old share’s $100 basis = $33.33 (half up), so realized $6.67
    const r = applyCorporateActions({
      account: { cashCents: 0, realizedPnlCents: 0 },
      positions: [pos('TRI', 11, 110_000)],
      orders: [],
      actions: [{ kind: 'split', symbol: 'TRI', date: '2025-06-06', splitFrom: 2, splitTo: 3 }],
      ...step('2025-06-05', '2025-06-06'),
      lastClose: { TRI: 120 },
    });
    expect(r.positions[0]).toMatchObject({ quantity: 16, costCents: 110_000 - 3_333, avgCost: 66.6669 });
    expect(r.account).toEqual({ cashCents: 4_000, realizedPnlCents: 667 });
    expect(r.events[0]).toMatchObject({ cashInLieuCents: 4_000, quantityAfter: 16 });
    expect(invariant(4_000, 667, r.positions)).toBe(invariant(0, 0, [pos('TRI', 11, 110_000)]));
  });

  it('1-for-10 reverse split of a 25-share short: 2 shares short, the short pays in lieu', () => {
    // by hand: −25 / 10 = −2.5; the half new share is 5 old shares shorted for $50.00 (basis),
    // bought back at the $8 close for $40.00: cash −40.00, realized +10.00
    const before = [pos('REV', -25, 25_000)];
    const r = applyCorporateActions({
      account: { cashCents: 1_000_000, realizedPnlCents: 0 },
      positions: before,
      orders: [{ orderId: 1, symbol: 'REV', quantity: 5, limitPrice: 7, stopLoss: null, takeProfit: null }],
      actions: [{ kind: 'split', symbol: 'REV', date: '2025-06-06', splitFrom: 10, splitTo: 1 }],
      ...step('2025-06-05', '2025-06-06'),
      lastClose: { REV: 8 },
    });
    expect(r.positions[0]).toMatchObject({ quantity: -2, costCents: 20_000, avgCost: 100 });
    expect(r.account).toEqual({ cashCents: 996_000, realizedPnlCents: 1_000 });
    // an order left with no whole share is cancelled (quantity 0)
    expect(r.orders).toEqual([{ orderId: 1, symbol: 'REV', quantity: 0, limitPrice: 70, stopLoss: null, takeProfit: null }]);
    expect(invariant(r.account.cashCents, r.account.realizedPnlCents, r.positions)).toBe(invariant(1_000_000, 0, before));
  });
});

describe('cash dividends', () => {
  it('on the ex-date a long receives and a short pays dividend × shares; prices untouched', () => {
    const r = applyCorporateActions({
      account: { cashCents: 500_000, realizedPnlCents: 0 },
      positions: [pos('DIV', 100, 1_000_000, { stopPrice: 95 }), pos('SHD', -50, 500_000)],
      orders: [{ orderId: 3, symbol: 'DIV', quantity: 5, limitPrice: 99, stopLoss: null, takeProfit: null }],
      actions: [
        { kind: 'dividend', symbol: 'DIV', date: '2025-08-11', cashAmount: 0.26 },
        { kind: 'dividend', symbol: 'SHD', date: '2025-08-11', cashAmount: 0.26 },
        { kind: 'dividend', symbol: 'DIV', date: '2025-08-12', cashAmount: 9 }, // not yet
      ],
      ...step('2025-08-08', '2025-08-11'),
      lastClose: {},
    });
    // 100 × $0.26 = $26.00 received; 50 × $0.26 = $13.00 paid
    expect(r.account).toEqual({ cashCents: 500_000 + 2_600 - 1_300, realizedPnlCents: 1_300 });
    expect(r.events.map((e) => e.cashChangeCents)).toEqual([2_600, -1_300]);
    expect(r.events[0]!.description).toBe('Dividend of $0.26 per share of DIV, ex-date 2025-08-11: received $26.00 on 100 shares held.');
    expect(r.positions.find((p) => p.symbol === 'DIV')).toMatchObject({ quantity: 100, costCents: 1_000_000, stopPrice: 95 });
    expect(r.orders).toEqual([]);
  });
});

describe('ledger invariant', () => {
  it('cash + Σ signed basis = initial cash + realized P&L after any sequence of actions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ q: fc.integer({ min: -5_000, max: 5_000 }).filter((x) => x !== 0), avg: fc.integer({ min: 1, max: 100_000 }) }), { minLength: 1, maxLength: 4 }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('split' as const), from: fc.integer({ min: 1, max: 10 }), to: fc.integer({ min: 1, max: 10 }), day: fc.integer({ min: 0, max: 3 }), s: fc.nat(3), close: fc.option(fc.integer({ min: 1, max: 1_000_000 })) }),
            fc.record({ kind: fc.constant('dividend' as const), amount: fc.integer({ min: 1, max: 50_000 }), day: fc.integer({ min: 0, max: 3 }), s: fc.nat(3) }),
          ),
          { maxLength: 6 },
        ),
        (ps, acts) => {
          const positions = ps.map((p, i) => pos(`S${i}`, p.q, Math.abs(p.q) * p.avg));
          const days = ['2025-06-02', '2025-06-03', '2025-06-04', '2025-06-05'];
          const actions: CorporateAction[] = acts.map((a) =>
            a.kind === 'split'
              ? { kind: 'split', symbol: `S${a.s}`, date: days[a.day]!, splitFrom: a.from, splitTo: a.to }
              : { kind: 'dividend', symbol: `S${a.s}`, date: days[a.day]!, cashAmount: a.amount / 10_000 },
          );
          const lastClose = Object.fromEntries(acts.filter((a) => a.kind === 'split').map((a) => [`S${a.s}`, a.close === null ? null : a.close / 10_000]));
          const r = applyCorporateActions({ account: { cashCents: 123_456, realizedPnlCents: 0 }, positions, orders: [], actions, ...step('2025-05-30', '2025-06-05'), lastClose });
          expect(invariant(r.account.cashCents, r.account.realizedPnlCents, r.positions)).toBe(invariant(123_456, 0, positions));
          for (const p of r.positions) {
            expect(Number.isSafeInteger(p.quantity) && Number.isSafeInteger(p.costCents) && p.costCents >= 0).toBe(true);
            if (p.quantity === 0) expect(p.costCents).toBe(0);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
