// The pure order and clock-step decisions (issue 8), checked against values computed by
// hand in each test. AAPL figures are real daily bars from the AI-Trader data set
// (nasdaq100_daily.jsonl), quoted here as literals.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideClockStep, type ClockPosition, type ClockStepState, type StepMarket } from './clock-step.js';
import { decideOrder, type DecideModel, type OrderRequestShape, type OrderState } from './decide.js';
import { accountFigures } from './ledger.js';
import { nyToUtc } from './ny-time.js';
import type { Bar, RuleRecord } from './types.js';

const model = (over: Partial<DecideModel> = {}): DecideModel => ({
  allow_short: true,
  allowed_symbols: null,
  state: 'active',
  state_reason: null,
  execution_mode: 'simulation',
  require_approval: false,
  commission_per_share: 0,
  slippage_bps: 0,
  max_drawdown_halt_pct: 1,
  max_orders_per_minute: 1_000_000,
  short_margin_pct: 0.5,
  ...over,
});

const NOON = nyToUtc('2025-06-20', '12:00');

function state(over: Partial<OrderState> = {}): OrderState {
  return {
    cashCents: 1_000_000,
    realizedPnlCents: 0,
    positions: [],
    dayStartValueCents: 1_000_000,
    peakValueCents: 1_000_000,
    tradesToday: 0,
    tradesInRun: 0,
    model: model(),
    rules: [],
    clock: NOON,
    marketOpen: true,
    symbolKnown: true,
    marketPrice: 100,
    ordersLastMinute: 0,
    ...over,
  };
}

const req = (side: OrderRequestShape['side'], symbol: string, quantity: number, extra: Partial<OrderRequestShape> = {}): OrderRequestShape => ({
  side,
  symbol,
  quantity,
  order_type: 'market',
  ...extra,
});

/** Decide an order at `price`, and return the state after it. */
function at(s: OrderState, price: number, r: OrderRequestShape) {
  const d = decideOrder({ ...s, marketPrice: price, positions: s.positions.map((p) => (p.symbol === r.symbol ? { ...p, price } : p)) }, r);
  return d;
}

describe('decideOrder: buying power (issue 8 cases, by hand)', () => {
  it('$10,000, short 100 @ 100, then buy 190 @ 100 is refused: buying power $5,000', () => {
    const short = at(state(), 100, req('short', 'XYZ', 100));
    expect(short.status).toBe('filled');
    expect(short.projected!.figures).toMatchObject({ cashCents: 2_000_000, shortMarketValueCents: 1_000_000, marginUsedCents: 1_500_000, buyingPowerCents: 500_000 });
    const buy = at(short.next, 100, req('buy', 'ABC', 190));
    expect(buy.status).toBe('rejected');
    expect(buy.rejections.map((r) => r.code)).toEqual(['INSUFFICIENT_BUYING_POWER']);
    expect(buy.rejections[0]!.message).toContain('buying power is $5,000.00');
  });

  it('$10,000, short 1,000 @ 100 is refused', () => {
    expect(at(state(), 100, req('short', 'XYZ', 1000)).rejections.map((r) => r.code)).toEqual(['INSUFFICIENT_BUYING_POWER']);
  });

  it('short 100 @ 100, then buy 50 @ 100 fills and leaves buying power 0', () => {
    const short = at(state(), 100, req('short', 'XYZ', 100));
    const buy = at(short.next, 100, req('buy', 'ABC', 50));
    expect(buy.status).toBe('filled');
    // cash 20,000 − 5,000 = 15,000; collateral 10,000 × 1.5 = 15,000
    expect(buy.projected!.figures.buyingPowerCents).toBe(0);
  });

  it('a cover that leaves a debit fills and halts the model with reason margin_call', () => {
    const short = at(state(), 100, req('short', 'XYZ', 100));
    const buy = at(short.next, 100, req('buy', 'ABC', 50));
    // XYZ rises to 190: covering 100 @ 190 costs 19,000 of the 15,000 cash → −4,000
    const cover = at({ ...buy.next, positions: buy.next.positions.map((p) => (p.symbol === 'XYZ' ? { ...p, price: 190 } : p)) }, 190, req('cover', 'XYZ', 100));
    expect(cover.status).toBe('filled');
    expect(cover.applied!.cashCents).toBe(-400_000);
    expect(cover.haltReason).toMatch(/^margin_call: cash is -\$4,000\.00, a debit left by cover 100 XYZ at \$190\.00/);
    expect(cover.next.model.state).toBe('halted');
  });

  it('min_cash_reserve_pct counts the commission: $9,911.75, $0.10/share, reserve 80%, buy 10 AAPL @ 198.235 is refused', () => {
    const reserve: RuleRecord = {
      ruleId: '1',
      ruleName: 'Keep 80% cash',
      ruleCategory: 'risk',
      enforcementParams: { min_cash_reserve_pct: 0.8 },
      appliesToSymbols: null,
      excludeSymbols: null,
      priority: 5,
      isActive: true,
    };
    const s = state({ cashCents: 991_175, dayStartValueCents: 991_175, peakValueCents: 991_175, rules: [reserve], model: model({ commission_per_share: 0.1 }) });
    const d = at(s, 198.235, req('buy', 'AAPL', 10));
    // cash after = 9,911.75 − 1,982.35 − 1.00 = 7,928.40 < 80% × 9,911.75 = 7,929.40
    expect(d.rejections.map((r) => r.code)).toEqual(['MIN_CASH_RESERVE']);
    expect(d.rejections[0]!.message).toContain('$7,928.40');
    expect(d.rejections[0]!.message).toContain('$7,929.40');
    // without the commission the same order passes (7,929.40 is exactly the reserve)
    expect(at({ ...s, model: model() }, 198.235, req('buy', 'AAPL', 10)).status).toBe('filled');
  });

  it('take_profit 0.025 on a buy is refused with a sentence giving the current price', () => {
    const d = at(state(), 198.235, req('buy', 'AAPL', 5, { take_profit: 0.025 }));
    expect(d.status).toBe('rejected');
    expect(d.rejections[0]!.message).toBe(
      'take_profit $0.025 must be a price above the expected fill $198.235 for a long (it is a price in dollars, not a fraction; AAPL is at $198.235 now).',
    );
  });
});

