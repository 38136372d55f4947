// Applying a fill to an account and marking a portfolio: integer cents, whole shares,
// prices in dollars with 4 dp. Pure.
//
// Decisions
// - A position is one signed quantity per symbol (negative = short) with avg_cost, the
//   weighted average trade price (commission excluded), rounded half up to $0.0001.
//   buy opens/adds to a long, sell reduces it; short opens/adds to a short, cover
//   reduces it. Anything else (sell or cover beyond the position, buy while short,
//   short while long) throws: the gates refuse those orders before a fill exists.
// - Commission is a realized cost when it is paid: realizedCents = −commission on an
//   opening fill, and (price − avg_cost) × qty − commission (long) or
//   (avg_cost − price) × qty − commission (short) on a closing fill. So
//   realized + unrealized = value − initial cash, up to avg-cost rounding
//   (≤ ½ tick × shares per averaging, ≤ 1 cent per fill).
// - Cash always moves by the notional (quantity × price, rounded half away from zero to
//   the cent) and the commission: buy/cover −notional − commission, sell/short
//   +notional − commission. The ledger does not refuse negative cash (the gates do).

import { fromCents, notionalCents, priceTicks, roundPrice } from './money.js';
import { portfolioValueCents } from './rules/engine.js';
import type { Side } from './types.js';

export interface LedgerPosition {
  /** Signed whole shares: negative is a short. */
  quantity: number;
  /** Average trade price in dollars (4 dp); for a short, the average short price. */
  avgCost: number;
}

export interface LedgerFill {
  side: Side;
  quantity: number;
  price: number;
  commissionCents: number;
}

export interface LedgerAccount {
  cashCents: number;
  realizedPnlCents: number;
}

export interface AppliedFill extends LedgerAccount {
  cashChangeCents: number;
  realizedCents: number;
  /** null when the fill closes the position. */
  position: LedgerPosition | null;
}

export class LedgerError extends Error {
  override name = 'LedgerError';
}

const TICKS_PER_CENT = 100n;

/** n / d rounded half away from zero (d > 0). */
function divRound(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  if ((r < 0n ? -r : r) * 2n >= d) return n < 0n ? q - 1n : q + 1n;
  return q;
}

/** Weighted average of two lots' prices in ticks, half up, as dollars. */
function averageCost(qtyA: number, avgA: number, qtyB: number, priceB: number): number {
  const total = BigInt(qtyA + qtyB);
  const cost = BigInt(qtyA) * priceTicks(avgA) + BigInt(qtyB) * priceTicks(priceB);
  return Number(divRound(cost, total)) / 10_000;
}

/** (sell price − avg) × qty in cents, one rounding. */
function gainCents(quantity: number, fromPrice: number, toPrice: number): number {
  return Number(divRound(BigInt(quantity) * (priceTicks(toPrice) - priceTicks(fromPrice)), TICKS_PER_CENT));
}

function validate(fill: LedgerFill, position: LedgerPosition | null): void {
  if (!Number.isSafeInteger(fill.quantity) || fill.quantity <= 0) {
    throw new LedgerError(`Fill quantity must be a positive whole number of shares, got ${fill.quantity}.`);
  }
  if (!Number.isFinite(fill.price) || priceTicks(fill.price) <= 0n) {
    throw new LedgerError(`Fill price must be positive, got ${fill.price}.`);
  }
  if (!Number.isSafeInteger(fill.commissionCents) || fill.commissionCents < 0) {
    throw new LedgerError(`Commission must be whole cents ≥ 0, got ${fill.commissionCents}.`);
  }
  if (position && !Number.isSafeInteger(position.quantity)) {
    throw new LedgerError(`Position quantity must be whole shares, got ${position.quantity}.`);
  }
}

