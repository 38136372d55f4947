import { describe, expect, it } from 'vitest';
import type { OrderIntent, PortfolioSnapshot, RuleRecord, Side } from './types.js';
import { nyToUtc } from './ny-time.js';
import { MAX_POSITION_PCT } from './rules/engine.js';
import {
  BUY_WHILE_SHORT,
  checkOrder,
  drawdownBreach,
  evaluateGates,
  GATE_CODES,
  INSUFFICIENT_BUYING_POWER,
  BAD_BRACKET,
  isMarketOpen,
  MARKET_CLOSED,
  MODEL_HALTED,
  MODEL_REDUCING,
  NO_PRICE,
  OVERCOVER,
  OVERSELL,
  RATE_LIMITED,
  SHORT_NOT_ALLOWED,
  SYMBOL_NOT_ALLOWED,
  UNKNOWN_SYMBOL,
  type CheckOrderInput,
  type GateInput,
} from './gates.js';

const NOON = nyToUtc('2025-03-10', '12:00'); // a Monday

const order = (side: Side, quantity: number, price: number, symbol = 'IBM'): OrderIntent => ({ side, symbol, quantity, price });

function input(o: OrderIntent, over: Partial<Omit<GateInput, 'order'>> = {}): GateInput {
  return {
    order: o,
    orderType: 'market',
    model: { allow_short: false, allowed_symbols: null, state: 'active', state_reason: null },
    account: { cashCents: 1_000_000, positionQty: 0 },
    commissionCents: 0,
    symbolKnown: true,
    priced: true,
    marketOpen: true,
    ordersLastMinute: 0,
    maxOrdersPerMinute: 60,
    clock: NOON,
    ...over,
  };
}

const codes = (i: GateInput) => evaluateGates(i).map((r) => r.code);
const model = (over: Partial<GateInput['model']> = {}): GateInput['model'] => ({
  allow_short: false,
  allowed_symbols: null,
  state: 'active',
  state_reason: null,
  ...over,
});

