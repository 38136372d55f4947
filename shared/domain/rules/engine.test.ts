import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Bar, MarkedPosition, OrderIntent, PortfolioSnapshot, RuleRecord } from '../types.js';
import { nyToUtc } from '../ny-time.js';
import {
  AFTER_FLATTEN_BY,
  BLACKOUT_WINDOW,
  checkedRules,
  DAILY_LOSS_LIMIT,
  dailyLossLimitCents,
  evaluateOrder,
  exitSignals,
  flattenBy,
  INVALID_RULE,
  isRiskReducing,
  lossLimitBreaches,
  MAX_DRAWDOWN,
  MAX_ORDER_QTY,
  MAX_ORDER_VALUE,
  MAX_POSITION_PCT,
  MAX_POSITIONS,
  MAX_TRADES_PER_DAY,
  MAX_TRADES_PER_RUN,
  MIN_CASH_RESERVE,
  NO_NEW_POSITIONS,
  OUTSIDE_TRADING_HOURS,
  portfolioValueCents,
  RISK_PER_TRADE,
  SYMBOL_DENIED,
  SYMBOL_NOT_ALLOWED,
} from './engine.js';

let seq = 0;
function rule(
  category: RuleRecord['ruleCategory'],
  params: Record<string, unknown>,
  over: Partial<RuleRecord> = {},
): RuleRecord {
  seq += 1;
  return {
    ruleId: `r${seq}`,
    ruleName: over.ruleName ?? `${category} ${seq}`,
    ruleCategory: category,
    enforcementParams: params,
    appliesToSymbols: null,
    excludeSymbols: null,
    priority: 5,
    isActive: true,
    ...over,
  };
}

function pf(over: Partial<PortfolioSnapshot> = {}): PortfolioSnapshot {
  return {
    cashCents: 1_000_000,
    positions: [],
    dayStartValueCents: 1_000_000,
    peakValueCents: 1_000_000,
    tradesToday: 0,
    tradesInRun: 0,
    ...over,
  };
}

const pos = (symbol: string, quantity: number, price: number, avgCost = price): MarkedPosition => ({ symbol, quantity, avgCost, price });
const at = (hhmm: string) => nyToUtc('2025-03-10', hhmm); // a Monday
const NOON = at('11:00');
const buy = (symbol: string, quantity: number, price: number): OrderIntent => ({ side: 'buy', symbol, quantity, price });
const codes = (o: OrderIntent, p: PortfolioSnapshot, rules: RuleRecord[], clock = NOON) =>
  evaluateOrder(o, p, clock, rules).map((v) => v.code);

