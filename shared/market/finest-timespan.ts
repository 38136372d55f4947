// The bars a symbol is followed on in a run: the run's timespan, or the finest the symbol has.
import type { Q } from '../db/database.js';
import type { Timespan } from '../domain/types.js';
import type { Market } from './market.js';

const ORDER: Timespan[] = ['minute', 'hour', 'day'];

/**
 * The bars a symbol's exits are checked on (and its round trips' excursions read): the run's
 * timespan, or, for an imported symbol without bars of it, the finest it has (hour, then day)
 * as they close; null when none.
 */
export async function stepTimespan(market: Market, symbol: string, runTimespan: 'day' | 'minute', q?: Q): Promise<Timespan | null> {
  const have = await market.timespansOf(symbol, q);
  return ORDER.slice(ORDER.indexOf(runTimespan)).find((ts) => have.includes(ts)) ?? null;
}
