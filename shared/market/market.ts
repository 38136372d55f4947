// The market data every server reads through: price at an instant, as of a clock.
// The price server issue extends this with imported and Polygon sources.
import { simulatedBars } from '../domain/simulated-market.js';
import { nyLocal } from '../domain/ny-time.js';
import type { PriceSource } from '../domain/types.js';

export interface Quote {
  symbol: string;
  price: number;
  time: string;
  source: PriceSource;
}

export interface Market {
  /** The price a trader sees at `at`: the open of the bar that starts at `at`. Null when unpriced. */
  priceAt(symbol: string, at: Date): Promise<Quote | null>;
}

/** Simulated-only market: deterministic, needs no data and no key. */
export function simulatedMarket(): Market {
  return {
    async priceAt(symbol, at) {
      const minutes = simulatedBars(symbol, 'minute', nyLocal(at).date);
      const t = at.getTime();
      // the bar starting at `at`, else the latest bar that started before it
      let bar = null;
      for (const b of minutes) {
        if (Date.parse(b.t) <= t) bar = b;
        else break;
      }
      if (!bar) return null;
      return { symbol, price: Date.parse(bar.t) === t ? bar.o : (bar.c ?? bar.o), time: at.toISOString(), source: 'simulated' };
    },
  };
}