describe('position_sizing', () => {
  const max20 = rule('position_sizing', { max_position_pct: 0.2 }, { ruleName: 'Max 20% per position' });

  it('the contract example: $2,450 of IBM in a $10,000 portfolio', () => {
    const v = evaluateOrder(buy('IBM', 10, 245), pf(), NOON, [max20]);
    expect(v).toHaveLength(1);
    expect(v[0]!.code).toBe(MAX_POSITION_PCT);
    expect(v[0]!.ruleId).toBe(max20.ruleId);
    expect(v[0]!.message).toBe(
      "Rule 'Max 20% per position': position would be $2,450.00 = 24.5% of $10,000.00 portfolio (limit 20% = $2,000.00)",
    );
    expect(evaluateOrder(buy('IBM', 10, 199), pf(), NOON, [max20])).toEqual([]);
  });

  it('exactly at the limit passes, one cent over fails', () => {
    expect(codes(buy('IBM', 10, 200), pf(), [max20])).toEqual([]);
    expect(codes(buy('IBM', 1, 2000), pf(), [max20])).toEqual([]);
    expect(codes(buy('IBM', 1, 2000.01), pf(), [max20])).toEqual([MAX_POSITION_PCT]);
  });

  it('counts the existing position and values the portfolio at the clock', () => {
    // $8,000 cash + 10 IBM at $200 = $10,000; 10 more makes $4,000 = 40%.
    const p = pf({ cashCents: 800_000, positions: [pos('IBM', 10, 200, 150)] });
    expect(portfolioValueCents(p)).toBe(1_000_000);
    expect(codes(buy('IBM', 1, 200), p, [max20])).toEqual([MAX_POSITION_PCT]);
    // Shorts count negative in the value and by absolute size in the position.
    const s = pf({ cashCents: 1_200_000, positions: [pos('TSLA', -10, 200)] });
    expect(portfolioValueCents(s)).toBe(1_000_000);
    expect(codes({ side: 'short', symbol: 'TSLA', quantity: 1, price: 200 }, s, [max20])).toEqual([MAX_POSITION_PCT]);
    expect(codes({ side: 'short', symbol: 'AMD', quantity: 20, price: 100 }, s, [max20])).toEqual([]);
  });

  it('has no float drift (7% of $100.00 is exactly $7.00)', () => {
    const r = rule('position_sizing', { max_position_pct: 0.07 });
    const p = pf({ cashCents: 10_000, dayStartValueCents: 10_000, peakValueCents: 10_000 });
    expect(codes(buy('X', 7, 1), p, [r])).toEqual([]);
    expect(codes(buy('X', 1, 7.01), p, [r])).toEqual([MAX_POSITION_PCT]);
  });

  it('property: position exactly at pct × value passes, one cent more fails', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 100, max: 100_000_000 }), (permille, cash) => {
        const pct = permille / 1000;
        const limitCents = Math.floor((permille * cash) / 1000);
        const r = rule('position_sizing', { max_position_pct: pct });
        const p = pf({ cashCents: cash });
        // 1 share priced at exactly the limit, then one cent above it.
        const okOrder = buy('X', 1, limitCents / 100);
        const badOrder = buy('X', 1, (limitCents + 1) / 100);
        return (
          (limitCents === 0 || evaluateOrder(okOrder, p, NOON, [r]).length === 0) &&
          evaluateOrder(badOrder, p, NOON, [r]).length === 1
        );
      }),
      { numRuns: 300 },
    );
  });

  it('max_order_value: exactly at the limit passes, one cent over fails', () => {
    const r = rule('position_sizing', { max_order_value: 2000 }, { ruleName: 'Orders up to $2,000' });
    expect(codes(buy('IBM', 10, 200), pf(), [r])).toEqual([]);
    const v = evaluateOrder(buy('IBM', 1, 2000.01), pf(), NOON, [r]);
    expect(v.map((x) => x.code)).toEqual([MAX_ORDER_VALUE]);
    expect(v[0]!.message).toBe("Rule 'Orders up to $2,000': order value would be 1 × $2,000.01 = $2,000.01 (limit $2,000.00 per order)");
  });

  it('max_order_qty: exactly at the limit passes, one share over fails', () => {
    const r = rule('position_sizing', { max_order_qty: 100 });
    expect(codes(buy('F', 100, 10), pf(), [r])).toEqual([]);
    const v = evaluateOrder(buy('F', 101, 10), pf(), NOON, [r]);
    expect(v.map((x) => x.code)).toEqual([MAX_ORDER_QTY]);
    expect(v[0]!.message).toContain('101 shares (limit 100 shares per order)');
  });

  it("risk_per_trade_pct measures to the order's own stop (entry − stop), else the tightest applicable stop rule; with neither it refuses", () => {
    const r = rule('position_sizing', { risk_per_trade_pct: 0.01 }, { ruleName: 'Risk 1% per trade' });
    const stop = rule('stop_loss', { stop_loss_pct: 0.02 }, { ruleName: 'Stop 2%' });
    const wide = rule('stop_loss', { stop_loss_pct: 0.1 });
    // 1% of $10,000 = $100 of risk; at a 2% stop that is $5,000 of notional.
    expect(codes(buy('IBM', 25, 200), pf(), [r, stop, wide])).toEqual([]);
    const v = evaluateOrder(buy('IBM', 1, 5000.01), pf(), NOON, [r, stop, wide]);
    expect(v.map((x) => x.code)).toEqual([RISK_PER_TRADE]);
    expect(v[0]!.message).toContain("2% stop of 'Stop 2%'");
    expect(v[0]!.message).toContain('(limit 1% = $100.00)');
    // No stop at all: refused with a sentence saying what is missing.
    const none = evaluateOrder(buy('IBM', 1, 9000), pf(), NOON, [r]);
    expect(none.map((x) => x.message)).toEqual([
      "Rule 'Risk 1% per trade': an opening order needs a stop to measure its risk (limit 1% of the portfolio per trade): give the order a stop_loss, or add a stop_loss rule with stop_loss_pct",
    ]);
    // A stop scoped to another symbol does not count.
    const other = rule('stop_loss', { stop_loss_pct: 0.02 }, { appliesToSymbols: ['AAPL'] });
    expect(codes(buy('IBM', 1, 9000), pf(), [r, other])).toEqual([RISK_PER_TRADE]);
    // The order's own stop wins over the rule: 20 × (200 − 195) = $100 = 1% passes; 21 × 5 = $105 does not.
    expect(codes({ ...buy('IBM', 20, 200), stopLoss: 195 }, pf(), [r, wide])).toEqual([]);
    const own = evaluateOrder({ ...buy('IBM', 21, 200), stopLoss: 195 }, pf(), NOON, [r, wide]);
    expect(own.map((x) => x.message)).toEqual([
      "Rule 'Risk 1% per trade': risk to the order's stop_loss $195.00 would be 21 × $5.00 = $105.00 = 1.05% of $10,000.00 portfolio (limit 1% = $100.00)",
    ]);
  });
});

