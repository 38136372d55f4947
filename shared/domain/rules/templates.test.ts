import { describe, expect, it } from 'vitest';
import { evaluateOrder, exitSignals, flattenBy, MAX_POSITION_PCT } from './engine.js';
import { nyToUtc } from '../ny-time.js';
import { parseEnforcementParams } from './schema.js';
import { TEMPLATE_NAMES, TEMPLATES } from './templates.js';
import type { RuleRecord } from '../types.js';

function records(name: keyof typeof TEMPLATES): RuleRecord[] {
  return TEMPLATES[name].rules.map((r, i) => ({
    ruleId: `${name}-${i}`,
    ruleName: r.rule_name,
    ruleCategory: r.rule_category,
    enforcementParams: r.enforcement_params,
    appliesToSymbols: null,
    excludeSymbols: null,
    priority: r.priority,
    isActive: true,
  }));
}

describe('templates', () => {
  it('has the four templates', () => {
    expect(Object.keys(TEMPLATES).sort()).toEqual([...TEMPLATE_NAMES].sort());
  });

  it.each(TEMPLATE_NAMES)('%s: every rule is valid, named uniquely, prioritised 1–10 and explained', (name) => {
    const t = TEMPLATES[name];
    expect(t.description.length).toBeGreaterThan(80);
    const names = t.rules.map((r) => r.rule_name);
    expect(new Set(names).size).toBe(names.length);
    for (const r of t.rules) {
      const parsed = parseEnforcementParams(r.rule_category, r.enforcement_params);
      expect(parsed, `${name} / ${r.rule_name}`).toEqual({ ok: true, params: r.enforcement_params });
      expect(Number.isInteger(r.priority) && r.priority >= 1 && r.priority <= 10).toBe(true);
      expect(r.rule_name.length).toBeLessThanOrEqual(100);
      expect(r.rule_description.length).toBeGreaterThan(0);
    }
  });

  it('day_trader is exactly the documented rule set', () => {
    const merged: Record<string, unknown> = {};
    for (const r of TEMPLATES.day_trader.rules) Object.assign(merged, r.enforcement_params);
    expect(merged).toEqual({
      max_position_pct: 0.2,
      max_positions: 3,
      daily_loss_limit_pct: 0.03,
      stop_loss_pct: 0.015,
      take_profit_pct: 0.025,
      blackout_windows: [
        { start: '09:30', end: '09:35' },
        { start: '12:00', end: '14:00' },
      ],
      flatten_by: '15:55',
    });
  });

  it('day_trader enforces through the engine', () => {
    const rules = records('day_trader');
    const pf = { cashCents: 1_000_000, positions: [], dayStartValueCents: 1_000_000, peakValueCents: 1_000_000, tradesToday: 0, tradesInRun: 0 };
    const v = evaluateOrder({ side: 'buy', symbol: 'IBM', quantity: 10, price: 245 }, pf, nyToUtc('2025-03-10', '10:00'), rules);
    expect(v.map((x) => [x.code, x.ruleName])).toEqual([[MAX_POSITION_PCT, 'Max 20% per position']]);
    const ibm = { symbol: 'IBM', quantity: 10, avgCost: 100, price: 99 };
    const bar = { t: '2025-03-10T15:00:00Z', o: 99, h: 99, l: 98.4, c: 98.6, v: 1 };
    expect(exitSignals({ position: ibm, bar, clock: nyToUtc('2025-03-10', '11:00'), rules })[0]).toMatchObject({
      code: 'STOP_LOSS', ruleName: 'Stop loss 1.5%', price: 98.5,
    });
    expect(flattenBy(nyToUtc('2025-03-10', '15:55'), [ibm], rules)[0]).toMatchObject({ ruleName: 'Flatten by 15:55' });
  });
});
