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
// - A stop entry (CONTRACT §4) rests on the far side of the market: buy/cover above it,
//   sell/short below. It triggers on the first bar that trades at or through the stop, at
//   the stop, or at the bar's open when the bar opens through it (a gap). A stop then fills
//   as a market order at that trigger price (slippage against the trader). A stop-limit
//   becomes a limit order at the trigger: marketable there (a buy: trigger ≤ limit), it
//   fills like a marketable limit (slippage, never worse than the limit); else it rests as
//   a limit: from the next bar when the stop was touched inside the bar (the path after the
//   touch is unknown), on the rest of the same bar when the bar opened through the stop
//   (the whole bar traded after it). A stop is judged before it triggers at its stop: the
//   fill it gets when the market trades exactly there (stopEstimate).

import type { Bar, OrderType, Side } from './types.js';
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

/** Low and high of a bar in price ticks; an open-only bar (h/l/c null) ranges over its open alone. */
export function barRange(bar: Bar): { open: bigint; low: bigint; high: bigint } {
  const open = priceTicks(bar.o);
  let low = open;
  let high = open;
  // high, low and close in that order, each when given (no array per bar: every bar of a replay passes here)
  if (typeof bar.h === 'number') {
    const t = priceTicks(bar.h);
    if (t < low) low = t;
    if (t > high) high = t;
  }
  if (typeof bar.l === 'number') {
    const t = priceTicks(bar.l);
    if (t < low) low = t;
    if (t > high) high = t;
  }
  if (typeof bar.c === 'number') {
    const t = priceTicks(bar.c);
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

/** A stop rests on the far side of the market: buy/cover stop > price now, sell/short stop < price now. */
export function stopRests(side: Side, stopPrice: number, marketPrice: number): boolean {
  const stop = priceTicks(stopPrice);
  const market = priceTicks(marketPrice);
  return paysMore(side) ? stop > market : stop < market;
}

/**
 * Where a resting stop triggers on this bar, or null: buy/cover when the high reaches the stop,
 * sell/short when the low does; at the stop, or at the open when the bar opened through it.
 */
export function stopTrigger(side: Side, stopPrice: number, bar: Bar): { price: number; gapped: boolean } | null {
  const stop = priceTicks(stopPrice);
  const { open, low, high } = barRange(bar);
  if (paysMore(side) ? high < stop : low > stop) return null;
  const gapped = paysMore(side) ? open >= stop : open <= stop;
  return gapped ? { price: bar.o, gapped: true } : { price: stopPrice, gapped: false };
}

/** The fill of a stop entry that triggers at `trigger`: a stop at market (slippage), a stop-limit when marketable there (bounded by its limit); null: the stop-limit rests as a limit. */
export function stopFill(
  side: Side,
  orderType: 'stop' | 'stop_limit',
  trigger: number,
  limitPrice: number | null,
  slippageBps: number,
): { price: number; slippagePerShare: number } | null {
  const px = fillPrice(side, trigger, slippageBps);
  if (orderType === 'stop') return px;
  if (!limitMarketable(side, limitPrice!, trigger)) return null;
  const price = boundedByLimit(side, px.price, limitPrice!);
  return { price, slippagePerShare: Number(abs(priceTicks(price) - priceTicks(trigger))) / TICKS };
}

/** The estimate a stop entry is judged at before it triggers: its fill when the market trades exactly at the stop (a stop-limit that would rest: its limit). */
export function stopEstimate(side: Side, orderType: 'stop' | 'stop_limit', stopPrice: number, limitPrice: number | null, slippageBps: number): { price: number; slippagePerShare: number } {
  return stopFill(side, orderType, stopPrice, limitPrice, slippageBps) ?? { price: limitPrice!, slippagePerShare: 0 };
}

/** A resting order as a bar meets it: a limit, an untriggered stop or stop-limit, or a stop-limit already triggered (resting as a limit). */
export interface RestingTerms {
  side: Side;
  order_type?: OrderType;
  limit_price: number | null;
  stop_price?: number | null;
  /** A stop-limit whose stop already traded. */
  triggered?: boolean;
}

/** What a bar does to a resting order: a stop-limit whose stop traded rests as a limit, or a fill. */
export type RestingEvent =
  | { fill: false; stop: { gapped: boolean } }
  | {
      fill: true;
      /** Per share, slippage included. */
      price: number;
      slippagePerShare: number;
      /** The market price the fill was made at (the trigger of a stop; the fill of a limit). */
      market: number;
      /** Filled at the bar's open (stamped at its start, else at its end). */
      gapped: boolean;
      /** The stop traded on this bar (null: a limit, or a stop-limit triggered before). */
      stop: { gapped: boolean } | null;
    };

/** What a bar does to a resting order (module notes), or null: nothing. */
export function restingOnBar(o: RestingTerms, bar: Bar, slippageBps: number): RestingEvent | null {
  const type = o.order_type ?? 'limit';
  if (type === 'market') return null;
  const asLimit = (stop: { gapped: boolean } | null): RestingEvent | null => {
    const price = limitFillPrice(o.side, o.limit_price!, bar);
    if (price === null) return null;
    return { fill: true, price, slippagePerShare: 0, market: price, gapped: priceTicks(price) !== priceTicks(o.limit_price!), stop };
  };
  if (type === 'limit' || (type === 'stop_limit' && o.triggered)) return asLimit(null);
  const hit = stopTrigger(o.side, o.stop_price!, bar);
  if (!hit) return null;
  const stop = { gapped: hit.gapped };
  const px = stopFill(o.side, type, hit.price, o.limit_price, slippageBps);
  if (px) return { fill: true, ...px, market: hit.price, gapped: hit.gapped, stop };
  // a stop-limit not marketable at its trigger: after a gap the whole bar traded after the stop
  return (hit.gapped ? asLimit(stop) : null) ?? { fill: false, stop };
}

const abs = (x: bigint) => (x < 0n ? -x : x);