describe('evaluateGates', () => {
  it('an ordinary buy passes every gate', () => {
    expect(evaluateGates(input(order('buy', 10, 100)))).toEqual([]);
  });

  describe('INSUFFICIENT_BUYING_POWER (Reg T style: short proceeds are collateral)', () => {
    const shortModel = model({ allow_short: true });
    // Issue 8 cases, by hand: $10,000, short 100 @ $100 → cash $20,000, short value $10,000,
    // collateral held 10,000 × 1.5 = $15,000, buying power 20,000 − 15,000 = $5,000.
    const afterShort = { cashCents: 2_000_000, positionQty: 0, positions: [{ symbol: 'XYZ', quantity: -100, price: 100 }] };

    it('buy: buying power exactly enough (cost + commission) passes, one cent short fails', () => {
      expect(codes(input(order('buy', 10, 100), { account: { cashCents: 100_100, positionQty: 0 }, commissionCents: 100 }))).toEqual([]);
      expect(codes(input(order('buy', 10, 100), { account: { cashCents: 100_099, positionQty: 0 }, commissionCents: 100 }))).toEqual([
        INSUFFICIENT_BUYING_POWER,
      ]);
    });

    it('short 100 @ 100 then buy 190 @ 100 is refused: buying power is $5,000', () => {
      const [r] = evaluateGates(input(order('buy', 190, 100, 'ABC'), { account: afterShort }));
      expect(r).toEqual({
        source: 'gate',
        code: INSUFFICIENT_BUYING_POWER,
        message:
          'Insufficient buying power: buying 190 ABC at $100.00 costs $19,000.00 plus $0.00 commission, but buying power is $5,000.00 (cash $20,000.00 less $15,000.00 held as collateral for shorts).',
      });
    });

    it('short 100 @ 100 then buy 50 @ 100 passes (buying power after: exactly 0)', () => {
      expect(codes(input(order('buy', 50, 100, 'ABC'), { account: afterShort }))).toEqual([]);
      expect(codes(input(order('buy', 51, 100, 'ABC'), { account: afterShort }))).toEqual([INSUFFICIENT_BUYING_POWER]);
    });

    it('$10,000: short 1,000 @ 100 is refused; short 200 @ 100 (margin exactly $10,000) passes', () => {
      const flat = { cashCents: 1_000_000, positionQty: 0 };
      const [r] = evaluateGates(input(order('short', 1000, 100), { model: shortModel, account: flat }));
      expect(r!.code).toBe(INSUFFICIENT_BUYING_POWER);
      // margin = 1,000 × 100 × 50% = $50,000; buying power $10,000
      expect(r!.message).toBe(
        'Insufficient buying power: shorting 1000 IBM at $100.00 needs $50,000.00 margin (50% of its value on top of its proceeds, which stay as collateral) plus $0.00 commission, but buying power is $10,000.00.',
      );
      expect(codes(input(order('short', 200, 100), { model: shortModel, account: flat }))).toEqual([]);
      expect(codes(input(order('short', 200, 100), { model: shortModel, account: flat, commissionCents: 1 }))).toEqual([INSUFFICIENT_BUYING_POWER]);
    });

    it('short_margin_pct sets the collateral: at 100%, $10,000 shorts at most $10,000 of stock', () => {
      const flat = { cashCents: 1_000_000, positionQty: 0 };
      expect(codes(input(order('short', 100, 100), { model: shortModel, account: flat, shortMarginPct: 1 }))).toEqual([]);
      expect(codes(input(order('short', 101, 100), { model: shortModel, account: flat, shortMarginPct: 1 }))).toEqual([INSUFFICIENT_BUYING_POWER]);
    });

    it('risk-reducing orders are never refused for cash: a cover that leaves a debit passes the gates', () => {
      expect(codes(input(order('cover', 100, 300), { account: { cashCents: 1_500_000, positionQty: -100 }, commissionCents: 500 }))).toEqual([]);
      expect(codes(input(order('sell', 1, 0.01), { account: { cashCents: 0, positionQty: 5 }, commissionCents: 100 }))).toEqual([]);
    });

    it('a limit order is described as one', () => {
      const [r] = evaluateGates(input(order('buy', 10, 100), { orderType: 'limit', account: { cashCents: 0, positionQty: 0 } }));
      expect(r!.message).toContain('buying 10 IBM at $100.00 (limit) costs $1,000.00');
    });
  });

  describe('BAD_BRACKET', () => {
    it('a long needs stop_loss below and take_profit above the expected fill; a fraction is refused with the current price', () => {
      expect(codes(input(order('buy', 5, 198.235), { stopLoss: 190, takeProfit: 210 }))).toEqual([]);
      const r = evaluateGates(input(order('buy', 5, 198.235, 'AAPL'), { takeProfit: 0.025, marketPrice: 198.235 }));
      expect(r).toEqual([
        {
          source: 'gate',
          code: BAD_BRACKET,
          message:
            'take_profit $0.025 must be a price above the expected fill $198.235 for a long (it is a price in dollars, not a fraction; AAPL is at $198.235 now).',
        },
      ]);
      expect(codes(input(order('buy', 5, 100), { stopLoss: 100 }))).toEqual([BAD_BRACKET]);
    });

    it('a short is mirrored: stop_loss above, take_profit below', () => {
      const m = model({ allow_short: true });
      expect(codes(input(order('short', 5, 100), { model: m, stopLoss: 105, takeProfit: 90 }))).toEqual([]);
      expect(codes(input(order('short', 5, 100), { model: m, stopLoss: 95 }))).toEqual([BAD_BRACKET]);
      expect(codes(input(order('short', 5, 100), { model: m, takeProfit: 101 }))).toEqual([BAD_BRACKET]);
    });
  });

  describe('OVERSELL', () => {
    it('selling exactly the held quantity passes, one more fails', () => {
      expect(codes(input(order('sell', 31, 280), { account: { cashCents: 0, positionQty: 31 } }))).toEqual([]);
      const r = evaluateGates(input(order('sell', 32, 280), { account: { cashCents: 0, positionQty: 31 } }));
      expect(r).toEqual([{ source: 'gate', code: OVERSELL, message: 'Cannot sell 32 IBM: only 31 shares are held.' }]);
    });

    it('selling with no position, or into a short, is refused', () => {
      expect(codes(input(order('sell', 1, 280)))).toEqual([OVERSELL]);
      const r = evaluateGates(input(order('sell', 1, 280), { model: model({ allow_short: true }), account: { cashCents: 0, positionQty: -5 } }));
      expect(r.map((x) => x.code)).toEqual([OVERSELL]);
      expect(r[0]!.message).toContain('short 5 shares');
    });
  });

  describe('OVERCOVER', () => {
    it('covering exactly the short passes, one more fails', () => {
      expect(codes(input(order('cover', 10, 50), { account: { cashCents: 1_000_000, positionQty: -10 } }))).toEqual([]);
      const r = evaluateGates(input(order('cover', 11, 50), { account: { cashCents: 1_000_000, positionQty: -10 } }));
      expect(r).toEqual([{ source: 'gate', code: OVERCOVER, message: 'Cannot cover 11 IBM: the short is only 10 shares.' }]);
    });

    it('covering with no short (flat or long) is refused', () => {
      expect(codes(input(order('cover', 1, 50)))).toEqual([OVERCOVER]);
      expect(codes(input(order('cover', 1, 50), { account: { cashCents: 1_000_000, positionQty: 5 } }))).toEqual([OVERCOVER]);
    });
  });

  describe('SHORT_NOT_ALLOWED and BUY_WHILE_SHORT', () => {
    it('short without allow_short is refused', () => {
      const r = evaluateGates(input(order('short', 10, 280)));
      expect(r.map((x) => x.code)).toEqual([SHORT_NOT_ALLOWED]);
      expect(r[0]!.message).toContain('allow_short');
    });

    it('with allow_short: opening and adding to a short pass, shorting while long is refused', () => {
      const m = model({ allow_short: true });
      expect(codes(input(order('short', 10, 280), { model: m }))).toEqual([]);
      expect(codes(input(order('short', 10, 280), { model: m, account: { cashCents: 1_000_000, positionQty: -10 } }))).toEqual([]);
      const r = evaluateGates(input(order('short', 10, 280), { model: m, account: { cashCents: 0, positionQty: 31 } }));
      expect(r).toEqual([
        { source: 'gate', code: SHORT_NOT_ALLOWED, message: 'Cannot short IBM while holding a long of 31 shares: sell the long first.' },
      ]);
    });

    it('buying while short is refused: cover first', () => {
      expect(codes(input(order('buy', 1, 50), { account: { cashCents: 1_000_000, positionQty: -10 } }))).toEqual([BUY_WHILE_SHORT]);
    });
  });

  describe('symbol and price', () => {
    it('UNKNOWN_SYMBOL alone (no NO_PRICE, no cash check)', () => {
      const r = evaluateGates(input(order('buy', 10, 0.0001, 'zzzz'), { symbolKnown: false, priced: false, account: { cashCents: 0, positionQty: 0 } }));
      expect(r).toEqual([{ source: 'gate', code: UNKNOWN_SYMBOL, message: 'Unknown symbol ZZZZ: there is no market data for it.' }]);
    });

    it('NO_PRICE fails closed', () => {
      const r = evaluateGates(input(order('buy', 10, 0), { priced: false }));
      expect(r).toEqual([
        { source: 'gate', code: NO_PRICE, message: 'No price for IBM at 2025-03-10 12:00 ET: orders are refused until a price exists.' },
      ]);
    });

    it("SYMBOL_NOT_ALLOWED by the model's allowed_symbols (case-insensitive; null or empty allows all)", () => {
      const m = model({ allowed_symbols: ['aapl', 'MSFT'] });
      const r = evaluateGates(input(order('buy', 1, 100), { model: m }));
      expect(r).toEqual([{ source: 'gate', code: SYMBOL_NOT_ALLOWED, message: "IBM is not in this model's allowed symbols (aapl, MSFT)." }]);
      expect(codes(input(order('buy', 1, 100, 'AAPL'), { model: m }))).toEqual([]);
      expect(codes(input(order('buy', 1, 100), { model: model({ allowed_symbols: [] }) }))).toEqual([]);
      // never trapped: a position in a symbol removed from the list can still be reduced
      expect(codes(input(order('sell', 5, 100), { model: m, account: { cashCents: 0, positionQty: 5 } }))).toEqual([]);
      expect(codes(input(order('buy', 1, 100), { model: m, account: { cashCents: 1_000_000, positionQty: 5 } }))).toEqual([SYMBOL_NOT_ALLOWED]);
    });
  });

  it('MARKET_CLOSED names the New York time', () => {
    const clock = nyToUtc('2025-03-08', '10:00'); // Saturday
    const r = evaluateGates(input(order('buy', 1, 100), { marketOpen: false, clock }));
    expect(r).toEqual([
      { source: 'gate', code: MARKET_CLOSED, message: 'The market is closed at 2025-03-08 10:00 ET: orders are accepted only while it is open.' },
    ]);
  });

  describe('model state', () => {
    it('halted refuses everything, a sell of a long too, and gives the reason', () => {
      const m = model({ state: 'halted', state_reason: 'Max drawdown halt: 25% below the peak.' });
      const r = evaluateGates(input(order('sell', 5, 100), { model: m, account: { cashCents: 0, positionQty: 10 } }));
      expect(r).toEqual([
        {
          source: 'gate',
          code: MODEL_HALTED,
          message: 'Model is halted (Max drawdown halt: 25% below the peak): every order is refused until a key with the approve scope resumes trading.',
        },
      ]);
      expect(codes(input(order('buy', 1, 100), { model: m }))).toEqual([MODEL_HALTED]);
      expect(codes(input(order('cover', 1, 100), { model: m, account: { cashCents: 1_000_000, positionQty: -3 } }))).toEqual([MODEL_HALTED]);
    });

    it('reducing allows a sell of a long and a cover of a short, refuses a buy and a short', () => {
      const m = model({ state: 'reducing', state_reason: 'daily loss limit', allow_short: true });
      expect(codes(input(order('sell', 10, 100), { model: m, account: { cashCents: 0, positionQty: 10 } }))).toEqual([]);
      expect(codes(input(order('sell', 3, 100), { model: m, account: { cashCents: 0, positionQty: 10 } }))).toEqual([]);
      expect(codes(input(order('cover', 3, 100), { model: m, account: { cashCents: 1_000_000, positionQty: -10 } }))).toEqual([]);
      const r = evaluateGates(input(order('buy', 1, 100), { model: m, account: { cashCents: 1_000_000, positionQty: 10 } }));
      expect(r).toEqual([
        {
          source: 'gate',
          code: MODEL_REDUCING,
          message:
            'Model is reducing (daily loss limit): only orders that shrink a position are accepted, and buying 1 IBM with a long of 10 shares does not.',
        },
      ]);
      expect(codes(input(order('short', 1, 100), { model: m }))).toEqual([MODEL_REDUCING]);
      // selling past flat is not reducing, and oversells
      expect(codes(input(order('sell', 11, 100), { model: m, account: { cashCents: 0, positionQty: 10 } }))).toEqual([MODEL_REDUCING, OVERSELL]);
    });
  });

  it('RATE_LIMITED at ordersLastMinute ≥ max', () => {
    expect(codes(input(order('buy', 1, 100), { ordersLastMinute: 59 }))).toEqual([]);
    const r = evaluateGates(input(order('buy', 1, 100), { ordersLastMinute: 60 }));
    expect(r).toEqual([
      { source: 'gate', code: RATE_LIMITED, message: 'Order rate limit reached: 60 orders in the last minute (limit 60 per minute); try again shortly.' },
    ]);
  });

  it('reports every gate that applies, in GATE_CODES order', () => {
    const r = evaluateGates(
      input(order('short', 10, 100), {
        model: model({ state: 'halted', allowed_symbols: ['AAPL'] }),
        account: { cashCents: 0, positionQty: 0 },
        commissionCents: 1,
        marketOpen: false,
        ordersLastMinute: 100,
      }),
    );
    const got = r.map((x) => x.code);
    expect(got).toEqual([MODEL_HALTED, RATE_LIMITED, MARKET_CLOSED, SYMBOL_NOT_ALLOWED, SHORT_NOT_ALLOWED, INSUFFICIENT_BUYING_POWER]);
    expect([...got].sort((a, b) => GATE_CODES.indexOf(a) - GATE_CODES.indexOf(b))).toEqual(got);
    for (const x of r) expect(x.message).toMatch(/^[A-Z].*\.$/);
  });
});