// --- the clock step ---

const dayBar = (date: string, o: number, h: number, l: number, c: number): Bar => ({ t: nyToUtc(date, '09:30').toISOString(), o, h, l, c, v: 1 });

function clockState(over: Partial<ClockStepState> & { positions: ClockPosition[] }): ClockStepState {
  return {
    model: model(),
    cashCents: 0,
    realizedPnlCents: 0,
    openOrders: [],
    rules: [],
    peakValueCents: 1_000_000,
    dayStartValueCents: 1_000_000,
    tradesInRun: 1,
    tradesByDay: {},
    from: nyToUtc('2025-06-20', '09:30'),
    clock: nyToUtc('2025-06-23', '09:30'),
    session: 'regular',
    ...over,
  };
}

const long = (symbol: string, quantity: number, avgCost: number, over: Partial<ClockPosition> = {}): ClockPosition => ({
  symbol,
  quantity,
  avgCost,
  costCents: Math.round(quantity * avgCost * 100),
  price: avgCost,
  highWater: null,
  lowWater: null,
  stop: null,
  target: null,
  ...over,
});

const noMarket = (): StepMarket => ({ bars: {}, openAtClock: {}, priceAtClock: {}, sessionCloses: [] });

describe('decideClockStep: the right bar, time and price', () => {
  it('a stop the bar starting at the clock gaps through fires at that step, at the open (AAPL stop 233, 2025-09-10 opens 232.185)', () => {
    const d = decideClockStep(
      clockState({ cashCents: 1_000_000 - 2_370_00, positions: [long('AAPL', 10, 237, { stop: 233 })], from: nyToUtc('2025-09-09', '09:30'), clock: nyToUtc('2025-09-10', '09:30') }),
      {
        bars: { AAPL: { timespan: 'day', bars: [dayBar('2025-09-09', 237, 238.7805, 233.36, 234.35)] } },
        openAtClock: { AAPL: 232.185 },
        priceAtClock: { AAPL: 232.185 },
        sessionCloses: [],
      },
    );
    expect(d.fills).toHaveLength(1);
    expect(d.fills[0]).toMatchObject({ side: 'sell', quantity: 10, trigger: 'stop_loss', fill: { price: 232.185 } });
    expect(d.fills[0]!.at.toISOString()).toBe('2025-09-10T13:30:00.000Z');
  });

  it('a level touched inside a bar is stamped at the bar end and counted on its New York day (2025-08-01)', () => {
    const d = decideClockStep(
      clockState({ positions: [long('AAPL', 10, 208.49, { stop: 205 })], from: nyToUtc('2025-08-01', '09:30'), clock: nyToUtc('2025-08-04', '09:30'), tradesByDay: { '2025-07-31': 1 } }),
      {
        bars: { AAPL: { timespan: 'day', bars: [dayBar('2025-08-01', 210.865, 213.58, 201.5, 202.38)] } },
        openAtClock: { AAPL: 204.505 },
        priceAtClock: { AAPL: 204.505 },
        sessionCloses: [],
      },
    );
    expect(d.fills[0]).toMatchObject({ fill: { price: 205 } });
    expect(d.fills[0]!.at.toISOString()).toBe('2025-08-01T20:00:00.000Z'); // 16:00 ET
  });

  it('a 3% trailing stop from the 214.845 high exits at 208.3997 less 10 bps slippage = 208.1913 (AAPL 2025-07-30)', () => {
    const trail: RuleRecord = {
      ruleId: '7',
      ruleName: 'Trail 3%',
      ruleCategory: 'stop_loss',
      enforcementParams: { trailing_stop_pct: 0.03 },
      appliesToSymbols: null,
      excludeSymbols: null,
      priority: 5,
      isActive: true,
    };
    const d = decideClockStep(
      clockState({
        model: model({ slippage_bps: 10 }),
        rules: [trail],
        positions: [long('AAPL', 10, 214.244, { highWater: 214.845, lowWater: 213.06 })],
        from: nyToUtc('2025-07-30', '09:30'),
        clock: nyToUtc('2025-07-31', '09:30'),
      }),
      {
        bars: { AAPL: { timespan: 'day', bars: [dayBar('2025-07-30', 211.895, 212.39, 207.72, 209.05)] } },
        openAtClock: { AAPL: 208.49 },
        priceAtClock: { AAPL: 208.49 },
        sessionCloses: [],
      },
    );
    // 214.845 × 0.97 = 208.39965 → 208.3997; slippage 208.3997 × 10 bps = 0.2084
    expect(d.fills[0]).toMatchObject({ side: 'sell', trigger: 'Trail 3%', fill: { price: 208.1913, slippagePerShare: 0.2084 } });
    expect(d.fills[0]!.at.toISOString()).toBe('2025-07-30T20:00:00.000Z');
  });

  it('flatten_by 15:50 on the 2025-11-28 half day acts at 12:59, the session\'s last minute', () => {
    const flat: RuleRecord = {
      ruleId: '9',
      ruleName: 'Flat by 15:50',
      ruleCategory: 'timing',
      enforcementParams: { flatten_by: '15:50' },
      appliesToSymbols: null,
      excludeSymbols: null,
      priority: 5,
      isActive: true,
    };
    const step = (from: string, to: string) =>
      decideClockStep(
        clockState({ rules: [flat], positions: [long('SIMA', 5, 100)], from: nyToUtc('2025-11-28', from), clock: nyToUtc('2025-11-28', to) }),
        { ...noMarket(), priceAtClock: { SIMA: 101 } },
      );
    expect(step('12:57', '12:58').fills).toEqual([]);
    const d = step('12:58', '12:59');
    expect(d.fills[0]).toMatchObject({ side: 'sell', quantity: 5, fill: { price: 101 } });
    expect(d.fills[0]!.at.toISOString()).toBe(nyToUtc('2025-11-28', '12:59').toISOString());
    expect(d.fills[0]!.reason).toContain("12:59 ET, the half day's last minute");
  });

  it('a session close passed is marked: the next day counts its P&L from there', () => {
    const close = nyToUtc('2025-06-20', '16:00');
    const d = decideClockStep(clockState({ cashCents: 1_000_000 - 198_235_0 / 10, positions: [long('AAPL', 10, 198.235)] }), {
      ...noMarket(),
      priceAtClock: { AAPL: 201.625 },
      sessionCloses: [{ date: '2025-06-20', at: close, prices: { AAPL: 201 } }],
    });
    expect(d.dayMarks).toEqual([{ date: '2025-06-20', valueCents: 1_000_000 - 198_235 + 201_000 }]);
  });
});

