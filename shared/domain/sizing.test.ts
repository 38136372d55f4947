// Sizing from the stop, downsize and loss streaks, pure (no server): figures computed by hand.
// The formula is the design's quantity = floor(equity × risk ÷ |entry − stop|).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideOrder, lossStreakAfter } from './decide.js';
import { NOON, testState } from './order-state.fixture.js';
import { cooldownUntil, evaluateOrder, lossStreakHalt } from './rules/engine.js';
import { largestQuantity, sizePosition } from './sizing.js';
import type { RuleRecord } from './types.js';

const state = testState;
const rule = (ruleName: string, ruleCategory: RuleRecord['ruleCategory'], enforcementParams: Record<string, unknown>, priority = 5): RuleRecord => ({
  ruleId: ruleName,
  ruleName,
  ruleCategory,
  enforcementParams,
  appliesToSymbols: null,
  excludeSymbols: null,
  priority,
  isActive: true,
});

describe('sizePosition', () => {
  it('2% of $10,000 over $3 = floor(66.67) = 66 shares; 66 × $3 = $198 = 1.98% of equity', () => {
    const s = sizePosition(state(), { symbol: 'X', entry: 100, stop: 97, riskPct: 0.02 });
    expect(s).toMatchObject({ side: 'buy', risk_quantity: 66, quantity: 66, risk: 198, risk_fraction_of_equity: 0.0198, bound_by: [] });
  });

  it('every sized quantity passes the rule it was capped by, and one more share does not', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 100 }), (cap, stopOff, riskBp) => {
        const s0 = state({ rules: [rule('Cap', 'position_sizing', { max_order_value: cap })] });
        const s = sizePosition(s0, { symbol: 'X', entry: 100, stop: 100 - stopOff / 10, riskPct: riskBp / 1000 });
        const one = (q: number) => evaluateOrder({ side: 'buy', symbol: 'X', quantity: q, price: 100 }, s0, NOON, s0.rules).length === 0;
        if (s.quantity > 0) expect(one(s.quantity)).toBe(true);
        if (s.quantity < s.risk_quantity && s.bound_by.some((c) => c.cap === 'max_order_value')) expect(one(s.quantity + 1)).toBe(false);
      }),
    );
  });

  it('largestQuantity finds the boundary of a monotone check', () => {
    expect(largestQuantity(1_000, (q) => q * 7 <= 100)).toBe(14);
    expect(largestQuantity(0, () => true)).toBe(0);
    expect(largestQuantity(5, () => true)).toBe(5);
  });
});

describe('downsize', () => {
  it('max_order_qty 30 with downsize: 50 becomes 30; without downsize 50 is refused', () => {
    const cut = decideOrder(state({ rules: [rule('Qty', 'position_sizing', { max_order_qty: 30, downsize: true })] }), { side: 'buy', symbol: 'X', quantity: 50, order_type: 'market' }, { downsize: true });
    expect(cut).toMatchObject({ status: 'filled', quantity: 30, downsized: { from: 50, to: 30, rule_names: ['Qty'] } });
    const plain = decideOrder(state({ rules: [rule('Qty', 'position_sizing', { max_order_qty: 30 })] }), { side: 'buy', symbol: 'X', quantity: 50, order_type: 'market' }, { downsize: true });
    expect(plain).toMatchObject({ status: 'rejected', quantity: 50, downsized: null });
  });
});

describe('loss streaks', () => {
  const at = new Date('2025-06-20T16:00:00Z');
  it('an exit at P&L ≤ 0 adds one (zero too), a gain resets, an entry leaves it', () => {
    expect(lossStreakAfter({ lossStreak: 1 }, { side: 'sell', realizedCents: 0 }, at)).toEqual({ lossStreak: 2, lastLossAt: at.toISOString() });
    expect(lossStreakAfter({ lossStreak: 2, lastLossAt: 'x' }, { side: 'cover', realizedCents: 1 }, at)).toEqual({ lossStreak: 0, lastLossAt: 'x' });
    expect(lossStreakAfter({ lossStreak: 2, lastLossAt: 'x' }, { side: 'buy', realizedCents: -5 }, at)).toEqual({ lossStreak: 2, lastLossAt: 'x' });
  });

  it('the cooldown ends exactly cooldown_minutes after the last loss (the end itself is free)', () => {
    const rules = [rule('Cool', 'risk', { cooldown_after_losses: 2, cooldown_minutes: 30 })];
    const s = { lossStreak: 2, lastLossAt: at.toISOString() };
    const end = new Date(at.getTime() + 30 * 60_000);
    expect(cooldownUntil(s, rules, at)).toEqual(end);
    const order = { side: 'buy' as const, symbol: 'X', quantity: 1, price: 100 };
    const snap = { ...state(), ...s };
    expect(evaluateOrder(order, snap, new Date(end.getTime() - 60_000), rules).map((v) => v.code)).toEqual(['LOSS_COOLDOWN']);
    expect(evaluateOrder(order, snap, end, rules)).toEqual([]);
    expect(cooldownUntil({ lossStreak: 1, lastLossAt: at.toISOString() }, rules, at)).toBeNull();
  });

  it('halt_after_losses names the highest-priority rule reached', () => {
    const rules = [rule('Five', 'risk', { halt_after_losses: 5 }, 9), rule('Three', 'risk', { halt_after_losses: 3 }, 2), rule('Four', 'risk', { halt_after_losses: 4 }, 7)];
    expect(lossStreakHalt({ lossStreak: 2 }, rules)).toBeNull();
    expect(lossStreakHalt({ lossStreak: 4 }, rules)).toMatch(/^loss_streak: Rule 'Four': 4 losing round trips in a row \(halt_after_losses 4\)/);
  });
});
