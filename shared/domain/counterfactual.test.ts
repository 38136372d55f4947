// The pure parts of the counterfactual replay and of suggest_rules, on small cases worked out by hand.
import { describe, expect, it } from 'vitest';
import { agentScript, alternativeRules, compareOutcome, downsample, intentOf, runClockAt, type RecordedOrder } from './counterfactual.js';
import { alreadyHas, detect, judge, worstDay, type RunFacts } from './suggestions.js';
import { parseEnforcementParams } from './rules/schema.js';
import type { RuleRecord } from './types.js';

const order = (o: Partial<RecordedOrder>): RecordedOrder => ({
  order_id: 1,
  side: 'buy',
  symbol: 'AAPL',
  quantity: 10,
  order_type: 'market',
  limit_price: null,
  stop_price: null,
  stop_loss: null,
  take_profit: null,
  clock: '2025-06-10T14:00:00.000Z',
  created_at: '2026-01-01T00:00:10.000Z',
  status: 'filled',
  rejections: [],
  fill: null,
  decided_by: null,
  decided_at: null,
  ...o,
});

describe('intentOf', () => {
  it('cuts a sell or cover larger than the holding to the holding', () => {
    expect(intentOf(order({ side: 'sell', quantity: 970 }), 97)).toMatchObject({ cut: true, req: { quantity: 97 } });
    expect(intentOf(order({ side: 'cover', quantity: 50 }), -20)).toMatchObject({ cut: true, req: { quantity: 20 } });
    expect(intentOf(order({ side: 'sell', quantity: 10 }), 97)).toMatchObject({ cut: false, req: { quantity: 10 } });
  });
  it('sends as recorded a sell the original refused as larger than its holding, and one with nothing held', () => {
    const oversold = order({ side: 'sell', quantity: 970, status: 'rejected', rejections: [{ source: 'gate', code: 'OVERSELL', message: 'x' }] });
    expect(intentOf(oversold, 97)).toMatchObject({ cut: false, req: { quantity: 970 } });
    expect(intentOf(order({ side: 'sell', quantity: 5 }), 0)).toMatchObject({ cut: false, req: { quantity: 5 } });
  });
});

describe('agentScript', () => {
  it('puts an approval at the run clock then (its fill clock when it filled then), a cancellation at the run clock of the latest mark before it', () => {
    const t = (s: string) => Date.parse(s);
    const placed = order({ order_id: 1, status: 'filled', decided_by: 'k1', decided_at: '2026-01-01T00:01:00.000Z', fill: { price: 1, quantity: 10, clock: '2025-06-10T14:05:00.000Z' } });
    const cancelled = order({ order_id: 2, clock: '2025-06-10T14:00:00.000Z', status: 'cancelled', decided_by: 'k1', decided_at: '2026-01-01T00:02:30.000Z' });
    // approved at 14:09 (wall 00:02:45), it rested and the clock filled it at 14:15: approved at 14:09, not at its fill
    const rested = order({ order_id: 3, order_type: 'limit', limit_price: 1, status: 'filled', decided_by: 'k1', decided_at: '2026-01-01T00:02:45.000Z', fill: { price: 1, quantity: 10, clock: '2025-06-10T14:15:00.000Z' } });
    const marks = [
      { wall: t('2026-01-01T00:00:50.000Z'), clock: t('2025-06-10T14:05:00.000Z') },
      { wall: t('2026-01-01T00:02:00.000Z'), clock: t('2025-06-10T14:09:00.000Z') },
      { wall: t('2026-01-01T00:03:00.000Z'), clock: t('2025-06-10T14:20:00.000Z') },
    ];
    expect(runClockAt(marks, t('2026-01-01T00:02:30.000Z'), 0)).toBe(t('2025-06-10T14:09:00.000Z'));
    const script = agentScript([placed, cancelled, rested], marks, [{ wall: t('2026-01-01T00:03:30.000Z'), state: 'halted', reason: 'stop' }]);
    expect(script.map((e) => [e.kind, new Date(e.at).toISOString()])).toEqual([
      ['order', '2025-06-10T14:00:00.000Z'],
      ['order', '2025-06-10T14:00:00.000Z'],
      ['order', '2025-06-10T14:00:00.000Z'],
      ['approve', '2025-06-10T14:05:00.000Z'],
      ['cancel', '2025-06-10T14:09:00.000Z'],
      ['approve', '2025-06-10T14:09:00.000Z'],
      ['state', '2025-06-10T14:20:00.000Z'],
    ]);
  });
});

