import { describe, expect, it } from 'vitest';
import { hhmmToMinutes, nyLocal, nyOffsetMs, nyToUtc } from './ny-time.js';

describe('ny-time', () => {
  it('converts both sides of daylight saving', () => {
    expect(nyToUtc('2025-01-15', '09:30').toISOString()).toBe('2025-01-15T14:30:00.000Z');
    expect(nyToUtc('2025-07-15', '09:30').toISOString()).toBe('2025-07-15T13:30:00.000Z');
    expect(nyToUtc('2025-03-09', '09:30').toISOString()).toBe('2025-03-09T13:30:00.000Z');
    expect(nyToUtc('2025-11-02', '09:30').toISOString()).toBe('2025-11-02T14:30:00.000Z');
  });
  it('reads New York wall time', () => {
    const l = nyLocal(new Date('2025-06-10T13:30:00Z'));
    expect(l).toEqual({ date: '2025-06-10', hhmm: '09:30', minutes: 570, weekday: 2 });
    expect(hhmmToMinutes('15:55')).toBe(955);
  });
  it('gives the offset from UTC on both sides of a DST switch (2025-03-09 07:00 UTC, 2025-11-02 06:00 UTC)', () => {
    const H = 3_600_000;
    expect(nyOffsetMs(Date.parse('2025-03-09T06:59:00Z'))).toBe(-5 * H);
    expect(nyOffsetMs(Date.parse('2025-03-09T07:00:00Z'))).toBe(-4 * H);
    expect(nyOffsetMs(Date.parse('2025-11-02T05:59:59Z'))).toBe(-4 * H);
    expect(nyOffsetMs(Date.parse('2025-11-02T06:00:00Z'))).toBe(-5 * H);
    const t = Date.parse('2025-06-10T13:30:00Z');
    expect(new Date(t + nyOffsetMs(t)).toISOString()).toBe('2025-06-10T09:30:00.000Z');
  });
});
