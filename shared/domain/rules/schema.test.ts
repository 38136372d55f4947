import { describe, expect, it } from 'vitest';
import {
  allowedFields,
  ENFORCED_CATEGORIES,
  parseEnforcementParams,
  RULE_CATEGORIES,
  ruleCategorySchema,
  ruleFieldsSchema,
  ruleUpdateFieldsSchema,
} from './schema.js';

function refuse(category: Parameters<typeof parseEnforcementParams>[0], params: unknown): string {
  const r = parseEnforcementParams(category, params);
  if (r.ok) throw new Error(`expected refusal for ${JSON.stringify(params)}`);
  // One sentence: ends with a period, no line breaks.
  expect(r.error).toMatch(/\.$/);
  expect(r.error).not.toMatch(/\n/);
  return r.error;
}

describe('parseEnforcementParams: accepts', () => {
  it.each([
    ['position_sizing', { max_position_pct: 1, max_order_value: 2500.5, max_order_qty: 100, risk_per_trade_pct: 0.01 }],
    ['risk', { max_positions: 3, min_cash_reserve_pct: 0, max_trades_per_run: 10, max_trades_per_day: 5, daily_loss_limit_pct: 0.03, daily_loss_limit_abs: 300, max_drawdown_pct: 0.2 }],
    ['risk', { min_cash_reserve_pct: 1 }],
    ['timing', { blackout_windows: [{ start: '09:30', end: '09:35' }], trading_hours: { start: '00:00', end: '23:59' }, no_new_positions_after: '15:00', flatten_by: '15:55' }],
    ['screening', { allowed_symbols: ['AAPL', 'BRK.B'], denied_symbols: ['GME'] }],
    ['stop_loss', { stop_loss_pct: 0.015, take_profit_pct: 10, trailing_stop_pct: 0.99 }],
    ['strategy', { guidance: 'Buy the dip.' }],
    ['entry_exit', { guidance: 'x'.repeat(10_000) }],
  ] as const)('%s %j', (category, params) => {
    const r = parseEnforcementParams(category, params);
    expect(r).toEqual({ ok: true, params });
  });
});

describe('parseEnforcementParams: refuses with a sentence naming the field', () => {
  it('percentage above 1', () => {
    expect(refuse('position_sizing', { max_position_pct: 20 })).toBe(
      'enforcement_params.max_position_pct must be at most 1 (a fraction: 0.2 means 20%), got 20.',
    );
    expect(refuse('risk', { daily_loss_limit_pct: 1.01 })).toContain('enforcement_params.daily_loss_limit_pct must be at most 1');
    expect(refuse('risk', { min_cash_reserve_pct: 1.5 })).toContain('enforcement_params.min_cash_reserve_pct');
    expect(refuse('stop_loss', { stop_loss_pct: 1 })).toContain('enforcement_params.stop_loss_pct must be less than 1');
    expect(refuse('stop_loss', { take_profit_pct: 10.5 })).toContain('enforcement_params.take_profit_pct must be at most 10');
  });
  it('zero or negative', () => {
    expect(refuse('position_sizing', { max_position_pct: 0 })).toContain('max_position_pct must be greater than 0');
    expect(refuse('position_sizing', { max_order_value: -5 })).toContain('enforcement_params.max_order_value');
    expect(refuse('risk', { max_positions: -1 })).toBe(
      'enforcement_params.max_positions must be a positive whole number of positions, got -1.',
    );
    expect(refuse('risk', { max_trades_per_day: 0 })).toContain('enforcement_params.max_trades_per_day');
    expect(refuse('risk', { min_cash_reserve_pct: -0.1 })).toContain('min_cash_reserve_pct must be at least 0');
  });
  it('non-integer counts and wrong types', () => {
    expect(refuse('position_sizing', { max_order_qty: 1.5 })).toContain('max_order_qty must be a whole number of shares');
    expect(refuse('risk', { max_trades_per_run: '5' })).toBe(
      'enforcement_params.max_trades_per_run must be a whole number of trades, got "5".',
    );
    expect(refuse('position_sizing', { max_position_pct: Number.NaN })).toContain('max_position_pct');
  });
  it('window end before or at start', () => {
    expect(refuse('timing', { blackout_windows: [{ start: '09:30', end: '09:00' }] })).toBe(
      'enforcement_params.blackout_windows[0].end (09:00) must be after start (09:30).',
    );
    expect(refuse('timing', { blackout_windows: [{ start: '09:30', end: '09:35' }, { start: '12:00', end: '12:00' }] })).toBe(
      'enforcement_params.blackout_windows[1].end (12:00) must be after start (12:00).',
    );
    expect(refuse('timing', { trading_hours: { start: '16:00', end: '09:30' } })).toBe(
      'enforcement_params.trading_hours.end (09:30) must be after start (16:00).',
    );
  });
  it('malformed HH:MM', () => {
    expect(refuse('timing', { flatten_by: '9:5' })).toBe(
      'enforcement_params.flatten_by must be a 24-hour time "HH:MM" (00:00 to 23:59, New York time), got "9:5".',
    );
    expect(refuse('timing', { no_new_positions_after: '25:00' })).toContain('enforcement_params.no_new_positions_after must be a 24-hour time');
    expect(refuse('timing', { flatten_by: '12:60' })).toContain('flatten_by');
    expect(refuse('timing', { flatten_by: '24:00' })).toContain('flatten_by');
    expect(refuse('timing', { blackout_windows: [{ start: '9:30', end: '10:00' }] })).toContain(
      'enforcement_params.blackout_windows[0].start must be a 24-hour time',
    );
    expect(refuse('timing', { blackout_windows: [] })).toContain('blackout_windows must list at least one window');
  });
  it('unknown key', () => {
    expect(refuse('position_sizing', { max_pos: 0.2 })).toBe(
      "enforcement_params has an unknown field 'max_pos' for category position_sizing (allowed: max_position_pct, max_order_value, max_order_qty, risk_per_trade_pct, downsize).",
    );
    // Unknown keys are reported before other problems, and inside nested objects.
    expect(refuse('risk', { max_positions: -1, max_postions: 3 })).toContain("unknown field 'max_postions'");
    expect(refuse('timing', { trading_hours: { start: '09:30', end: '16:00', tz: 'UTC' } })).toBe(
      "enforcement_params.trading_hours has an unknown field 'tz' (allowed: start, end).",
    );
    expect(refuse('strategy', { guidance: 'x', max_position_pct: 0.1 })).toContain("unknown field 'max_position_pct' for category strategy");
  });
  it('tickers', () => {
    expect(refuse('screening', { allowed_symbols: ['AAPL', 'msft'] })).toBe(
      'enforcement_params.allowed_symbols[1] must be an upper-case ticker like AAPL or BRK.B, got "msft".',
    );
    expect(refuse('screening', { denied_symbols: [] })).toContain('denied_symbols must list at least one ticker');
    expect(refuse('screening', { allowed_symbols: ['AAPL'], denied_symbols: ['AAPL'] })).toContain(
      'enforcement_params.denied_symbols lists AAPL, which allowed_symbols also lists',
    );
  });
  it('at least one parameter, an object, a known category', () => {
    expect(refuse('risk', {})).toBe(
      'enforcement_params for category risk needs at least one of: max_positions, min_cash_reserve_pct, max_trades_per_run, max_trades_per_day, daily_loss_limit_pct, daily_loss_limit_abs, max_drawdown_pct, cooldown_after_losses, cooldown_minutes, halt_after_losses.',
    );
    for (const c of RULE_CATEGORIES) expect(refuse(c, {})).toContain(`category ${c} needs at least one of`);
    expect(refuse('strategy', { guidance: '   ' })).toContain('enforcement_params.guidance must not be empty');
    expect(refuse('entry_exit', { guidance: 'x'.repeat(10_001) })).toContain('at most 10,000 characters');
    expect(refuse('risk', [1])).toContain('enforcement_params must be an object');
    expect(refuse('risk', null)).toContain('enforcement_params must be an object');
    expect(refuse('bogus' as never, { a: 1 })).toContain("rule_category 'bogus' is not one of");
  });
});

