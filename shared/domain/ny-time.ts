// Wall-clock time in America/New_York, daylight saving included, with Intl only.
// nyLocal reads the offset cached per UTC hour (nyOffsetMs): New York's offset changes only
// at 02:00 local (06:00 or 07:00 UTC), on a UTC hour boundary, so it is constant within one.

const fmt = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  weekday: 'short',
});

export interface NyLocal {
  /** YYYY-MM-DD in New York */
  date: string;
  /** HH:MM in New York */
  hhmm: string;
  /** minutes since New York midnight */
  minutes: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** nyLocal straight from Intl, uncached: the reference the cached path is tested against. */
export function nyLocalIntl(at: Date): NyLocal {
  const parts: Record<string, string> = {};
  for (const p of fmt.formatToParts(at)) parts[p.type] = p.value;
  const hour = Number(parts.hour);
  const minute = Number(parts.minute);
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    hhmm: `${parts.hour}:${parts.minute}`,
    minutes: hour * 60 + minute,
    weekday: WEEKDAYS[parts.weekday!]!,
  };
}

const offsetByHour = new Map<number, number>();

/**
 * New York's offset from UTC at an instant, in milliseconds (-4 h or -5 h, DST included):
 * t + nyOffsetMs(t) read as UTC is the New York wall-clock time. Offsets change only on
 * whole hours, so they are cached per hour (charts ask for thousands of instants).
 */
export function nyOffsetMs(t: number): number {
  const hour = Math.floor(t / 3_600_000);
  let offset = offsetByHour.get(hour);
  if (offset === undefined) {
    const at = hour * 3_600_000;
    const parts: Record<string, string> = {};
    for (const p of fmt.formatToParts(new Date(at))) parts[p.type] = p.value;
    offset = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute)) - at;
    if (offsetByHour.size > 100_000) offsetByHour.clear();
    offsetByHour.set(hour, offset);
  }
  return offset;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

// Recent instants and their answers (frozen: shared by callers), one slot per minute of a
// 64-minute ring: an order or a clock step asks for the same few instants many times (gates,
// rules, day counts, day start, the step's from and clock), interleaved.
const SLOTS = 64;
const slotAt = new Float64Array(SLOTS).fill(NaN);
const slotLocal: Array<NyLocal | null> = new Array<NyLocal | null>(SLOTS).fill(null);

/** New York wall time at an instant, from the hourly offset cache (no Intl call once warm). The result is frozen. */
export function nyLocal(at: Date): NyLocal {
  const t = at.getTime();
  const slot = Math.floor(t / 60_000) & (SLOTS - 1); // NaN → 0, never equal
  if (slotAt[slot] === t) return slotLocal[slot]!;
  const local = new Date(t + nyOffsetMs(t));
  const h = local.getUTCHours();
  const m = local.getUTCMinutes();
  const out: NyLocal = Object.freeze({
    date: `${local.getUTCFullYear()}-${pad2(local.getUTCMonth() + 1)}-${pad2(local.getUTCDate())}`,
    hhmm: `${pad2(h)}:${pad2(m)}`,
    minutes: h * 60 + m,
    weekday: local.getUTCDay(),
  });
  slotAt[slot] = t;
  slotLocal[slot] = out;
  return out;
}

/** The UTC instant of a New York wall-clock time ("2025-03-10", "09:30"). */
export function nyToUtc(date: string, hhmm: string): Date {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi] = hhmm.split(':').map(Number) as [number, number];
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  // New York is UTC-5 or UTC-4; try both offsets and keep the one that round-trips.
  for (const offsetHours of [4, 5]) {
    const guess = new Date(asUtc + offsetHours * 3_600_000);
    const local = nyLocal(guess);
    if (local.date === date && local.hhmm === hhmm.padStart(5, '0')) return guess;
  }
  // A wall time skipped by the spring-forward switch: use the standard-time reading.
  return new Date(asUtc + 5 * 3_600_000);
}

/** Minutes since midnight for "HH:MM". */
export function hhmmToMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

// utcIso: the last instant's text (a replay's fills come many to a clock) and the date part of
// the last UTC day formatted (a curve's points come many to a day).
let isoMs = NaN;
let isoText = '';
let isoDay = NaN;
let isoDate = '';
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

/**
 * `new Date(ms).toISOString()` ("2025-03-10T13:30:00.000Z", UTC), the same text, with the
 * date part formatted once per UTC day and the last instant's text kept: a replay formats an
 * ISO time for each of its points and fills.
 * Instants outside 1970–9999 or with a fraction of a millisecond take toISOString itself.
 */
export function utcIso(ms: number): string {
  if (ms === isoMs) return isoText;
  if (!Number.isInteger(ms)) return new Date(ms).toISOString();
  const day = Math.floor(ms / 86_400_000);
  if (day !== isoDay) {
    if (ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
    isoDate = new Date(day * 86_400_000).toISOString().slice(0, 11);
    isoDay = day;
  }
  let r = ms - day * 86_400_000;
  const h = Math.floor(r / 3_600_000);
  r -= h * 3_600_000;
  const m = Math.floor(r / 60_000);
  r -= m * 60_000;
  const sec = Math.floor(r / 1000);
  isoText = `${isoDate}${pad2(h)}:${pad2(m)}:${pad2(sec)}.${pad3(r - sec * 1000)}Z`;
  isoMs = ms;
  return isoText;
}
