import { describe, expect, it } from 'vitest';
import {
  addDays,
  barEnd,
  dayBarStart,
  firstStep,
  isHalfDay,
  isHoliday,
  isTradingDay,
  lastStep,
  marketStatus,
  nextStep,
  nextTradingDay,
  prevTradingDay,
  replayClock,
  sessionFor,
  tradingDays,
} from './calendar.js';

const iso = (d: Date | null | undefined) => d?.toISOString();

// An independent rule-based NYSE holiday generator, to cross-check the literal table.
function easter(y: number): string {
  const a = y % 19, b = Math.floor(y / 100), c = y % 100, d = Math.floor(b / 4), e = b % 4;
  const f = Math.floor((b + 8) / 25), g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30, i = Math.floor(c / 4), k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7, m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31), day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${y}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
function nthWeekday(y: number, month: number, weekday: number, n: number): string {
  const first = new Date(Date.UTC(y, month - 1, 1)).getUTCDay();
  const day = 1 + ((weekday - first + 7) % 7) + (n - 1) * 7;
  return `${y}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
function lastWeekday(y: number, month: number, weekday: number): string {
  const lastDay = new Date(Date.UTC(y, month, 0));
  const back = (lastDay.getUTCDay() - weekday + 7) % 7;
  return new Date(lastDay.getTime() - back * 86_400_000).toISOString().slice(0, 10);
}
function observed(date: string): string | null {
  const wd = new Date(`${date}T00:00:00Z`).getUTCDay();
  if (wd === 6) return date.endsWith('-01-01') ? null : addDays(date, -1); // NYSE skips Dec 31
  if (wd === 0) return addDays(date, 1);
  return date;
}
function ruleHolidays(y: number): string[] {
  const fixed = [`${y}-01-01`, `${y}-07-04`, `${y}-12-25`];
  if (y >= 2022) fixed.push(`${y}-06-19`);
  const out = fixed.map(observed).filter((d): d is string => d !== null);
  out.push(
    nthWeekday(y, 1, 1, 3), nthWeekday(y, 2, 1, 3), addDays(easter(y), -2), lastWeekday(y, 5, 1),
    nthWeekday(y, 9, 1, 1), nthWeekday(y, 11, 4, 4),
  );
  if (y === 2025) out.push('2025-01-09');
  return out.sort();
}

describe('calendar: holidays and half days', () => {
  it('closes on holidays and one-off closures', () => {
    expect(isTradingDay('2025-07-04')).toBe(false);
    expect(isHoliday('2025-07-04')).toBe(true);
    expect(isTradingDay('2025-01-09')).toBe(false);
    expect(isHoliday('2025-01-09')).toBe(true);
    expect(isTradingDay('2025-04-18')).toBe(false); // Good Friday
    expect(isTradingDay('2026-07-03')).toBe(false); // July 4 2026 observed
    expect(isTradingDay('2027-12-24')).toBe(false); // Christmas 2027 observed
    expect(isTradingDay('2021-12-31')).toBe(true); // New Year 2022 on Saturday: no closure
    expect(isHoliday('2025-07-05')).toBe(false); // weekend, not a holiday
    expect(isTradingDay('2025-07-05')).toBe(false);
    expect(sessionFor('2025-07-04')).toBeNull();
  });

  it('matches a rule-based holiday generator for 2020-2027', () => {
    for (let y = 2020; y <= 2027; y++) {
      const table = tradingHolidays(y);
      expect(table, String(y)).toEqual(ruleHolidays(y));
    }
  });

  it('treats weekdays outside the table years as trading days', () => {
    expect(isTradingDay('2019-07-04')).toBe(true);
    expect(isTradingDay('2028-12-25')).toBe(true);
    expect(isTradingDay('2028-12-23')).toBe(false); // Saturday
  });

  it('has a 13:00 ET half day after Thanksgiving 2025', () => {
    const s = sessionFor('2025-11-28')!;
    expect(s.halfDay).toBe(true);
    expect(iso(s.open)).toBe('2025-11-28T14:30:00.000Z');
    expect(iso(s.close)).toBe('2025-11-28T18:00:00.000Z');
    expect(iso(s.afterClose)).toBe('2025-11-28T22:00:00.000Z');
    expect(iso(lastStep('minute', new Date('2025-11-28T23:00:00Z')))).toBe('2025-11-28T17:59:00.000Z');
    for (const d of ['2024-07-03', '2024-11-29', '2024-12-24', '2025-07-03', '2025-12-24', '2026-11-27', '2026-12-24', '2027-11-26']) {
      expect(isHalfDay(d), d).toBe(true);
    }
    expect(isHalfDay('2026-07-02')).toBe(false);
    expect(isHalfDay('2025-11-26')).toBe(false);
  });
});

describe('calendar: daylight saving', () => {
  it('opens at 13:30Z after the spring switch and 14:30Z the Friday before', () => {
    expect(iso(sessionFor('2025-03-07')!.open)).toBe('2025-03-07T14:30:00.000Z');
    expect(iso(sessionFor('2025-03-07')!.close)).toBe('2025-03-07T21:00:00.000Z');
    expect(iso(sessionFor('2025-03-10')!.open)).toBe('2025-03-10T13:30:00.000Z');
    expect(iso(sessionFor('2025-03-10')!.close)).toBe('2025-03-10T20:00:00.000Z');
    expect(iso(sessionFor('2025-03-10')!.preOpen)).toBe('2025-03-10T08:00:00.000Z');
  });
  it('opens at 14:30Z after the fall switch and 13:30Z the Friday before', () => {
    expect(iso(sessionFor('2025-10-31')!.open)).toBe('2025-10-31T13:30:00.000Z');
    expect(iso(sessionFor('2025-11-03')!.open)).toBe('2025-11-03T14:30:00.000Z');
    expect(iso(sessionFor('2025-11-03')!.afterClose)).toBe('2025-11-04T01:00:00.000Z');
  });
  it('steps over the switch weekend', () => {
    expect(iso(nextStep('day', new Date('2025-03-07T14:30:00Z')))).toBe('2025-03-10T13:30:00.000Z');
    expect(iso(nextStep('minute', new Date('2025-10-31T19:59:00Z')))).toBe('2025-11-03T14:30:00.000Z');
  });
});

describe('calendar: day navigation', () => {
  it('finds next and previous trading days', () => {
    expect(nextTradingDay('2025-07-03')).toBe('2025-07-07');
    expect(prevTradingDay('2025-07-07')).toBe('2025-07-03');
    expect(nextTradingDay('2025-01-08')).toBe('2025-01-10');
    expect(tradingDays('2025-07-01', '2025-07-08')).toEqual([
      '2025-07-01', '2025-07-02', '2025-07-03', '2025-07-07', '2025-07-08',
    ]);
    expect(tradingDays('2025-01-01', '2025-12-31')).toHaveLength(250);
    expect(tradingDays('2024-01-01', '2024-12-31')).toHaveLength(252);
  });
  it('puts a daily bar at the open and ends it at the close', () => {
    expect(iso(dayBarStart('2025-11-28'))).toBe('2025-11-28T14:30:00.000Z');
    expect(iso(barEnd('day', dayBarStart('2025-11-28')))).toBe('2025-11-28T18:00:00.000Z');
    expect(iso(barEnd('minute', new Date('2025-06-10T13:30:00Z')))).toBe('2025-06-10T13:31:00.000Z');
    expect(iso(barEnd('hour', new Date('2025-06-10T13:30:00Z')))).toBe('2025-06-10T14:30:00.000Z');
    expect(iso(barEnd('hour', new Date('2025-06-10T19:30:00Z')))).toBe('2025-06-10T20:00:00.000Z');
    expect(iso(barEnd('hour', new Date('2025-11-28T17:30:00Z')))).toBe('2025-11-28T18:00:00.000Z');
    expect(iso(barEnd('hour', new Date('2025-06-10T23:30:00Z')))).toBe('2025-06-11T00:00:00.000Z');
  });
});

describe('calendar: marketStatus', () => {
  it('reports pre, regular, after and closed', () => {
    // Tuesday 2025-06-10 (EDT)
    expect(marketStatus(new Date('2025-06-10T09:00:00Z'))).toEqual({
      session: 'pre', is_holiday: false,
      next_open: '2025-06-10T13:30:00.000Z', next_close: '2025-06-10T20:00:00.000Z',
    });
    expect(marketStatus(new Date('2025-06-10T13:30:00Z'))).toEqual({
      session: 'regular', is_holiday: false,
      next_open: '2025-06-11T13:30:00.000Z', next_close: '2025-06-10T20:00:00.000Z',
    });
    expect(marketStatus(new Date('2025-06-10T20:00:00Z'))).toEqual({
      session: 'after', is_holiday: false,
      next_open: '2025-06-11T13:30:00.000Z', next_close: '2025-06-11T20:00:00.000Z',
    });
    expect(marketStatus(new Date('2025-06-11T00:30:00Z'))).toEqual({
      session: 'closed', is_holiday: false,
      next_open: '2025-06-11T13:30:00.000Z', next_close: '2025-06-11T20:00:00.000Z',
    });
    expect(marketStatus(new Date('2025-06-10T05:00:00Z')).session).toBe('closed'); // 01:00 ET
  });
  it('reports a weekend and a holiday as closed', () => {
    expect(marketStatus(new Date('2025-06-14T15:00:00Z'))).toEqual({
      session: 'closed', is_holiday: false,
      next_open: '2025-06-16T13:30:00.000Z', next_close: '2025-06-16T20:00:00.000Z',
    });
    expect(marketStatus(new Date('2025-07-04T15:00:00Z'))).toEqual({
      session: 'closed', is_holiday: true,
      next_open: '2025-07-07T13:30:00.000Z', next_close: '2025-07-07T20:00:00.000Z',
    });
    // the half day before: after-hours ends at 17:00 ET
    expect(marketStatus(new Date('2025-07-03T20:30:00Z')).session).toBe('after');
    expect(marketStatus(new Date('2025-07-03T21:30:00Z')).session).toBe('closed');
  });
});

describe('calendar: replay clock', () => {
  it('steps 390 minutes on a full day and 210 on a half day', () => {
    const full = [...replayClock('minute', '2025-06-10', '2025-06-10', 'regular')];
    expect(full).toHaveLength(390);
    expect(iso(full[0])).toBe('2025-06-10T13:30:00.000Z');
    expect(iso(full.at(-1))).toBe('2025-06-10T19:59:00.000Z');
    const half = [...replayClock('minute', '2025-11-28', '2025-11-28', 'regular')];
    expect(half).toHaveLength(210);
    expect(iso(half.at(-1))).toBe('2025-11-28T17:59:00.000Z'); // 12:59 ET
    expect([...replayClock('minute', '2025-06-10', '2025-06-10', 'extended')]).toHaveLength(960);
    expect([...replayClock('minute', '2025-11-28', '2025-11-28', 'extended')]).toHaveLength(780);
  });
  it('steps minutes across weekends and holidays', () => {
    const steps = [...replayClock('minute', '2025-07-03', '2025-07-07')];
    expect(steps).toHaveLength(210 + 390);
    expect(iso(steps[210])).toBe('2025-07-07T13:30:00.000Z');
  });
  it('steps days skipping weekends and holidays', () => {
    const days = [...replayClock('day', '2025-06-30', '2025-07-08')].map((d) => d.toISOString());
    expect(days).toEqual([
      '2025-06-30T13:30:00.000Z', '2025-07-01T13:30:00.000Z', '2025-07-02T13:30:00.000Z',
      '2025-07-03T13:30:00.000Z', '2025-07-07T13:30:00.000Z', '2025-07-08T13:30:00.000Z',
    ]);
    expect([...replayClock('day', '2025-01-01', '2025-12-31')]).toHaveLength(250);
  });
  it('honours ISO instant bounds', () => {
    const steps = [...replayClock('minute', '2025-06-10T14:00:30Z', '2025-06-10T14:05:00Z')];
    expect(steps.map((d) => d.toISOString().slice(11, 16))).toEqual(['14:01', '14:02', '14:03', '14:04', '14:05']);
    expect([...replayClock('day', '2025-06-10T13:31:00Z', '2025-06-12T13:30:00Z')].map(iso)).toEqual([
      '2025-06-11T13:30:00.000Z', '2025-06-12T13:30:00.000Z',
    ]);
    expect(iso(firstStep('minute', new Date('2025-06-10T20:00:00Z')))).toBe('2025-06-11T13:30:00.000Z');
  });
  it('never starts a replay on the close: a start inside the last minute goes to the next session', () => {
    expect(iso(firstStep('minute', new Date('2025-06-10T19:59:30Z')))).toBe('2025-06-11T13:30:00.000Z');
    expect(iso(firstStep('minute', new Date('2025-07-03T16:59:59.500Z')))).toBe('2025-07-07T13:30:00.000Z'); // half day, holiday, weekend
    expect(iso(firstStep('minute', new Date('2025-06-10T19:59:00Z')))).toBe('2025-06-10T19:59:00.000Z');
    expect([...replayClock('minute', '2025-06-10T19:58:30Z', '2025-06-11T13:31:00Z')].map(iso)).toEqual([
      '2025-06-10T19:59:00.000Z', '2025-06-11T13:30:00.000Z', '2025-06-11T13:31:00.000Z',
    ]);
    expect(iso(lastStep('day', new Date('2025-06-14T12:00:00Z')))).toBe('2025-06-13T13:30:00.000Z');
  });
  it('replays a year of minutes lazily and quickly', () => {
    const started = performance.now();
    let n = 0;
    for (const _ of replayClock('minute', '2025-01-01', '2025-12-31')) n++;
    expect(n).toBe(247 * 390 + 3 * 210);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

function tradingHolidays(y: number): string[] {
  const out: string[] = [];
  for (let d = `${y}-01-01`; d.startsWith(String(y)); d = addDays(d, 1)) if (isHoliday(d)) out.push(d);
  return out;
}
