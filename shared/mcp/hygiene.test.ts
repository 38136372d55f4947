// Input hygiene at the schema, metric label safety, and the simulated market's range: pure.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SIMULATED_FIRST_DATE, simulatedBars, simulatedDailyRange } from '../domain/simulated-market.js';
import { escapeLabel, Metrics } from './metrics.js';
import { refuseControlCharacters, timeSchema } from './schemas.js';

const input = z
  .object({ name: z.string(), content: z.string().optional(), context: z.record(z.string(), z.unknown()).optional(), tags: z.array(z.string()).optional() })
  .strict()
  .superRefine(refuseControlCharacters);

const issues = (v: unknown) => {
  const r = input.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('text fields refuse control characters', () => {
  it('refuses NUL anywhere, naming the field', () => {
    expect(issues({ name: 'a\u0000b' })).toEqual(['name: must not contain control characters such as NUL, newline or tab.']);
    expect(issues({ name: 'ok', tags: ['x', 'y\u0000'] })).toEqual(['tags.1: must not contain control characters such as NUL, newline or tab.']);
    expect(issues({ name: 'ok', context: { deep: { v: '\u0000' } } })).toEqual(['context.deep.v: must not contain control characters such as NUL (newline and tab are allowed).']);
    expect(issues({ name: 'ok', context: { 'k\u0000': 1 } })).toEqual(['context.k\u0000: a key must not contain control characters such as NUL.']);
    expect(issues({ name: 'ok', content: 'bell\u0007' })).toHaveLength(1);
    expect(issues({ name: 'ok', content: 'del\u007f' })).toHaveLength(1);
  });
  it('allows newline and tab in free text only', () => {
    expect(issues({ name: 'ok', content: 'line one\n\tline two\r\n' })).toEqual([]);
    expect(issues({ name: 'two\nlines' })).toHaveLength(1);
    expect(issues({ name: 'ünïcode ✓ 😀' })).toEqual([]);
  });
});

describe('instants and dates are bounded', () => {
  const ok = (s: string) => timeSchema.safeParse(s).success;
  it('accepts 1970-01-01 … 2100-12-31', () => {
    expect(ok('1970-01-01')).toBe(true);
    expect(ok('2100-12-31')).toBe(true);
    expect(ok('2100-12-31T23:59:59.999Z')).toBe(true);
    expect(ok('2025-06-10T13:30:00Z')).toBe(true);
  });
  it('refuses dates outside with a sentence', () => {
    for (const s of ['1000-01-01', '-000001-01-01', '9999-12-31', '1969-12-31T23:59:59Z', '2101-01-01', '+275760-09-13T00:00:00Z']) {
      const r = timeSchema.safeParse(s);
      expect(r.success, s).toBe(false);
      expect(r.error!.issues[0]!.message).toBe('must lie between 1970-01-01 and 2100-12-31.');
    }
    expect(timeSchema.safeParse('not a date').error!.issues).toHaveLength(1);
  });
});

describe('metrics', () => {
  it('escapes label values and counts unknown tools as unknown', () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const m = new Metrics();
    m.knowTools('price', ['get_price']);
    m.recordCall('price', 'get_price', 'ok', 1);
    for (let i = 0; i < 5000; i++) m.recordCall('price', `evil"} 1\naibt_fake{x="${i}`, 'error', 1);
    const text = m.render('price', 0);
    expect(text).toContain('aibt_tool_calls_total{server="price",tool="get_price",outcome="ok"} 1');
    expect(text).toContain('aibt_tool_calls_total{server="price",tool="unknown",outcome="error"} 5000');
    expect(text).not.toContain('aibt_fake');
    expect(text.length).toBeLessThan(20_000);
  });
});

describe('the simulated market serves a stated range', () => {
  it(`has no bars before ${SIMULATED_FIRST_DATE}`, () => {
    expect(simulatedBars('AAPL', 'day', '1900-01-03')).toEqual([]);
    expect(simulatedBars('AAPL', 'minute', '1999-12-31')).toEqual([]);
    expect(simulatedBars('AAPL', 'day', SIMULATED_FIRST_DATE)).toHaveLength(1);
    const range = simulatedDailyRange('AAPL', '1999-12-01', '2000-01-05');
    expect(range.map((b) => b.t.slice(0, 10))).toEqual(['2000-01-03', '2000-01-04', '2000-01-05']);
  });
});
