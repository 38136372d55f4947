import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Bar } from './types.js';
import { boundedByLimit, commissionCents, fillPrice, limitFillPrice, limitMarketable, limitTouched, restingOnBar, stopEstimate, stopRests, stopTrigger } from './fills.js';

const bar = (o: number, h: number | null, l: number | null, c: number | null = null): Bar => ({ t: '2025-01-06T14:30:00.000Z', o, h, l, c, v: null });

describe('fillPrice', () => {
  it('moves the price against the trader', () => {
    expect(fillPrice('buy', 100, 10)).toEqual({ price: 100.1, slippagePerShare: 0.1 });
    expect(fillPrice('cover', 100, 10)).toEqual({ price: 100.1, slippagePerShare: 0.1 });
    expect(fillPrice('sell', 100, 10)).toEqual({ price: 99.9, slippagePerShare: 0.1 });
    expect(fillPrice('short', 100, 10)).toEqual({ price: 99.9, slippagePerShare: 0.1 });
  });

  it('zero slippage is the market price', () => {
    expect(fillPrice('buy', 280, 0)).toEqual({ price: 280, slippagePerShare: 0 });
    expect(fillPrice('sell', 0.0001, 0)).toEqual({ price: 0.0001, slippagePerShare: 0 });
  });

  it('rounds the slippage half up to 4 dp, the same for both sides', () => {
    // 123.4567 × 5 bps = 0.061728... → 0.0617
    expect(fillPrice('buy', 123.4567, 5)).toEqual({ price: 123.5184, slippagePerShare: 0.0617 });
    expect(fillPrice('sell', 123.4567, 5)).toEqual({ price: 123.395, slippagePerShare: 0.0617 });
    // 10.01 × 5 bps = 0.005005 → 0.0050; 10.1 × 5 bps = 0.00505 → 0.0051 (half up)
    expect(fillPrice('buy', 10.01, 5).slippagePerShare).toBe(0.005);
    expect(fillPrice('buy', 10.1, 5).slippagePerShare).toBe(0.0051);
    expect(fillPrice('sell', 10.1, 5).price).toBe(10.0949);
    // fractional bps
    expect(fillPrice('buy', 100, 2.5)).toEqual({ price: 100.025, slippagePerShare: 0.025 });
  });

  it('refuses impossible inputs', () => {
    expect(() => fillPrice('buy', 0, 1)).toThrow(RangeError);
    expect(() => fillPrice('buy', 100, -1)).toThrow(RangeError);
    expect(() => fillPrice('sell', 100, 10_001)).toThrow(RangeError);
  });

  it('property: buy ≥ market ≥ sell, 4 dp, and price − market = ±slippage exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000_000 }), fc.integer({ min: 0, max: 1000 }), (ticks, bps) => {
        const market = ticks / 10_000;
        const buy = fillPrice('buy', market, bps);
        const sell = fillPrice('sell', market, bps);
        const t = (x: number) => Math.round(x * 10_000);
        expect(t(buy.price)).toBe(ticks + t(buy.slippagePerShare));
        expect(t(sell.price)).toBe(ticks - t(sell.slippagePerShare));
        expect(buy.slippagePerShare).toBe(sell.slippagePerShare);
        expect(buy.price).toBe(Number(buy.price.toFixed(4)));
        expect(sell.price).toBe(Number(sell.price.toFixed(4)));
      }),
    );
  });
});

describe('commissionCents', () => {
  it('is quantity × rate in cents, rounded half up', () => {
    expect(commissionCents(100, 0)).toBe(0);
    expect(commissionCents(100, 0.01)).toBe(100);
    expect(commissionCents(1, 0.005)).toBe(1); // half a cent rounds up
    expect(commissionCents(1, 0.0049)).toBe(0);
    expect(commissionCents(3, 0.005)).toBe(2); // 1.5 → 2
    expect(commissionCents(1000, 0.00035)).toBe(35); // sub-tick rates stay exact
    expect(commissionCents(10, 0.00035)).toBe(0); // 0.35 cents
    expect(commissionCents(31, 1)).toBe(3100);
  });

  it('refuses fractional shares and negative rates', () => {
    expect(() => commissionCents(1.5, 0.01)).toThrow(RangeError);
    expect(() => commissionCents(1, -0.01)).toThrow(RangeError);
  });
});