describe('risk', () => {
  it('max_positions counts only when the order opens a new symbol', () => {
    const r = rule('risk', { max_positions: 3 }, { ruleName: 'Max 3 positions' });
    const three = pf({ cashCents: 700_000, positions: [pos('A', 10, 100), pos('B', 10, 100), pos('C', 10, 100)] });
    const v = evaluateOrder(buy('D', 1, 10), three, NOON, [r]);
    expect(v.map((x) => x.code)).toEqual([MAX_POSITIONS]);
    expect(v[0]!.message).toBe("Rule 'Max 3 positions': opening D would make 4 open positions (3 open now; limit 3)");
    expect(codes(buy('A', 1, 100), three, [r])).toEqual([]);
    const two = pf({ positions: [pos('A', 10, 100), pos('B', 0, 100), pos('C', -5, 100)] });
    expect(codes(buy('D', 1, 10), two, [r])).toEqual([]);
  });

  it('min_cash_reserve_pct: cash after the order at exactly the reserve passes, one cent under fails', () => {
    const r = rule('risk', { min_cash_reserve_pct: 0.1 }, { ruleName: 'Keep 10% cash' });
    expect(codes(buy('IBM', 45, 200), pf(), [r])).toEqual([]); // $9,000 → $1,000 left
    const v = evaluateOrder(buy('IBM', 1, 9000.01), pf(), NOON, [r]);
    expect(v.map((x) => x.code)).toEqual([MIN_CASH_RESERVE]);
    expect(v[0]!.message).toBe(
      "Rule 'Keep 10% cash': cash after the order would be $999.99 = 10% of $10,000.00 portfolio (must keep at least 10% = $1,000.00)",
    );
  });

  it('trade counts: the order is trade n + 1', () => {
    const run = rule('risk', { max_trades_per_run: 10 });
    const day = rule('risk', { max_trades_per_day: 4 });
    expect(codes(buy('A', 1, 10), pf({ tradesInRun: 9, tradesToday: 3 }), [run, day])).toEqual([]);
    expect(codes(buy('A', 1, 10), pf({ tradesInRun: 10, tradesToday: 3 }), [run, day])).toEqual([MAX_TRADES_PER_RUN]);
    expect(codes(buy('A', 1, 10), pf({ tradesInRun: 9, tradesToday: 4 }), [run, day])).toEqual([MAX_TRADES_PER_DAY]);
  });

  it('daily loss limit (pct and abs): reaching it refuses new risk, a cent less does not', () => {
    const pct = rule('risk', { daily_loss_limit_pct: 0.03 }, { ruleName: 'Daily loss 3%' });
    const abs = rule('risk', { daily_loss_limit_abs: 250 }, { ruleName: 'Daily loss $250' });
    const down = (cents: number) => pf({ cashCents: 1_000_000 - cents });
    expect(codes(buy('A', 1, 10), down(24_999), [pct, abs])).toEqual([]);
    expect(codes(buy('A', 1, 10), down(25_000), [pct, abs])).toEqual([DAILY_LOSS_LIMIT]);
    expect(codes(buy('A', 1, 10), down(29_999), [pct])).toEqual([]);
    const v = evaluateOrder(buy('A', 1, 10), down(30_000), NOON, [pct]);
    expect(v.map((x) => x.code)).toEqual([DAILY_LOSS_LIMIT]);
    expect(v[0]!.message).toContain('day loss is $300.00 = 3% of the $10,000.00 day-start value (limit 3% = $300.00)');
  });

  it('max drawdown from the peak', () => {
    const r = rule('risk', { max_drawdown_pct: 0.15 });
    const p = (value: number) => pf({ cashCents: value, peakValueCents: 2_000_000, dayStartValueCents: value });
    expect(codes(buy('A', 1, 10), p(1_700_001), [r])).toEqual([]);
    expect(codes(buy('A', 1, 10), p(1_700_000), [r])).toEqual([MAX_DRAWDOWN]);
  });

  it('lossLimitBreaches reports the rules whose loss limits are reached, for the circuit breaker', () => {
    const pct = rule('risk', { daily_loss_limit_pct: 0.03 }, { priority: 10 });
    const dd = rule('risk', { max_drawdown_pct: 0.1, max_positions: 3 }, { appliesToSymbols: ['AAPL'] });
    const off = rule('risk', { daily_loss_limit_pct: 0.01 }, { isActive: false });
    const other = rule('position_sizing', { max_position_pct: 0.1 });
    expect(lossLimitBreaches(pf({ cashCents: 970_100 }), [pct, dd, off, other])).toEqual([]);
    const p = pf({ cashCents: 900_000 });
    const b = lossLimitBreaches(p, [dd, pct, off, other]);
    expect(b.map((x) => [x.ruleId, x.code])).toEqual([
      [pct.ruleId, DAILY_LOSS_LIMIT],
      [dd.ruleId, MAX_DRAWDOWN],
    ]);
  });
});