/** The account and position after one fill. Throws LedgerError on a fill the gates refuse. */
export function applyFill(account: LedgerAccount, position: LedgerPosition | null, fill: LedgerFill): AppliedFill {
  validate(fill, position);
  const held = position?.quantity ?? 0;
  const { side, quantity: q, price, commissionCents: fee } = fill;
  const notional = notionalCents(q, price);
  let cashChangeCents: number;
  let realizedCents: number;
  let next: LedgerPosition | null;

  switch (side) {
    case 'buy': {
      if (held < 0) throw new LedgerError(`Cannot buy while short ${-held} shares: cover first.`);
      cashChangeCents = 0 - notional - fee; // 0 − … never yields −0
      realizedCents = 0 - fee;
      next = { quantity: held + q, avgCost: held === 0 ? roundPrice(price) : averageCost(held, position!.avgCost, q, price) };
      break;
    }
    case 'short': {
      if (held > 0) throw new LedgerError(`Cannot short while long ${held} shares: sell first.`);
      cashChangeCents = notional - fee;
      realizedCents = 0 - fee;
      next = { quantity: held - q, avgCost: held === 0 ? roundPrice(price) : averageCost(-held, position!.avgCost, q, price) };
      break;
    }
    case 'sell': {
      if (held < q) throw new LedgerError(`Cannot sell ${q} shares: only ${Math.max(held, 0)} held long.`);
      cashChangeCents = notional - fee;
      realizedCents = gainCents(q, position!.avgCost, price) - fee;
      next = held === q ? null : { quantity: held - q, avgCost: position!.avgCost };
      break;
    }
    case 'cover': {
      if (-held < q) throw new LedgerError(`Cannot cover ${q} shares: only ${Math.max(-held, 0)} held short.`);
      cashChangeCents = 0 - notional - fee;
      realizedCents = gainCents(q, price, position!.avgCost) - fee;
      next = -held === q ? null : { quantity: held + q, avgCost: position!.avgCost };
      break;
    }
    default: {
      const never: never = side;
      throw new LedgerError(`Unknown side ${String(never)}.`);
    }
  }

  return {
    cashCents: account.cashCents + cashChangeCents,
    realizedPnlCents: account.realizedPnlCents + realizedCents,
    cashChangeCents,
    realizedCents,
    position: next,
  };
}

// --- marking ---

/** One position as get_portfolio reports it: dollars, weight a fraction of total value. */
export interface PortfolioLine {
  symbol: string;
  quantity: number;
  avg_cost: number;
  price: number;
  market_value: number;
  unrealized_pnl: number;
  weight: number;
}

export interface MarkedPortfolio {
  positions: PortfolioLine[];
  positionsValueCents: number;
  unrealizedPnlCents: number;
  totalValueCents: number;
}

/**
 * Positions at market: market_value = quantity × price (negative for shorts),
 * unrealized_pnl = quantity × (price − avg_cost), weight = market_value / total value
 * (6 dp; 0 when the total is not positive). Zero-quantity rows are dropped.
 */
export function markPortfolio(
  cashCents: number,
  positions: Array<{ symbol: string; quantity: number; avgCost: number }>,
  priceOf: (symbol: string) => number,
): MarkedPortfolio {
  const marked = positions
    .filter((p) => p.quantity !== 0)
    .map((p) => {
      const price = priceOf(p.symbol);
      if (!Number.isFinite(price) || price < 0) throw new LedgerError(`No usable price for ${p.symbol}: got ${price}.`);
      return { symbol: p.symbol, quantity: p.quantity, avgCost: roundPrice(p.avgCost), price: roundPrice(price) };
    });
  const totalValueCents = portfolioValueCents({ cashCents, positions: marked });
  let unrealizedPnlCents = 0;
  const lines = marked.map((p): PortfolioLine => {
    const mv = notionalCents(p.quantity, p.price);
    const upnl = gainCents(p.quantity, p.avgCost, p.price);
    unrealizedPnlCents += upnl;
    return {
      symbol: p.symbol,
      quantity: p.quantity,
      avg_cost: p.avgCost,
      price: p.price,
      market_value: fromCents(mv),
      unrealized_pnl: fromCents(upnl),
      weight: totalValueCents > 0 ? Math.round((mv / totalValueCents) * 1e6) / 1e6 : 0,
    };
  });
  return { positions: lines, positionsValueCents: totalValueCents - cashCents, unrealizedPnlCents, totalValueCents };
}