describe('limit orders', () => {
  it('limitMarketable: buy/cover when market ≤ limit, sell/short when market ≥ limit', () => {
    expect(limitMarketable('buy', 100, 100)).toBe(true);
    expect(limitMarketable('buy', 100, 100.0001)).toBe(false);
    expect(limitMarketable('cover', 100, 99.99)).toBe(true);
    expect(limitMarketable('sell', 100, 100)).toBe(true);
    expect(limitMarketable('sell', 100, 99.9999)).toBe(false);
    expect(limitMarketable('short', 100, 100.5)).toBe(true);
  });

  it('boundedByLimit never fills worse than the limit', () => {
    expect(boundedByLimit('buy', 100.1, 100)).toBe(100);
    expect(boundedByLimit('buy', 99.5, 100)).toBe(99.5);
    expect(boundedByLimit('sell', 99.9, 100)).toBe(100);
    expect(boundedByLimit('short', 100.2, 100)).toBe(100.2);
  });

  it('limitTouched: buy/cover on low ≤ limit, sell/short on high ≥ limit', () => {
    const b = bar(101, 103, 99, 102);
    expect(limitTouched('buy', 99, b)).toBe(true);
    expect(limitTouched('buy', 98.99, b)).toBe(false);
    expect(limitTouched('cover', 100, b)).toBe(true);
    expect(limitTouched('sell', 103, b)).toBe(true);
    expect(limitTouched('sell', 103.01, b)).toBe(false);
    expect(limitTouched('short', 102, b)).toBe(true);
  });

  it('an open-only bar is judged by its open', () => {
    const b = bar(100, null, null);
    expect(limitTouched('buy', 100, b)).toBe(true);
    expect(limitTouched('buy', 99.99, b)).toBe(false);
    expect(limitTouched('sell', 100, b)).toBe(true);
    expect(limitTouched('sell', 100.01, b)).toBe(false);
    expect(limitFillPrice('buy', 101, b)).toBe(100);
  });

  it('fills at the limit, or at the open when the bar gaps through it', () => {
    const b = bar(101, 103, 99, 102);
    expect(limitFillPrice('buy', 100, b)).toBe(100);
    expect(limitFillPrice('sell', 102.5, b)).toBe(102.5);
    expect(limitFillPrice('buy', 98, b)).toBeNull();
    expect(limitFillPrice('sell', 104, b)).toBeNull();
    // gap down through a buy limit: fill at the better open
    expect(limitFillPrice('buy', 105, bar(97, 98, 96, 97.5))).toBe(97);
    expect(limitFillPrice('cover', 105, bar(97, 98, 96, 97.5))).toBe(97);
    // gap up through a sell limit: fill at the better open
    expect(limitFillPrice('sell', 95, bar(97, 98, 96, 97.5))).toBe(97);
    expect(limitFillPrice('short', 95, bar(97, 98, 96, 97.5))).toBe(97);
    // open exactly at the limit
    expect(limitFillPrice('buy', 97, bar(97, 98, 96, 97.5))).toBe(97);
  });

  it('property: a limit fill is never worse than the limit and lies within the bar', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('buy' as const, 'sell' as const, 'short' as const, 'cover' as const),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (side, o, x, y, limitTicks) => {
          const hi = Math.max(o, x, y);
          const lo = Math.min(o, x, y);
          const px = limitFillPrice(side, limitTicks / 1e4, bar(o / 1e4, hi / 1e4, lo / 1e4));
          const buying = side === 'buy' || side === 'cover';
          const touched = buying ? lo <= limitTicks : hi >= limitTicks;
          expect(px !== null).toBe(touched);
          if (px !== null) {
            const t = Math.round(px * 1e4);
            if (buying) expect(t).toBeLessThanOrEqual(limitTicks);
            else expect(t).toBeGreaterThanOrEqual(limitTicks);
            expect(t).toBeGreaterThanOrEqual(lo);
            expect(t).toBeLessThanOrEqual(hi);
          }
        },
      ),
    );
  });
});