describe('daily loss limit left (get_trading_status)', () => {
  it('is the exact loss at which the circuit breaker fires, never a float-rounded cent off', () => {
    // 3% of $10,000.01 is $300.0003: the breaker fires at a $300.01 loss, not at $300.00.
    const start = 1_000_001;
    const rules = [rule('risk', { daily_loss_limit_pct: 0.03 }), rule('risk', { daily_loss_limit_abs: 500 }), rule('risk', { daily_loss_limit_pct: 0.01 }, { isActive: false })];
    const limit = dailyLossLimitCents(start, rules);
    expect(limit).toBe(30_001);
    const at = (loss: number) => lossLimitBreaches(pf({ cashCents: start - loss, dayStartValueCents: start }), rules).length;
    expect(at(limit! - 1)).toBe(0);
    expect(at(limit!)).toBe(1);
    expect(dailyLossLimitCents(start, [rule('risk', { daily_loss_limit_abs: 123.45 })])).toBe(12_345);
    expect(dailyLossLimitCents(start, [rule('risk', { max_positions: 3 })])).toBeNull();
  });
});

describe('timing (New York time of the clock)', () => {
  const blackout = rule('timing', { blackout_windows: [{ start: '09:30', end: '09:35' }, { start: '12:00', end: '14:00' }] });
  it('blackout windows are half-open [start, end)', () => {
    const o = buy('A', 1, 10);
    expect(codes(o, pf(), [blackout], at('11:59'))).toEqual([]);
    expect(codes(o, pf(), [blackout], at('12:00'))).toEqual([BLACKOUT_WINDOW]);
    expect(codes(o, pf(), [blackout], at('13:59'))).toEqual([BLACKOUT_WINDOW]);
    expect(codes(o, pf(), [blackout], at('14:00'))).toEqual([]);
    expect(codes(o, pf(), [blackout], at('09:34'))).toEqual([BLACKOUT_WINDOW]);
    expect(evaluateOrder(o, pf(), at('12:30'), [blackout])[0]!.message).toContain('from 12:00 to 14:00 ET and it is 12:30 ET');
    // Winter time (EST) reads the same wall clock.
    expect(codes(o, pf(), [blackout], nyToUtc('2025-01-15', '12:00'))).toEqual([BLACKOUT_WINDOW]);
  });
  it('trading hours, no new positions after, flatten_by', () => {
    const hours = rule('timing', { trading_hours: { start: '09:45', end: '15:45' } });
    const noNew = rule('timing', { no_new_positions_after: '15:00' });
    const flat = rule('timing', { flatten_by: '15:55' });
    const o = buy('A', 1, 10);
    expect(codes(o, pf(), [hours], at('09:44'))).toEqual([OUTSIDE_TRADING_HOURS]);
    expect(codes(o, pf(), [hours], at('09:45'))).toEqual([]);
    expect(codes(o, pf(), [hours], at('15:44'))).toEqual([]);
    expect(codes(o, pf(), [hours], at('15:45'))).toEqual([OUTSIDE_TRADING_HOURS]);
    expect(codes(o, pf(), [noNew], at('14:59'))).toEqual([]);
    expect(codes(o, pf(), [noNew], at('15:00'))).toEqual([NO_NEW_POSITIONS]);
    // Increasing an existing position is new risk too.
    expect(codes(o, pf({ positions: [pos('A', 5, 10)] }), [noNew], at('15:30'))).toEqual([NO_NEW_POSITIONS]);
    expect(codes(o, pf(), [flat], at('15:54'))).toEqual([]);
    expect(codes(o, pf(), [flat], at('15:55'))).toEqual([AFTER_FLATTEN_BY]);
  });
});

