// Applying a fill to an account and marking a portfolio: integer cents, whole shares,
// prices in dollars with 4 dp. Pure.
//
// Decisions
// - A position is one signed quantity per symbol (negative = short) with an exact cost
//   basis in integer cents, costCents: for a long, the cents paid for the shares held;
//   for a short, the cents received for the shares sold short (positive). Commission is
//   never in the basis. avgCost is derived for display and the rules engine:
//   costCents / |quantity| / 100, rounded half up to $0.0001.
//   buy opens/adds to a long, sell reduces it; short opens/adds to a short, cover
//   reduces it. Anything else (sell or cover beyond the position, buy while short,
//   short while long) throws: the gates refuse those orders before a fill exists.
// - Opening fills add the notional to costCents. A closing fill of q out of |h| shares
//   releases portion = costCents × q / |h| (rounded half up, BigInt; all of it when the
//   fill closes the position) and realizes notional − portion − commission (long) or
//   portion − notional − commission (short). An opening fill realizes −commission.
// - Cash always moves by the notional (quantity × price, rounded half away from zero to
//   the cent) and the commission: buy/cover −notional − commission, sell/short
//   +notional − commission. The ledger does not refuse negative cash (the gates do).
// - So money never drifts: value − initial cash = realized + unrealized exactly, with
//   unrealized = market value − costCents (long) or costCents − |market value| (short),
//   and once flat Σ cash changes = Σ realized to the cent.

import { fromCents, notionalCents, priceTicks, roundPrice } from './money.js';
import { portfolioValueCents } from './rules/engine.js';
import type { Side } from './types.js';

