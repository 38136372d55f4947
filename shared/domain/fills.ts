// How an order fills: slippage, commission and limit prices (CONTRACT §4). Pure.
//
// Decisions
// - Slippage always works against the trader: buy/cover pay market + s, sell/short
//   receive market − s, where s = market × bps / 10,000 rounded half up to $0.0001.
//   Rounding the slippage (not the two prices separately) keeps it symmetric and makes
//   price − market exactly ±slippagePerShare.
// - Commission = quantity × commission_per_share, in integer cents rounded half up.
//   Per-share rates keep 8 decimals, so sub-cent rates like $0.00035 are exact.
// - A resting limit order fills on the first bar that trades through the limit, at the
//   limit price, or at the bar's open when the bar opens better than the limit (a gap
//   through it: the order was resting, so it takes the first price that trades). A fill
//   is never worse than the limit; no slippage applies to resting-limit fills.
// - A marketable limit order fills like a market order (slippage included) but never
//   worse than its limit: boundedByLimit.

import type { Bar, Side } from './types.js';
import { priceTicks } from './money.js';

const TICKS = 10_000; // price ticks per dollar
const BPS_SCALE = 10_000n; // bps kept to 4 decimals
const BPS_DENOM = 10_000n * BPS_SCALE; // 1 bp = 1/10,000

const paysMore = (side: Side) => side === 'buy' || side === 'cover';
const ticksToPrice = (t: bigint) => Number(t) / TICKS;

function assertPrice(price: number, what: string): void {
  if (!Number.isFinite(price) || price <= 0) throw new RangeError(`${what} must be a positive number of dollars, got ${price}.`);
}

/** Market price moved against the trader by slippage_bps; both rounded to 4 dp. */
export function fillPrice(side: Side, marketPrice: number, slippageBps: number): { price: number; slippagePerShare: number } {
  assertPrice(marketPrice, 'Market price');
  if (!Number.isFinite(slippageBps) || slippageBps < 0 || slippageBps > 10_000) {
    throw new RangeError(`Slippage must be between 0 and 10,000 bps, got ${slippageBps}.`);
  }
  const market = priceTicks(marketPrice);
  const product = market * BigInt(Math.round(slippageBps * Number(BPS_SCALE)));
  let slip = product / BPS_DENOM;
  if ((product % BPS_DENOM) * 2n >= BPS_DENOM) slip += 1n; // half up
  const price = paysMore(side) ? market + slip : market - slip;
  return { price: ticksToPrice(price), slippagePerShare: ticksToPrice(slip) };
}

/** quantity × commission per share, in integer cents rounded half up. */
export function commissionCents(quantity: number, commissionPerShare: number): number {
  if (!Number.isSafeInteger(quantity) || quantity < 0) throw new RangeError(`Quantity must be whole shares, got ${quantity}.`);
  if (!Number.isFinite(commissionPerShare) || commissionPerShare < 0) {
    throw new RangeError(`Commission per share must be ≥ 0, got ${commissionPerShare}.`);
  }
  const rate = BigInt(Math.round(commissionPerShare * 1e8)); // 1e-8 dollars = 1e-6 cents
  const micro = BigInt(quantity) * rate;
  const cents = micro / 1_000_000n;
  return Number((micro % 1_000_000n) * 2n >= 1_000_000n ? cents + 1n : cents);
}

/** Would a limit order fill now? buy/cover when market ≤ limit; sell/short when market ≥ limit. */
export function limitMarketable(side: Side, limitPrice: number, marketPrice: number): boolean {
  const limit = priceTicks(limitPrice);
  const market = priceTicks(marketPrice);
  return paysMore(side) ? market <= limit : market >= limit;
}

/** A fill price capped at the limit: a limit order never fills worse than its limit. */
export function boundedByLimit(side: Side, price: number, limitPrice: number): number {
  const p = priceTicks(price);
  const limit = priceTicks(limitPrice);
  return ticksToPrice(paysMore(side) ? (p > limit ? limit : p) : p < limit ? limit : p);
}

/** Low and high of a bar; an open-only bar (h/l/c null) ranges over its open alone. */
function barRange(bar: Bar): { open: bigint; low: bigint; high: bigint } {
  const open = priceTicks(bar.o);
  let low = open;
  let high = open;
  for (const x of [bar.h, bar.l, bar.c]) {
    if (typeof x !== 'number') continue;
    const t = priceTicks(x);
    if (t < low) low = t;
    if (t > high) high = t;
  }
  return { open, low, high };
}

/** Does the bar trade through the limit? buy/cover: low ≤ limit; sell/short: high ≥ limit. */
export function limitTouched(side: Side, limitPrice: number, bar: Bar): boolean {
  const limit = priceTicks(limitPrice);
  const { low, high } = barRange(bar);
  return paysMore(side) ? low <= limit : high >= limit;
}

/**
 * The fill price of a resting limit order on this bar, or null when the bar does not
 * reach the limit: the limit price, or the open when the bar opened better than it.
 */
export function limitFillPrice(side: Side, limitPrice: number, bar: Bar): number | null {
  if (!limitTouched(side, limitPrice, bar)) return null;
  const limit = priceTicks(limitPrice);
  const open = priceTicks(bar.o);
  const openedBetter = paysMore(side) ? open < limit : open > limit;
  return ticksToPrice(openedBetter ? open : limit);
}