describe('screening', () => {
  it('allowed and denied symbols', () => {
    const allow = rule('screening', { allowed_symbols: ['AAPL', 'MSFT'] });
    const deny = rule('screening', { denied_symbols: ['GME'] });
    expect(codes(buy('AAPL', 1, 10), pf(), [allow, deny])).toEqual([]);
    expect(codes(buy('TSLA', 1, 10), pf(), [allow, deny])).toEqual([SYMBOL_NOT_ALLOWED]);
    expect(codes(buy('GME', 1, 10), pf(), [deny])).toEqual([SYMBOL_DENIED]);
  });
});

describe('evaluation as a whole', () => {
  it('reports every violation, highest priority first, ties by rule name', () => {
    const rules = [
      rule('position_sizing', { max_order_qty: 5 }, { ruleName: 'b qty', priority: 3 }),
      rule('position_sizing', { max_position_pct: 0.2 }, { ruleName: 'Max 20%', priority: 9 }),
      rule('screening', { denied_symbols: ['IBM'] }, { ruleName: 'No IBM', priority: 3 }),
      rule('risk', { daily_loss_limit_pct: 0.01 }, { ruleName: 'Loss 1%', priority: 10 }),
      rule('timing', { no_new_positions_after: '10:00' }, { ruleName: 'a late', priority: 3 }),
    ];
    const v = evaluateOrder(buy('IBM', 10, 245), pf({ dayStartValueCents: 1_020_000 }), NOON, rules);
    expect(v.map((x) => [x.priority, x.ruleName])).toEqual([
      [10, 'Loss 1%'],
      [9, 'Max 20%'],
      [3, 'No IBM'],
      [3, 'a late'],
      [3, 'b qty'],
    ]);
    expect(v[0]!.ruleName).toBe('Loss 1%');
    expect(v).toHaveLength(5);
  });

  it('applies_to_symbols and exclude_symbols scope a rule', () => {
    const only = rule('position_sizing', { max_order_qty: 1 }, { appliesToSymbols: ['AAPL'] });
    const notMsft = rule('position_sizing', { max_order_qty: 1 }, { excludeSymbols: ['MSFT'] });
    expect(codes(buy('AAPL', 2, 10), pf(), [only])).toEqual([MAX_ORDER_QTY]);
    expect(codes(buy('TSLA', 2, 10), pf(), [only])).toEqual([]);
    expect(codes(buy('MSFT', 2, 10), pf(), [notMsft])).toEqual([]);
    expect(codes(buy('TSLA', 2, 10), pf(), [notMsft])).toEqual([MAX_ORDER_QTY]);
    expect(checkedRules([only, notMsft], 'AAPL')).toHaveLength(2);
    expect(checkedRules([only, notMsft], 'TSLA')).toEqual([notMsft]);
    expect(checkedRules([only, notMsft], 'MSFT')).toEqual([]);
  });

  it('inactive, advisory and stop_loss rules never block', () => {
    const rules = [
      rule('position_sizing', { max_order_qty: 1 }, { isActive: false }),
      rule('strategy', { guidance: 'Never buy anything.' }),
      rule('entry_exit', { guidance: 'Only buy on Tuesdays.' }),
      rule('stop_loss', { stop_loss_pct: 0.01 }),
    ];
    expect(evaluateOrder(buy('IBM', 1000, 245), pf(), NOON, rules)).toEqual([]);
    expect(checkedRules(rules, 'IBM')).toEqual([]);
  });

  it('a rule whose stored params are invalid blocks new risk (fails closed)', () => {
    const broken = rule('position_sizing', { max_position_pct: 5 }, { ruleName: 'Broken' });
    const v = evaluateOrder(buy('A', 1, 10), pf(), NOON, [broken]);
    expect(v.map((x) => x.code)).toEqual([INVALID_RULE]);
    expect(v[0]!.message).toContain('max_position_pct must be at most 1');
  });

  it('risk-reducing orders are never blocked', () => {
    const everything = [
      rule('position_sizing', { max_position_pct: 0.01, max_order_qty: 1, max_order_value: 1 }),
      rule('risk', { max_positions: 1, min_cash_reserve_pct: 1, max_trades_per_day: 1, daily_loss_limit_abs: 1, max_drawdown_pct: 0.01 }),
      rule('timing', { blackout_windows: [{ start: '00:00', end: '23:59' }], no_new_positions_after: '00:00', flatten_by: '00:00' }),
      rule('screening', { denied_symbols: ['IBM', 'TSLA'] }),
      rule('position_sizing', { max_position_pct: 5 }), // invalid, still no trap
    ];
    const p = pf({
      cashCents: 100,
      positions: [pos('IBM', 50, 245), pos('TSLA', -20, 200)],
      tradesToday: 99,
      tradesInRun: 99,
    });
    const sell: OrderIntent = { side: 'sell', symbol: 'IBM', quantity: 50, price: 245 };
    const cover: OrderIntent = { side: 'cover', symbol: 'TSLA', quantity: 5, price: 200 };
    expect(isRiskReducing(sell, p)).toBe(true);
    expect(evaluateOrder(sell, p, at('12:00'), everything)).toEqual([]);
    expect(evaluateOrder(cover, p, at('12:00'), everything)).toEqual([]);
    // Selling past flat opens a short: that is new risk.
    expect(isRiskReducing({ ...sell, quantity: 51 }, p)).toBe(false);
    expect(evaluateOrder({ ...sell, quantity: 51 }, p, at('12:00'), everything).length).toBeGreaterThan(0);
  });
});

