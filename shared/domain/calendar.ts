// US equity (NYSE) trading calendar in America/New_York: holidays, half days, sessions,
// market status and the clock a replay steps through. Pure: every instant is an argument.

import type { Timespan } from './types.js';
import { nyLocal, nyToUtc } from './ny-time.js';

/** Years the holiday and half-day tables cover. Outside them every weekday is a full trading day. */
export const CALENDAR_FIRST_YEAR = 2020;
export const CALENDAR_LAST_YEAR = 2027;

// NYSE full-day closures on weekdays (observed dates), from the exchange's published calendars.
const HOLIDAYS: ReadonlySet<string> = new Set([
  // 2020
  '2020-01-01', '2020-01-20', '2020-02-17', '2020-04-10', '2020-05-25', '2020-07-03',
  '2020-09-07', '2020-11-26', '2020-12-25',
  // 2021 (Juneteenth not yet observed; New Year 2022 fell on a Saturday: no Dec 31 closure)
  '2021-01-01', '2021-01-18', '2021-02-15', '2021-04-02', '2021-05-31', '2021-07-05',
  '2021-09-06', '2021-11-25', '2021-12-24',
  // 2022
  '2022-01-17', '2022-02-21', '2022-04-15', '2022-05-30', '2022-06-20', '2022-07-04',
  '2022-09-05', '2022-11-24', '2022-12-26',
  // 2023
  '2023-01-02', '2023-01-16', '2023-02-20', '2023-04-07', '2023-05-29', '2023-06-19',
  '2023-07-04', '2023-09-04', '2023-11-23', '2023-12-25',
  // 2024
  '2024-01-01', '2024-01-15', '2024-02-19', '2024-03-29', '2024-05-27', '2024-06-19',
  '2024-07-04', '2024-09-02', '2024-11-28', '2024-12-25',
  // 2025 (Jan 9: National Day of Mourning for President Carter)
  '2025-01-01', '2025-01-09', '2025-01-20', '2025-02-17', '2025-04-18', '2025-05-26',
  '2025-06-19', '2025-07-04', '2025-09-01', '2025-11-27', '2025-12-25',
  // 2026
  '2026-01-01', '2026-01-19', '2026-02-16', '2026-04-03', '2026-05-25', '2026-06-19',
  '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25',
  // 2027 (New Year 2028 falls on a Saturday: no Dec 31 closure)
  '2027-01-01', '2027-01-18', '2027-02-15', '2027-03-26', '2027-05-31', '2027-06-18',
  '2027-07-05', '2027-09-06', '2027-11-25', '2027-12-24',
]);

// Early closes at 13:00 ET (after-hours end 17:00).
const HALF_DAYS: ReadonlySet<string> = new Set([
  '2020-11-27', '2020-12-24',
  '2021-11-26',
  '2022-11-25',
  '2023-07-03', '2023-11-24',
  '2024-07-03', '2024-11-29', '2024-12-24',
  '2025-07-03', '2025-11-28', '2025-12-24',
  '2026-11-27', '2026-12-24',
  '2027-11-26',
]);

export interface Session {
  /** YYYY-MM-DD in New York */
  date: string;
  /** 09:30 ET */
  open: Date;
  /** 16:00 ET, or 13:00 ET on a half day */
  close: Date;
  /** 04:00 ET */
  preOpen: Date;
  /** 20:00 ET, or 17:00 ET on a half day */
  afterClose: Date;
  halfDay: boolean;
}

export type SessionKind = 'regular' | 'extended';

export interface MarketStatus {
  session: 'pre' | 'regular' | 'after' | 'closed';
  is_holiday: boolean;
  /** ISO instant of the next regular open at or after `at` (the following day's if regular now). */
  next_open: string;
  /** ISO instant of the current regular session's close if open, else of the session at next_open. */
  next_close: string;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

function parseDate(date: string): number {
  if (!DATE_RE.test(date)) throw new Error(`invalid date "${date}" (want YYYY-MM-DD)`);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d);
}

function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The calendar date `n` days after `date`. */
export function addDays(date: string, n: number): string {
  return formatDate(parseDate(date) + n * DAY_MS);
}

function isWeekend(date: string): boolean {
  const wd = new Date(parseDate(date)).getUTCDay();
  return wd === 0 || wd === 6;
}

/** A weekday on which the exchange is fully closed. */
export function isHoliday(date: string): boolean {
  return !isWeekend(date) && HOLIDAYS.has(date);
}

export function isHalfDay(date: string): boolean {
  return HALF_DAYS.has(date) && isTradingDay(date);
}