export interface LedgerPosition {
  /** Signed whole shares: negative is a short. */
  quantity: number;
  /** Exact cost basis in cents, commission excluded: paid for a long, received for a short (≥ 0). */
  costCents: number;
  /** Derived: costCents / |quantity| / 100, half up to 4 dp; for a short, the average short price. */
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

/** costCents / |quantity| / 100 in dollars, rounded half up to 4 dp (0 for no shares). */
export function avgCostOf(costCents: number, quantity: number): number {
  const shares = BigInt(Math.abs(quantity));
  if (shares === 0n) return 0;
  return Number(divRound(BigInt(costCents) * TICKS_PER_CENT, shares)) / 10_000;
}

/** The share of a basis that q of `held` shares carry: costCents × q / held, half up. */
function portionCents(costCents: number, q: number, held: number): number {
  return Number(divRound(BigInt(costCents) * BigInt(q), BigInt(held)));
}

function makePosition(quantity: number, costCents: number): LedgerPosition {
  return { quantity, costCents, avgCost: avgCostOf(costCents, quantity) };
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
  if (position && (!Number.isSafeInteger(position.costCents) || position.costCents < 0)) {
    throw new LedgerError(`Position cost basis must be whole cents ≥ 0, got ${position.costCents}.`);
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
      next = makePosition(held + q, (held === 0 ? 0 : position!.costCents) + notional);
      break;
    }
    case 'short': {
      if (held > 0) throw new LedgerError(`Cannot short while long ${held} shares: sell first.`);
      cashChangeCents = notional - fee;
      realizedCents = 0 - fee;
      next = makePosition(held - q, (held === 0 ? 0 : position!.costCents) + notional);
      break;
    }
    case 'sell': {
      if (held < q) throw new LedgerError(`Cannot sell ${q} shares: only ${Math.max(held, 0)} held long.`);
      const portion = portionCents(position!.costCents, q, held);
      cashChangeCents = notional - fee;
      realizedCents = notional - portion - fee;
      next = held === q ? null : makePosition(held - q, position!.costCents - portion);
      break;
    }
    case 'cover': {
      if (-held < q) throw new LedgerError(`Cannot cover ${q} shares: only ${Math.max(-held, 0)} held short.`);
      const portion = portionCents(position!.costCents, q, -held);
      cashChangeCents = 0 - notional - fee;
      realizedCents = portion - notional - fee;
      next = -held === q ? null : makePosition(held + q, position!.costCents - portion);
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
 * unrealized_pnl = market_value − costCents (long) or costCents − |market_value| (short),
 * exact in cents; avg_cost derived from costCents; weight = market_value / total value
 * (6 dp; 0 when the total is not positive). Zero-quantity rows are dropped.
 */
export function markPortfolio(
  cashCents: number,
  positions: Array<{ symbol: string; quantity: number; costCents: number }>,
  priceOf: (symbol: string) => number,
): MarkedPortfolio {
  const marked = positions
    .filter((p) => p.quantity !== 0)
    .map((p) => {
      const price = priceOf(p.symbol);
      if (!Number.isFinite(price) || price < 0) throw new LedgerError(`No usable price for ${p.symbol}: got ${price}.`);
      if (!Number.isSafeInteger(p.costCents) || p.costCents < 0) {
        throw new LedgerError(`Cost basis of ${p.symbol} must be whole cents ≥ 0, got ${p.costCents}.`);
      }
      return { symbol: p.symbol, quantity: p.quantity, costCents: p.costCents, avgCost: avgCostOf(p.costCents, p.quantity), price: roundPrice(price) };
    });
  const totalValueCents = portfolioValueCents({ cashCents, positions: marked });
  let unrealizedPnlCents = 0;
  const lines = marked.map((p): PortfolioLine => {
    const mv = notionalCents(p.quantity, p.price);
    // long: mv − cost; short: cost − |mv| = cost + mv
    const upnl = p.quantity > 0 ? mv - p.costCents : mv + p.costCents;
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

// --- buying power and short margin (Reg T style) ---

/** Default collateral beyond a short's proceeds: 50% of its value (Reg T initial margin, FRB Regulation T §220.12). */
export const DEFAULT_SHORT_MARGIN_PCT = 0.5;

/** An account's balances at market, in integer cents. */
export interface AccountFigures {
  cashCents: number;
  /** Σ quantity × price of longs (≥ 0). */
  longMarketValueCents: number;
  /** Σ |quantity| × price of shorts (≥ 0). */
  shortMarketValueCents: number;
  /** cash + long market value − short market value. */
  equityCents: number;
  /** Cash held as collateral for shorts: short market value × (1 + short_margin_pct), the margin part rounded up to the cent. */
  marginUsedCents: number;
  /** cash − margin used: what a risk-increasing order may spend (cost + its margin + commission). */
  buyingPowerCents: number;
}

/**
 * Reg T style balances: longs are paid in full from cash; a short's proceeds stay in cash
 * as collateral and a further short_margin_pct (a fraction, 0.5 = 50%) of its value is
 * held on top, so margin_used = short value × (1 + pct) and buying_power = cash − margin_used.
 * Example: $10,000, short 100 @ $100 → cash $20,000, margin used $15,000, buying power $5,000.
 */
export function accountFigures(
  cashCents: number,
  positions: ReadonlyArray<{ quantity: number; price: number }>,
  shortMarginPct: number = DEFAULT_SHORT_MARGIN_PCT,
): AccountFigures {
  let longMv = 0;
  let shortMv = 0;
  for (const p of positions) {
    if (p.quantity > 0) longMv += notionalCents(p.quantity, p.price);
    else if (p.quantity < 0) shortMv += notionalCents(-p.quantity, p.price);
  }
  const marginUsedCents = shortMv + marginCents(shortMv, shortMarginPct);
  return {
    cashCents,
    longMarketValueCents: longMv,
    shortMarketValueCents: shortMv,
    equityCents: cashCents + longMv - shortMv,
    marginUsedCents,
    buyingPowerCents: cashCents - marginUsedCents,
  };
}

/** pct × value in cents, rounded up (the margin required is never understated). */
function marginCents(valueCents: number, pct: number): number {
  if (valueCents <= 0) return 0;
  const p = BigInt(valueCents) * BigInt(Math.round(pct * 1_000_000));
  const q = p / 1_000_000n;
  return Number(q * 1_000_000n === p ? q : q + 1n);
}