describe('isMarketOpen', () => {
  it('regular session only by default; extended from 04:00 to 20:00 ET', () => {
    expect(isMarketOpen(NOON)).toBe(true);
    expect(isMarketOpen(nyToUtc('2025-03-10', '09:29'))).toBe(false);
    expect(isMarketOpen(nyToUtc('2025-03-10', '09:30'))).toBe(true);
    expect(isMarketOpen(nyToUtc('2025-03-10', '16:00'))).toBe(false);
    expect(isMarketOpen(nyToUtc('2025-03-10', '08:00'), 'extended')).toBe(true);
    expect(isMarketOpen(nyToUtc('2025-03-10', '20:00'), 'extended')).toBe(false);
    expect(isMarketOpen(nyToUtc('2025-03-08', '12:00'), 'extended')).toBe(false); // Saturday
    expect(isMarketOpen(nyToUtc('2025-12-25', '12:00'))).toBe(false); // holiday
  });
});

describe('drawdownBreach', () => {
  it('halts exactly at the limit, not one cent before', () => {
    expect(drawdownBreach(750_000, 1_000_000, 0.25)).toBe(
      'Max drawdown halt: value $7,500.00 is $2,500.00 = 25% below the $10,000.00 peak (limit 25%).',
    );
    expect(drawdownBreach(750_001, 1_000_000, 0.25)).toBeNull();
    expect(drawdownBreach(700_000, 1_000_000, 0.25)).toContain('30% below');
  });

  it('no drawdown at or above the peak, or with no peak', () => {
    expect(drawdownBreach(1_000_000, 1_000_000, 0.25)).toBeNull();
    expect(drawdownBreach(1_200_000, 1_000_000, 0)).toBeNull();
    expect(drawdownBreach(0, 0, 0.25)).toBeNull();
  });

  it('exact for awkward fractions (7% of $100.00 is $7.00)', () => {
    expect(drawdownBreach(9_300, 10_000, 0.07)).not.toBeNull();
    expect(drawdownBreach(9_301, 10_000, 0.07)).toBeNull();
  });
});