// Stop entries (CONTRACT §4): expected values worked out by hand from the bars below.
describe('stop and stop-limit entries', () => {
  it('a stop rests on the far side of the market: buy/cover above, sell/short below (at the price is the near side)', () => {
    expect(stopRests('buy', 105, 100)).toBe(true);
    expect(stopRests('cover', 100, 100)).toBe(false);
    expect(stopRests('sell', 95, 100)).toBe(true);
    expect(stopRests('short', 100.01, 100)).toBe(false);
  });

  it('triggers at the stop when a bar trades at or through it, at the open when the bar opens through it', () => {
    expect(stopTrigger('buy', 105, bar(101, 104.99, 100))).toBeNull();
    expect(stopTrigger('buy', 105, bar(101, 105, 100))).toEqual({ price: 105, gapped: false }); // at the stop
    expect(stopTrigger('buy', 105, bar(106, 108, 105.5))).toEqual({ price: 106, gapped: true });
    expect(stopTrigger('short', 95, bar(99, 100, 95.01))).toBeNull();
    expect(stopTrigger('sell', 95, bar(99, 100, 94))).toEqual({ price: 95, gapped: false });
    expect(stopTrigger('short', 95, bar(93, 94, 92))).toEqual({ price: 93, gapped: true });
    // an open-only bar (the bar starting at the clock): only a gap triggers
    expect(stopTrigger('buy', 105, bar(105, null, null))).toEqual({ price: 105, gapped: true });
  });

  it('a stop fills at market after it triggers: the stop (or the gapped open) moved by slippage', () => {
    // buy stop 105, 10 bps: 105 + 0.105 = 105.105; gapped open 106 + 0.106 = 106.106
    expect(restingOnBar({ side: 'buy', order_type: 'stop', limit_price: null, stop_price: 105 }, bar(101, 107, 100), 10)).toEqual({
      fill: true, price: 105.105, slippagePerShare: 0.105, market: 105, gapped: false, stop: { gapped: false },
    });
    expect(restingOnBar({ side: 'buy', order_type: 'stop', limit_price: null, stop_price: 105 }, bar(106, 107, 105.5), 10)).toMatchObject({ price: 106.106, market: 106, gapped: true });
    // short stop 95, no slippage: 95
    expect(restingOnBar({ side: 'short', order_type: 'stop', limit_price: null, stop_price: 95 }, bar(99, 99, 90), 0)).toMatchObject({ fill: true, price: 95, gapped: false });
  });

  it('a stop-limit marketable at its trigger fills there, never worse than the limit; else it rests as a limit', () => {
    // buy stop 105 limit 106, 10 bps: 105.105 ≤ 106
    expect(restingOnBar({ side: 'buy', order_type: 'stop_limit', limit_price: 106, stop_price: 105 }, bar(101, 107, 100), 10)).toMatchObject({ fill: true, price: 105.105, slippagePerShare: 0.105 });
    // limit 105.05: 105.105 is bounded at 105.05 (slippage 0.05)
    expect(restingOnBar({ side: 'buy', order_type: 'stop_limit', limit_price: 105.05, stop_price: 105 }, bar(101, 107, 100), 10)).toMatchObject({ fill: true, price: 105.05, slippagePerShare: 0.05 });
    // limit 104 below the stop: touched inside the bar, it rests (judged from the next bar)
    expect(restingOnBar({ side: 'buy', order_type: 'stop_limit', limit_price: 104, stop_price: 105 }, bar(101, 107, 100), 0)).toEqual({ fill: false, stop: { gapped: false } });
    // gapped to 108 over the 106 limit: the rest of the bar trades down to 105.5 → the limit fills at 106 at the bar's end
    expect(restingOnBar({ side: 'buy', order_type: 'stop_limit', limit_price: 106, stop_price: 105 }, bar(108, 109, 105.5), 0)).toEqual({
      fill: true, price: 106, slippagePerShare: 0, market: 106, gapped: false, stop: { gapped: true },
    });
    // gapped over the limit and stays above it: rests
    expect(restingOnBar({ side: 'buy', order_type: 'stop_limit', limit_price: 106, stop_price: 105 }, bar(108, 109, 107), 0)).toEqual({ fill: false, stop: { gapped: true } });
    // once triggered it is a limit: the next bar's low 103.5 reaches 104 → 104
    expect(restingOnBar({ side: 'buy', order_type: 'stop_limit', limit_price: 104, stop_price: 105, triggered: true }, bar(105, 106, 103.5), 0)).toMatchObject({ fill: true, price: 104, stop: null });
  });

  it('is judged before it triggers at its fill at the stop (a stop-limit that would rest there: its limit)', () => {
    expect(stopEstimate('buy', 'stop', 105, null, 10)).toEqual({ price: 105.105, slippagePerShare: 0.105 });
    expect(stopEstimate('sell', 'stop_limit', 95, 94.5, 10)).toEqual({ price: 94.905, slippagePerShare: 0.095 });
    expect(stopEstimate('buy', 'stop_limit', 105, 104, 0)).toEqual({ price: 104, slippagePerShare: 0 });
  });
});