describe('compareOutcome', () => {
  it('is null when status, fill price, quantity and reasons agree; names each change otherwise', () => {
    const o = order({ fill: { price: 80, quantity: 970, clock: 'x' }, quantity: 970 });
    expect(compareOutcome(o, { status: 'filled', quantity: 970, fill_price: 80, rejections: [] })).toBeNull();
    const c = compareOutcome(o, { status: 'filled', quantity: 97, fill_price: 80, rejections: [] })!;
    expect(c.changes).toEqual(['quantity']);
    const r = compareOutcome(o, { status: 'rejected', quantity: 970, fill_price: null, rejections: [{ source: 'gate', code: 'OVERSELL', message: 'no' }] })!;
    expect(r.changes).toEqual(['status', 'fill_price', 'reasons']);
    expect(r.counterfactual.reasons).toEqual(['no']);
  });
});

describe('downsample', () => {
  it('keeps the first and last points and the min and max of each bucket, at most max points', () => {
    const pts = Array.from({ length: 1000 }, (_, i) => ({ i, v: i === 500 ? -100 : i === 700 ? 900 : Math.sin(i) }));
    const out = downsample(pts, 60, (p) => p.v);
    expect(out.length).toBeLessThanOrEqual(60);
    expect(out[0]!.i).toBe(0);
    expect(out.at(-1)!.i).toBe(999);
    expect(out.some((p) => p.i === 500)).toBe(true);
    expect(out.some((p) => p.i === 700)).toBe(true);
    expect(downsample(pts.slice(0, 10), 60, (p) => p.v)).toHaveLength(10);
  });
});

describe('alternativeRules', () => {
  const parse = (c: any, p: unknown) => parseEnforcementParams(c, p) as any;
  it("refuses with create_rule's sentence, naming the rule's index", () => {
    const r = alternativeRules(
      [
        { rule_name: 'A', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.2 } },
        { rule_name: 'B', rule_category: 'stop_loss', enforcement_params: { stop_los_pct: 0.1 } },
      ],
      parse,
    );
    expect(r.ok).toBe(false);
    expect((r as any).error).toBe(`rules[1] ('B'): ${(parseEnforcementParams('stop_loss', { stop_los_pct: 0.1 }) as any).error}`);
    const dup = alternativeRules(
      [
        { rule_name: 'A', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.2 } },
        { rule_name: 'A', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.3 } },
      ],
      parse,
    );
    expect((dup as any).error).toBe("rules[1] ('A'): rule_name repeats rules[0]; rule names are unique per model.");
  });
  it('orders the set as the rules store does: priority, then name', () => {
    const r = alternativeRules(
      [
        { rule_name: 'b', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.2 } },
        { rule_name: 'a', rule_category: 'stop_loss', enforcement_params: { stop_loss_pct: 0.1 }, priority: 7 },
        { rule_name: 'c', rule_category: 'stop_loss', enforcement_params: { stop_loss_pct: 0.1 } },
      ],
      parse,
    );
    expect(r.ok && r.rules.map((x) => x.ruleName)).toEqual(['a', 'b', 'c']);
  });
});

