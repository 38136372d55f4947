// The risk score on hand-made inputs: each contribution worked out by hand from RISK_FACTOR_TABLE.
import { describe, expect, it } from 'vitest';
import { RISK_FACTOR_TABLE, RISK_FACTORS, riskBand, riskRaw, riskScore, scoreFromRaw, type RiskFacts } from './risk-score.js';
import { annualizedVolatility } from './metrics.js';

describe('risk score', () => {
  it('weights sum to 1 and every factor has calm < extreme', () => {
    expect(RISK_FACTORS.reduce((s, n) => s + RISK_FACTOR_TABLE[n].weight, 0)).toBeCloseTo(1, 12);
    for (const n of RISK_FACTORS) expect(RISK_FACTOR_TABLE[n].extreme).toBeGreaterThan(RISK_FACTOR_TABLE[n].calm);
  });

  it('adds the contributions worked out by hand', () => {
    const s = scoreFromRaw({
      concentration: 0.97, // (0.97 − 0.1) / 0.7 > 1 → 1 × 0.30 = 30
      drawdown: 0.12, // 0.12 / 0.3 = 0.4 × 0.15 = 6
      gross_exposure: 0.9, // (0.9 − 0.3) / 1.2 = 0.5 × 0.10 = 5
      loss_streak: 3, // 3 / 6 = 0.5 × 0.075 = 3.75
      trading_pace: 0, // 0
      rule_violation_attempts: 0, // 0
      equity_volatility: 0.35, // (0.35 − 0.1) / 0.5 = 0.5 × 0.075 = 3.75
      rule_coverage: 3, // 3 / 3 = 1 × 0.15 = 15
    });
    expect(s.factors.map((f) => [f.name, f.contribution])).toEqual([
      ['concentration', 30],
      ['drawdown', 6],
      ['gross_exposure', 5],
      ['loss_streak', 3.75],
      ['trading_pace', 0],
      ['rule_violation_attempts', 0],
      ['equity_volatility', 3.75],
      ['rule_coverage', 15],
    ]);
    expect(s.score).toBe(63.5);
    expect(s.band).toBe('high');
    expect(s.top).toEqual(['concentration', 'rule_coverage', 'drawdown']);
  });

  it('is 0 when every factor is calm, 100 when every factor is extreme', () => {
    const calm = Object.fromEntries(RISK_FACTORS.map((n) => [n, RISK_FACTOR_TABLE[n].calm])) as any;
    const extreme = Object.fromEntries(RISK_FACTORS.map((n) => [n, RISK_FACTOR_TABLE[n].extreme * 2])) as any;
    expect(scoreFromRaw(calm).score).toBe(0);
    expect(scoreFromRaw(extreme).score).toBe(100);
    expect([riskBand(24.9), riskBand(25), riskBand(74.9), riskBand(75)]).toEqual(['calm', 'elevated', 'high', 'extreme']);
  });

  it('reads the raw factors from run facts', () => {
    const f: RiskFacts = {
      timespan: 'day',
      initial_cash: 10_000,
      // $10,000 → $9,500 → $8,800 → $9,030: current drawdown 1 − 9,030 / 10,000 = 9.7%
      equity: [
        { clock: '2025-06-10T13:30:00.000Z', value: 10_000 },
        { clock: '2025-06-11T20:00:00.000Z', value: 9_500 },
        { clock: '2025-06-12T20:00:00.000Z', value: 8_800 },
        { clock: '2025-06-13T20:00:00.000Z', value: 9_030 },
      ],
      fills: [{ fill_id: 1, order_id: 1, symbol: 'XYZ', side: 'buy', quantity: 97, price: 100, notional_cents: 970_000, commission_cents: 0, slippage_cents: 0, clock: '2025-06-10T13:30:00.000Z' }],
      orders: [
        { order_id: 1, clock: '2025-06-10T13:30:00.000Z', side: 'buy', symbol: 'XYZ', quantity: 97, status: 'filled', source: 'agent', price: 100, rejections: [] },
        { order_id: 2, clock: '2025-06-10T13:30:10.000Z', side: 'buy', symbol: 'XYZ', quantity: 5, status: 'rejected', source: 'agent', price: null, rejections: [{ source: 'rule', code: 'MAX_ORDER_QTY', rule_name: 'Small', message: 'x' }] },
      ],
      round_trips: [],
      marks: [{ symbol: 'XYZ', quantity: 97, price: 90 }],
      as_of: '2025-06-13T20:00:00.000Z',
      // the highest weight at the equity points (domain/concentration.ts): 97 × $100 of $10,000
      concentration: [{ symbol: 'XYZ', weight: 0.97, clock: '2025-06-10T13:30:00.000Z', portfolio_value: 10_000 }],
      max_orders_per_minute: 4,
      rules: [{ rule_category: 'position_sizing', enforcement_params: { max_order_qty: 100 } }],
    };
    const { raw, missing } = riskRaw(f);
    expect(raw.concentration).toBe(0.97);
    expect(raw.drawdown).toBeCloseTo(0.097, 12);
    expect(raw.gross_exposure).toBeCloseTo(8_730 / 9_030, 12);
    // two agent orders in the 13:30 minute against 4 per minute
    expect(raw.trading_pace).toBe(0.5);
    expect(raw.rule_violation_attempts).toBe(1);
    // returns −5%, −7.368…%, +2.613…%: std (ddof 1) × √252, the same formula as calculate_metrics
    const r = [9_500 / 10_000 - 1, 8_800 / 9_500 - 1, 9_030 / 8_800 - 1];
    const m = r.reduce((a, b) => a + b) / 3;
    expect(raw.equity_volatility).toBeCloseTo(Math.sqrt(r.reduce((a, x) => a + (x - m) ** 2, 0) / 2) * Math.sqrt(252), 12);
    expect(raw.equity_volatility).toBeCloseTo(annualizedVolatility(r, 252).value!, 12);
    expect(missing).toEqual(['loss limit', 'stop']);
    expect(raw.rule_coverage).toBe(2);
    const s = riskScore(f);
    expect(s.top[0]).toBe('concentration');
    expect(riskScore(f)).toEqual(s);
  });
});
