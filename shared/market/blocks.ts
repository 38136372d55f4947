// Bars are fetched, stored-as-covered and cached in fixed blocks of New York time:
// minute bars by date, hour bars by month, day bars by year. Pure.
import { addDays, isTradingDay } from '../domain/calendar.js';
import { nyLocal, nyToUtc } from '../domain/ny-time.js';
import type { Timespan } from '../domain/types.js';

export interface Block {
  /** "2025-06-10" (minute), "2025-06" (hour) or "2025" (day) */
  id: string;
  /** First and last New York date of the block (Polygon's from/to). */
  firstDate: string;
  lastDate: string;
  /** [start, end) as instants: New York midnights. */
  start: Date;
  end: Date;
}

const blockCache = new Map<string, Block>();

function build(timespan: Timespan, id: string): Block {
  let firstDate: string;
  let nextFirst: string;
  if (timespan === 'minute') {
    firstDate = id;
    nextFirst = addDays(id, 1);
  } else if (timespan === 'hour') {
    firstDate = `${id}-01`;
    const [y, m] = id.split('-').map(Number) as [number, number];
    nextFirst = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
  } else {
    firstDate = `${id}-01-01`;
    nextFirst = `${Number(id) + 1}-01-01`;
  }
  return { id, firstDate, lastDate: addDays(nextFirst, -1), start: nyToUtc(firstDate, '00:00'), end: nyToUtc(nextFirst, '00:00') };
}

export function blockById(timespan: Timespan, id: string): Block {
  const key = `${timespan}|${id}`;
  let b = blockCache.get(key);
  if (!b) {
    if (blockCache.size > 50_000) blockCache.clear();
    b = build(timespan, id);
    blockCache.set(key, b);
  }
  return b;
}

export function blockOf(timespan: Timespan, at: Date): Block {
  const date = nyLocal(at).date;
  return blockById(timespan, timespan === 'minute' ? date : timespan === 'hour' ? date.slice(0, 7) : date.slice(0, 4));
}

/** The block after / before `b`; minute blocks skip days the market is closed (no bars there). */
export function nextBlock(timespan: Timespan, b: Block): Block {
  let next = blockOf(timespan, b.end);
  while (timespan === 'minute' && !isTradingDay(next.id)) next = blockOf(timespan, next.end);
  return next;
}

export function prevBlock(timespan: Timespan, b: Block): Block {
  let prev = blockById(timespan, idOfDate(timespan, addDays(b.firstDate, -1)));
  while (timespan === 'minute' && !isTradingDay(prev.id)) prev = blockById(timespan, addDays(prev.id, -1));
  return prev;
}

function idOfDate(timespan: Timespan, date: string): string {
  return timespan === 'minute' ? date : timespan === 'hour' ? date.slice(0, 7) : date.slice(0, 4);
}