export function isTradingDay(date: string): boolean {
  return !isWeekend(date) && !HOLIDAYS.has(date);
}

// nyToUtc goes through Intl; replays ask for the same few sessions over and over.
const sessionCache = new Map<string, Session | null>();

export function sessionFor(date: string): Session | null {
  const hit = sessionCache.get(date);
  if (hit !== undefined) return hit;
  let s: Session | null = null;
  if (isTradingDay(date)) {
    const halfDay = HALF_DAYS.has(date);
    // Clocks change at 02:00, so 04:00..20:00 share one UTC offset: derive all from the open.
    const open = nyToUtc(date, '09:30').getTime();
    const at = (minutesFromOpen: number) => new Date(open + minutesFromOpen * MINUTE_MS);
    s = {
      date,
      open: at(0),
      close: at(halfDay ? 210 : 390),
      preOpen: at(-330),
      afterClose: at(halfDay ? 450 : 630),
      halfDay,
    };
  }
  if (sessionCache.size > 20_000) sessionCache.clear();
  sessionCache.set(date, s);
  return s;
}

/** The first trading day strictly after `date`. */
export function nextTradingDay(date: string): string {
  let d = addDays(date, 1);
  while (!isTradingDay(d)) d = addDays(d, 1);
  return d;
}

/** The last trading day strictly before `date`. */
export function prevTradingDay(date: string): string {
  let d = addDays(date, -1);
  while (!isTradingDay(d)) d = addDays(d, -1);
  return d;
}

/** Trading days in [from, to], both inclusive, ascending. */
export function tradingDays(from: string, to: string): string[] {
  const out: string[] = [];
  const end = parseDate(to);
  for (let ms = parseDate(from); ms <= end; ms += DAY_MS) {
    const d = formatDate(ms);
    if (isTradingDay(d)) out.push(d);
  }
  return out;
}

/** The trading day on or after `date`. */
function tradingDayOnOrAfter(date: string): string {
  return isTradingDay(date) ? date : nextTradingDay(date);
}

/**
 * The part of the day `at` falls in, by its New York date's session: 'pre' (04:00 to the open),
 * 'regular' (the open to the close), 'after' (the close to 20:00, or 17:00 on a half day), else
 * 'closed' (also all of a weekend or holiday). marketStatus's session, without its next open and close.
 */
export function sessionPhase(at: Date): MarketStatus['session'] {
  const s = sessionFor(nyLocal(at).date);
  if (!s) return 'closed';
  const t = at.getTime();
  if (t < s.preOpen.getTime()) return 'closed';
  if (t < s.open.getTime()) return 'pre';
  if (t < s.close.getTime()) return 'regular';
  if (t < s.afterClose.getTime()) return 'after';
  return 'closed';
}

export function marketStatus(at: Date): MarketStatus {
  const date = nyLocal(at).date;
  const s = sessionFor(date);
  const session = sessionPhase(at);
  const following = sessionFor(nextTradingDay(date))!;
  // before the open: that day's session opens next; from the open: the following day's
  const open = s && at.getTime() < s.open.getTime() ? s : following;
  const close = session === 'regular' ? s! : open;
  return { session, is_holiday: isHoliday(date), next_open: open.open.toISOString(), next_close: close.close.toISOString() };
}

/** A daily bar's `t`: that date's regular open (09:30 ET). */
export function dayBarStart(date: string): Date {
  return nyToUtc(date, '09:30');
}

/**
 * The close instant of the bar that starts at `t`. minute: t + 60 s. hour: t + 1 h, cut at
 * the session close when t is in the regular session, else at the after-hours end.
 * day: that New York date's regular close (16:00 ET when not a trading day).
 */
export function barEnd(timespan: Timespan, t: Date): Date {
  const ms = t.getTime();
  if (timespan === 'minute') return new Date(ms + MINUTE_MS);
  const date = nyLocal(t).date;
  const s = sessionFor(date);
  if (timespan === 'day') return s ? s.close : nyToUtc(date, '16:00');
  const hourLater = ms + 60 * MINUTE_MS;
  if (!s) return new Date(hourLater);
  const inRegular = ms >= s.open.getTime() && ms < s.close.getTime();
  const cut = inRegular ? s.close.getTime() : s.afterClose.getTime();
  return new Date(ms < cut ? Math.min(hourLater, cut) : hourLater);
}

