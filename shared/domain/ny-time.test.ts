import { describe, expect, it } from 'vitest';
import { hhmmToMinutes, nyLocal, nyLocalIntl, nyOffsetMs, nyToUtc, utcIso } from './ny-time.js';

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

describe('ny-time cache', () => {
  it('agrees with Intl (the reference) on every minute around both 2025 switches and on random instants', () => {
    const check = (ms: number) => expect(nyLocal(new Date(ms)), new Date(ms).toISOString()).toEqual(nyLocalIntl(new Date(ms)));
    for (const around of ['2025-03-09T07:00:00Z', '2025-11-02T06:00:00Z']) {
      const t = Date.parse(around);
      for (let ms = t - 3 * 3_600_000; ms <= t + 3 * 3_600_000; ms += 60_000) check(ms);
    }
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 5000; i++) check(Math.floor(Date.UTC(1970, 0, 1) + rand() * (Date.UTC(2100, 11, 31) - Date.UTC(1970, 0, 1))));
  });
  it('keeps the New York day and weekday across UTC midnight', () => {
    expect(nyLocal(new Date('2025-06-11T03:59:00Z'))).toEqual({ date: '2025-06-10', hhmm: '23:59', minutes: 1439, weekday: 2 });
  });
});

describe('utcIso', () => {
  it('is Date.prototype.toISOString (the reference) on day edges, every minute of a day and random instants', () => {
    const check = (ms: number) => expect(utcIso(ms), String(ms)).toBe(new Date(ms).toISOString());
    for (const t of [0, 1, 999, 86_399_999, 86_400_000, Date.parse('2025-03-10T23:59:59.999Z'), Date.parse('2000-02-29T12:00:00Z'), 253_402_300_799_999]) check(t);
    const start = Date.parse('2025-03-10T00:00:00Z');
    for (let m = 0; m <= 1440; m++) check(start + m * 60_000);
    let seed = 7;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      check(Math.floor((seed / 2_147_483_648) * 4_102_444_800_000));
    }
    // outside the fast path: before 1970, past 9999, fractions
    for (const t of [0, 1.5, 86_400_000.25, -1, -86_400_001, 253_402_300_800_000]) check(t);
  });
});