// --- checkOrder and the IBM incident ---

function rule(over: Partial<RuleRecord> & Pick<RuleRecord, 'ruleCategory' | 'enforcementParams'>): RuleRecord {
  return {
    ruleId: 'rule-1',
    ruleName: 'rule',
    appliesToSymbols: null,
    excludeSymbols: null,
    priority: 5,
    isActive: true,
    ...over,
  };
}

const max20 = rule({ ruleId: 'r-max20', ruleName: 'Max 20% per position', ruleCategory: 'position_sizing', enforcementParams: { max_position_pct: 0.2 } });

function portfolio(over: Partial<PortfolioSnapshot> = {}): PortfolioSnapshot {
  return { cashCents: 1_000_000, positions: [], dayStartValueCents: 1_000_000, peakValueCents: 1_000_000, tradesToday: 0, tradesInRun: 0, ...over };
}

function check(o: OrderIntent, over: Partial<CheckOrderInput> = {}) {
  return checkOrder({
    order: o,
    orderType: 'market',
    model: model(),
    portfolio: portfolio(),
    rules: [max20],
    commissionCents: 0,
    symbolKnown: true,
    priced: true,
    marketOpen: true,
    ordersLastMinute: 0,
    maxOrdersPerMinute: 60,
    clock: NOON,
    ...over,
  });
}