// ---- replay clock -------------------------------------------------------------------------
//
// A replay steps through instants: for 'day', each trading day's regular open; for 'minute',
// every minute start inside the session window (regular 09:30..close-1min, extended
// 04:00..afterClose-1min). Steps are produced lazily, one at a time.
//
// Bounds may be dates or ISO instants. A start date means "from that date's first step"
// (New York midnight); an end date means "through that date's last step" (inclusive, up to
// the following New York midnight). An ISO instant bounds exactly: steps >= start, <= end.

function windowOf(s: Session, timespan: 'day' | 'minute', kind: SessionKind): [number, number] {
  if (timespan === 'day') return [s.open.getTime(), s.open.getTime() + 1];
  return kind === 'regular'
    ? [s.open.getTime(), s.close.getTime()]
    : [s.preOpen.getTime(), s.afterClose.getTime()];
}

/** A start bound as an instant: a date is its New York midnight. */
export function startInstant(start: string): Date {
  return DATE_RE.test(start) ? nyToUtc(start, '00:00') : parseInstant(start);
}

/** An end bound as an inclusive instant: a date runs to just before the next New York midnight. */
export function endInstant(end: string): Date {
  return DATE_RE.test(end) ? new Date(nyToUtc(addDays(end, 1), '00:00').getTime() - 1) : parseInstant(end);
}

function parseInstant(iso: string): Date {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid instant "${iso}"`);
  return d;
}

/** The first step at or after `from`. */
export function firstStep(timespan: 'day' | 'minute', from: Date, kind: SessionKind = 'regular'): Date {
  const t = from.getTime();
  let date = tradingDayOnOrAfter(nyLocal(from).date);
  for (;;) {
    const [ws, we] = windowOf(sessionFor(date)!, timespan, kind);
    if (t <= ws) return new Date(ws);
    // rounding up inside the last minute reaches the close, which is no step
    const up = Math.ceil(t / MINUTE_MS) * MINUTE_MS; // NY offsets are whole hours
    if (up < we) return new Date(up);
    date = nextTradingDay(date);
  }
}

// The last window nextStep saw: stepping minute by minute stays inside it without Intl calls.
let lastWindow: { timespan: string; kind: SessionKind; date: string; ws: number; we: number } | null = null;

/** The step strictly after `at` (at is normally itself a step). */
export function nextStep(timespan: 'day' | 'minute', at: Date, kind: SessionKind = 'regular'): Date {
  const t = at.getTime();
  const w = lastWindow;
  if (w && w.timespan === timespan && w.kind === kind && t >= w.ws && t < w.we) {
    const next = timespan === 'day' ? w.we : Math.floor(t / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    if (next < w.we) return new Date(next);
    return stepIntoNextDay(timespan, w.date, kind);
  }
  const date = nyLocal(at).date;
  const s = sessionFor(date);
  if (s) {
    const [ws, we] = windowOf(s, timespan, kind);
    lastWindow = { timespan, kind, date, ws, we };
    if (t < ws) return new Date(ws);
    if (t < we) {
      const next = Math.floor(t / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
      if (next < we) return new Date(next);
    }
  }
  return stepIntoNextDay(timespan, date, kind);
}

function stepIntoNextDay(timespan: 'day' | 'minute', date: string, kind: SessionKind): Date {
  const next = nextTradingDay(date);
  const [ws, we] = windowOf(sessionFor(next)!, timespan, kind);
  lastWindow = { timespan, kind, date: next, ws, we };
  return new Date(ws);
}

/** The last step at or before `to`. */
export function lastStep(timespan: 'day' | 'minute', to: Date, kind: SessionKind = 'regular'): Date {
  const t = to.getTime();
  let date = nyLocal(to).date;
  if (!isTradingDay(date)) date = prevTradingDay(date);
  for (;;) {
    const [ws, we] = windowOf(sessionFor(date)!, timespan, kind);
    if (t >= we - 1) return new Date(timespan === 'day' ? ws : we - MINUTE_MS);
    if (t >= ws) return new Date(Math.floor(t / MINUTE_MS) * MINUTE_MS);
    date = prevTradingDay(date);
  }
}

/**
 * Every replay step in [start, end] (see the bound rules above), lazily. A year of minutes
 * is about 98k steps; nothing is built up front.
 */
export function* replayClock(
  timespan: 'day' | 'minute',
  start: string,
  end: string,
  kind: SessionKind = 'regular',
): Generator<Date> {
  const endMs = endInstant(end).getTime();
  for (let at = firstStep(timespan, startInstant(start), kind); at.getTime() <= endMs; at = nextStep(timespan, at, kind)) {
    yield at;
  }
}