describe('exit signals', () => {
  const bar = (o: number, h: number, l: number, c: number): Bar => ({ t: '2025-03-10T15:00:00Z', o, h, l, c, v: 1000 });
  const stop = rule('stop_loss', { stop_loss_pct: 0.015 }, { ruleName: 'Stop loss 1.5%' });
  const take = rule('stop_loss', { take_profit_pct: 0.025 }, { ruleName: 'Take profit 2.5%' });
  const trail = rule('stop_loss', { trailing_stop_pct: 0.05 }, { ruleName: 'Trail 5%' });
  const long = pos('IBM', 10, 100, 100);
  const short = pos('TSLA', -4, 200, 200);

  it('long stop loss at avgCost × (1 − pct) when the low touches it', () => {
    expect(exitSignals({ position: long, bar: bar(99, 100, 98.51, 99), clock: NOON, rules: [stop] })).toEqual([]);
    const [s] = exitSignals({ position: long, bar: bar(99, 100, 98.5, 99), clock: NOON, rules: [stop] });
    expect(s).toMatchObject({ ruleId: stop.ruleId, code: 'STOP_LOSS', symbol: 'IBM', quantity: 10, side: 'sell', price: 98.5 });
    expect(s!.reason).toContain("Rule 'Stop loss 1.5%'");
    expect(s!.reason).toContain('$98.50');
  });

  it('gap through the stop exits at the open', () => {
    const [s] = exitSignals({ position: long, bar: bar(97, 99, 96, 98), clock: NOON, rules: [stop] });
    expect(s).toMatchObject({ code: 'STOP_LOSS', price: 97 });
    expect(s!.reason).toContain('opened at $97');
  });

  it('take profit at avgCost × (1 + pct); gap up fills at the open', () => {
    expect(exitSignals({ position: long, bar: bar(101, 102.49, 100, 102), clock: NOON, rules: [take] })).toEqual([]);
    expect(exitSignals({ position: long, bar: bar(101, 102.5, 100, 102), clock: NOON, rules: [take] })[0]).toMatchObject({
      code: 'TAKE_PROFIT',
      price: 102.5,
    });
    expect(exitSignals({ position: long, bar: bar(104, 105, 103, 104), clock: NOON, rules: [take] })[0]).toMatchObject({ price: 104 });
  });

  it('stop before take profit when one bar touches both; only one exit per position', () => {
    const s = exitSignals({ position: long, bar: bar(100, 103, 98, 100), clock: NOON, rules: [take, stop] });
    expect(s).toHaveLength(1);
    expect(s[0]!.code).toBe('STOP_LOSS');
  });

  it('trailing stop from the high water mark', () => {
    const p = { ...long, price: 110, highWater: 120 };
    expect(exitSignals({ position: p, bar: bar(115, 116, 114.01, 115), clock: NOON, rules: [trail] })).toEqual([]);
    const [s] = exitSignals({ position: p, bar: bar(115, 116, 114, 115), clock: NOON, rules: [trail] });
    expect(s).toMatchObject({ code: 'TRAILING_STOP', price: 114, side: 'sell' });
    expect(s!.reason).toContain('high of $120');
  });

  it('short side is mirrored', () => {
    const both = [rule('stop_loss', { stop_loss_pct: 0.015, take_profit_pct: 0.025 })];
    expect(exitSignals({ position: short, bar: bar(201, 202.99, 200, 201), clock: NOON, rules: both })).toEqual([]);
    expect(exitSignals({ position: short, bar: bar(201, 203, 200, 201), clock: NOON, rules: both })[0]).toMatchObject({
      code: 'STOP_LOSS', side: 'cover', quantity: 4, price: 203,
    });
    expect(exitSignals({ position: short, bar: bar(205, 206, 204, 205), clock: NOON, rules: both })[0]).toMatchObject({ price: 205 });
    expect(exitSignals({ position: short, bar: bar(199, 200, 195, 196), clock: NOON, rules: both })[0]).toMatchObject({
      code: 'TAKE_PROFIT', price: 195,
    });
    const trailShort = { ...short, price: 180, lowWater: 180 };
    expect(exitSignals({ position: trailShort, bar: bar(185, 189, 184, 188), clock: NOON, rules: [trail] })[0]).toMatchObject({
      code: 'TRAILING_STOP', side: 'cover', price: 189,
    });
  });

  it('scope and inactive rules', () => {
    const other = rule('stop_loss', { stop_loss_pct: 0.015 }, { excludeSymbols: ['IBM'] });
    const off = rule('stop_loss', { stop_loss_pct: 0.015 }, { isActive: false });
    expect(exitSignals({ position: long, bar: bar(90, 91, 89, 90), clock: NOON, rules: [other, off] })).toEqual([]);
  });

  it('flatten_by closes every in-scope position at its price', () => {
    const flat = rule('timing', { flatten_by: '15:55' }, { ruleName: 'Flatten by 15:55', excludeSymbols: ['SPY'] });
    const positions = [long, short, pos('SPY', 3, 500), pos('AMD', 0, 100)];
    expect(flattenBy(at('15:54'), positions, [flat])).toEqual([]);
    const s = flattenBy(at('15:55'), positions, [flat]);
    expect(s.map((x) => [x.symbol, x.side, x.quantity, x.price, x.code])).toEqual([
      ['IBM', 'sell', 10, 100, 'FLATTEN_BY'],
      ['TSLA', 'cover', 4, 200, 'FLATTEN_BY'],
    ]);
    expect(s[0]!.reason).toContain("Rule 'Flatten by 15:55'");
    // exitSignals falls back to flatten_by when no price exit fires.
    expect(exitSignals({ position: long, bar: bar(100, 100, 100, 100), clock: at('15:56'), rules: [stop, flat] })[0]).toMatchObject({
      code: 'FLATTEN_BY', ruleId: flat.ruleId,
    });
  });
});