describe('checkOrder: the IBM incident', () => {
  it('buy 31 IBM at $280 with $10,000 is refused by the rule, naming it and the numbers', () => {
    const r = check(order('buy', 31, 280));
    expect(r.allowed).toBe(false);
    expect(r.rejections).toEqual([
      {
        source: 'rule',
        code: MAX_POSITION_PCT,
        rule_name: 'Max 20% per position',
        rule_id: 'r-max20',
        message: "Rule 'Max 20% per position': position would be $8,680.00 = 86.8% of $10,000.00 portfolio (limit 20% = $2,000.00)",
      },
    ]);
  });

  it('buy 7 IBM at $280 ($1,960 = 19.6%) passes', () => {
    expect(check(order('buy', 7, 280))).toEqual({ rejections: [], allowed: true });
  });

  it('sell 50 while holding 31 is OVERSELL, reported before any rule', () => {
    const held = portfolio({ cashCents: 132_000, positions: [{ symbol: 'IBM', quantity: 31, avgCost: 280, price: 280 }] });
    const r = check(order('sell', 50, 280), { portfolio: held });
    expect(r.allowed).toBe(false);
    expect(r.rejections[0]).toEqual({ source: 'gate', code: OVERSELL, message: 'Cannot sell 50 IBM: only 31 shares are held.' });
    expect(check(order('sell', 31, 280), { portfolio: held })).toEqual({ rejections: [], allowed: true });
  });

  it('short without allow_short is SHORT_NOT_ALLOWED', () => {
    const r = check(order('short', 5, 280));
    expect(r.allowed).toBe(false);
    expect(r.rejections.map((x) => x.code)).toEqual([SHORT_NOT_ALLOWED]);
  });

  it('gates and rules are both reported, gates first', () => {
    const r = check(order('buy', 31, 280), { marketOpen: false });
    expect(r.rejections.map((x) => [x.source, x.code])).toEqual([
      ['gate', MARKET_CLOSED],
      ['rule', MAX_POSITION_PCT],
    ]);
  });

  it('rules are skipped when there is no price to judge them by', () => {
    const r = check(order('buy', 31, 280), { priced: false });
    expect(r.rejections.map((x) => x.code)).toEqual([NO_PRICE]);
  });

  it('the position comes from the portfolio snapshot (a cover of the held short passes)', () => {
    const short = portfolio({ cashCents: 1_500_000, positions: [{ symbol: 'IBM', quantity: -10, avgCost: 300, price: 280 }] });
    expect(check(order('cover', 10, 280), { portfolio: short }).allowed).toBe(true);
    expect(check(order('cover', 11, 280), { portfolio: short }).rejections[0]!.code).toBe(OVERCOVER);
  });
});