describe('suggestions', () => {
  it('worst day: the last value of each New York date against the previous date (by hand)', () => {
    const pts = [
      { clock: '2025-03-03T14:30:00.000Z', value: 100 },
      { clock: '2025-03-03T20:59:00.000Z', value: 110 },
      { clock: '2025-03-04T14:30:00.000Z', value: 120 },
      { clock: '2025-03-04T20:59:00.000Z', value: 99 },
      { clock: '2025-03-05T20:59:00.000Z', value: 100 },
    ];
    const w = worstDay(pts)!;
    expect(w.date).toBe('2025-03-04');
    expect(w.return).toBeCloseTo(99 / 110 - 1, 15);
  });

  it('judge: drops a rule that saves no drawdown, or costs more return than it saves', () => {
    const before = { total_return: -0.1, max_drawdown: -0.2, sharpe: null, round_trips: 3, worst_day: -0.05 };
    expect(judge(before, { ...before }).keep).toBe(false);
    const costly = judge(before, { ...before, total_return: -0.3, max_drawdown: -0.15 });
    expect(costly).toMatchObject({ keep: false, why: 'it costs 20.0% of return to save 5.0%' });
    const good = judge(before, { ...before, total_return: -0.02, max_drawdown: -0.03 });
    expect(good.keep).toBe(true);
    expect(good.score).toBeCloseTo(0.08 + 0.17, 12);
  });

  it('alreadyHas: the same or a tighter level of the same limit, for every symbol', () => {
    const rule = (p: Record<string, unknown>, cat: RuleRecord['ruleCategory'] = 'position_sizing', only: string[] | null = null): RuleRecord => ({
      ruleId: '1', ruleName: 'r', ruleCategory: cat, enforcementParams: p, appliesToSymbols: only, excludeSymbols: null, priority: 5, isActive: true,
    });
    const cap = (v: number) => ({ rule_name: 'c', rule_description: '', rule_category: 'position_sizing' as const, enforcement_params: { max_position_pct: v }, priority: 5 });
    expect(alreadyHas([rule({ max_position_pct: 0.1 })], cap(0.2))).toBe(true);
    expect(alreadyHas([rule({ max_position_pct: 0.2 })], cap(0.2))).toBe(true);
    expect(alreadyHas([rule({ max_position_pct: 0.3 })], cap(0.2))).toBe(false);
    expect(alreadyHas([rule({ max_position_pct: 0.1 }, 'position_sizing', ['AAPL'])], cap(0.2))).toBe(false);
    const cash = { rule_name: 'c', rule_description: '', rule_category: 'risk' as const, enforcement_params: { min_cash_reserve_pct: 0.1 }, priority: 5 };
    expect(alreadyHas([rule({ min_cash_reserve_pct: 0.2 }, 'risk')], cash)).toBe(true);
    expect(alreadyHas([rule({ min_cash_reserve_pct: 0.05 }, 'risk')], cash)).toBe(false);
  });

  it('detect: a concentration finding offers only caps below the weight reached; no time-of-day cluster on daily steps', () => {
    const facts: RunFacts = {
      points: [{ clock: '2025-03-03T14:30:00.000Z', value: 100_000 }],
      maxDrawdown: { depth: -0.01, peak: null, valley: null, recovery: null, durationPeriods: null },
      exposure: { maxWeight: 0.27, maxWeightSymbol: 'AAPL', maxWeightClock: '2025-03-04T14:30:00.000Z', minCashPct: 0.5, minCashClock: null, lowCashPoints: 0, points: 5 },
      trips: [1, 2, 3].map((i) => ({ symbol: 'AAPL', entry_time: `2025-03-0${i}T14:30:00.000Z`, exit_time: `2025-03-0${i + 1}T14:30:00.000Z`, pnl: -100, mae_pct: 0.01 })),
      orders: [],
      tradingDays: 5,
      intraday: false,
    };
    const found = detect(facts);
    const conc = found.find((f) => f.kind === 'concentration')!;
    expect(conc.text).toBe('AAPL reached 27.0% of the account at 2025-03-04T14:30:00.000Z.');
    expect(conc.candidates.map((c) => c.enforcement_params.max_position_pct)).toEqual([0.1, 0.2]);
    expect(found.some((f) => f.kind === 'loss_cluster')).toBe(false);
    expect(found.find((f) => f.kind === 'loss_streak')!.evidence).toEqual({ longest_streak: 3, ended: '2025-03-04T14:30:00.000Z' });
    expect(detect({ ...facts, intraday: true }).some((f) => f.kind === 'loss_cluster')).toBe(true);
  });
});