describe('categories and rule fields', () => {
  it('lists the categories', () => {
    expect(RULE_CATEGORIES).toHaveLength(7);
    expect(ENFORCED_CATEGORIES).not.toContain('strategy');
    expect(ruleCategorySchema.safeParse('timing').success).toBe(true);
    expect(ruleCategorySchema.safeParse('vibes').success).toBe(false);
    expect(allowedFields('stop_loss')).toEqual(['stop_loss_pct', 'take_profit_pct', 'trailing_stop_pct']);
  });
  it('fills defaults and checks bounds', () => {
    const r = ruleFieldsSchema.parse({
      rule_name: 'Max 20% per position',
      rule_category: 'position_sizing',
      enforcement_params: { max_position_pct: 0.2 },
    });
    expect(r).toMatchObject({ priority: 5, is_active: true, created_by: 'user', rule_description: '' });
    const bad = (over: object) =>
      ruleFieldsSchema.safeParse({ rule_name: 'x', rule_category: 'risk', enforcement_params: {}, ...over }).success;
    expect(bad({ priority: 11 })).toBe(false);
    expect(bad({ priority: 0 })).toBe(false);
    expect(bad({ priority: 2.5 })).toBe(false);
    expect(bad({ rule_name: '' })).toBe(false);
    expect(bad({ rule_name: 'x'.repeat(101) })).toBe(false);
    expect(bad({ rule_description: 'x'.repeat(2001) })).toBe(false);
    expect(bad({ applies_to_symbols: ['aapl'] })).toBe(false);
    expect(bad({ exclude_symbols: Array.from({ length: 501 }, () => 'A') })).toBe(false);
    expect(bad({ created_by: 'robot' })).toBe(false);
    expect(bad({ applies_to_symbols: ['AAPL'], exclude_symbols: ['MSFT'], created_by: 'template' })).toBe(true);
  });
  it('update fields have no defaults', () => {
    expect(ruleUpdateFieldsSchema.parse({ priority: 7 })).toEqual({ priority: 7 });
    expect(ruleUpdateFieldsSchema.parse({ applies_to_symbols: null })).toEqual({ applies_to_symbols: null });
  });
});