// --- the property: random buys, shorts, sells and covers, with gaps and stops ---

const SYMS = ['AAA', 'BBB'] as const;
const actionArb = fc.oneof(
  fc.record({
    kind: fc.constant('order' as const),
    side: fc.constantFrom('buy' as const, 'short' as const, 'sell' as const, 'cover' as const),
    symbol: fc.constantFrom(...SYMS),
    quantity: fc.integer({ min: 1, max: 300 }),
    stopPct: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }),
  }),
  fc.record({
    kind: fc.constant('step' as const),
    /** next open as a multiple of the last price, in %: gaps up to ×3 and down to ×0.3 */
    moves: fc.array(fc.integer({ min: 30, max: 300 }), { minLength: 2, maxLength: 2 }),
  }),
);

describe('property: books stay honest over random sequences with gaps and stops', () => {
  it('buying power never negative after an agent\'s risk-increasing fill; every debit halts; cash + Σ signed cost basis = initial cash + realized', () => {
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 20, maxLength: 120 }), fc.integer({ min: 0, max: 5 }), (actions, feeCents) => {
        const initial = 1_000_000;
        const m = model({ commission_per_share: feeCents / 100 });
        let s = state({ model: m, cashCents: initial });
        const prices: Record<string, number> = { AAA: 100, BBB: 50 };
        const stops: Record<string, number | null> = { AAA: null, BBB: null };
        let day = 0;
        const check = () => {
          const signedBasis = s.positions.reduce((a, p) => a + (p.quantity > 0 ? p.costCents : -p.costCents), 0);
          expect(s.cashCents + signedBasis).toBe(initial + s.realizedPnlCents);
          if (s.cashCents < 0) expect(s.model.state).toBe('halted');
        };
        for (const a of actions) {
          if (a.kind === 'order') {
            const price = prices[a.symbol]!;
            const held = s.positions.find((p) => p.symbol === a.symbol)?.quantity ?? 0;
            const opening = a.side === 'buy' || a.side === 'short';
            const stop = opening && a.stopPct ? Math.round(price * (a.side === 'buy' ? 100 - a.stopPct : 100 + a.stopPct)) / 100 : undefined;
            const quantity = a.side === 'sell' && held > 0 ? Math.min(a.quantity, held) : a.side === 'cover' && held < 0 ? Math.min(a.quantity, -held) : a.quantity;
            const d = at({ ...s, positions: s.positions.map((p) => ({ ...p, price: prices[p.symbol]! })) }, price, req(a.side, a.symbol, quantity, { stop_loss: stop }));
            if (d.status === 'filled') {
              if (opening) {
                const f = accountFigures(d.applied!.cashCents, d.next.positions, m.short_margin_pct);
                expect(f.buyingPowerCents).toBeGreaterThanOrEqual(0);
                if (stop !== undefined) stops[a.symbol] = stop;
              }
              if (!d.next.positions.some((p) => p.symbol === a.symbol)) stops[a.symbol] = null;
            }
            s = d.next;
          } else {
            // a new day: the open gaps; stops the open passes fire at the open (a market exit)
            const from = nyToUtc(`2025-06-${String(2 + (day % 20)).padStart(2, '0')}`, '09:30');
            const clock = new Date(from.getTime() + 86_400_000);
            day++;
            const opens: Record<string, number> = {};
            SYMS.forEach((sym, i) => {
              opens[sym] = Math.max(0.01, Math.round(prices[sym]! * a.moves[i]!) / 100);
            });
            const d = decideClockStep(
              {
                model: s.model,
                cashCents: s.cashCents,
                realizedPnlCents: s.realizedPnlCents,
                positions: s.positions.map((p) => ({ ...p, highWater: null, lowWater: null, stop: stops[p.symbol] ?? null, target: null })),
                openOrders: [],
                rules: [],
                peakValueCents: s.peakValueCents,
                dayStartValueCents: s.dayStartValueCents,
                tradesInRun: s.tradesInRun,
                tradesByDay: {},
                from,
                clock,
                session: 'regular',
              },
              { bars: {}, openAtClock: opens, priceAtClock: opens, sessionCloses: [] },
            );
            for (const sym of SYMS) prices[sym] = opens[sym]!;
            for (const f of d.fills) if (!d.positions.some((p) => p.symbol === f.symbol)) stops[f.symbol] = null;
            const halted = d.haltReason ? { ...s.model, state: 'halted' as const, state_reason: d.haltReason } : s.model;
            s = { ...s, model: halted, cashCents: d.cashCents, realizedPnlCents: d.realizedPnlCents, positions: d.positions.map(({ highWater: _h, lowWater: _l, stop: _s, target: _t, ...p }) => p) };
          }
          check();
        }
      }),
      { numRuns: 200 },
    );
  });
});
