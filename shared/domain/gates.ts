// The risk gates of CONTRACT §4: always on, no setting turns them off, evaluated before
// the rules. checkOrder (gates + rules engine) is the one check the trade server,
// preview_order and approval re-checks call. Pure: the clock and every fact are arguments.
//
// Decisions
// - Every gate that applies is reported, in the order of GATE_CODES (model state first,
//   then throttle, market, symbol, side and cash).
// - UNKNOWN_SYMBOL implies no price, so NO_PRICE is reported only for known symbols; the
//   cash gate needs a price and is skipped when there is none (the order is refused anyway).
// - Positions are one signed quantity per symbol. sell only reduces a long (never sells
//   into a short: OVERSELL), cover only reduces a short (OVERCOVER), short while holding
//   a long is SHORT_NOT_ALLOWED (sell first), buy while holding a short is
//   BUY_WHILE_SHORT (cover first). No order flips a position through flat.
// - Buying power (Reg T style, ledger.accountFigures) is never negative after a
//   risk-increasing order (buy, short): its cost, its short margin and its commission
//   are all counted on the account as it would be after the order, positions marked at
//   the market price (the order's own shares too). Short proceeds are collateral, not
//   spendable cash. A risk-reducing order (sell, cover) is never refused for cash: if it
//   leaves a debit, the order path halts the model with reason margin_call.
// - Bracket prices (BAD_BRACKET): for a buy, stop_loss below and take_profit above the
//   expected fill; for a short, mirrored. A level on the wrong side would fire at once.
// - A stop entry (BAD_STOP) rests on the far side of the market: a buy or cover stop above the
//   price now, a sell or short stop below; on the near side it would trigger at once.
// - allowed_symbols null or empty means every symbol (as applies_to_symbols in the rules);
//   symbols compare case-insensitively. Like the rules, it never traps a position: an
//   order that only shrinks a position in a symbol no longer allowed passes this gate.
// - The rules engine runs only when the symbol is known and priced: its limits need a
//   price, and the gates already refuse the order otherwise.

import type { OrderIntent, OrderType, PortfolioSnapshot, RuleRecord, Side } from './types.js';
export type { OrderType };
import { formatCents, formatPct, formatPrice, notionalCents as notionalOf, priceTicks } from './money.js';
import { accountFigures, DEFAULT_SHORT_MARGIN_PCT } from './ledger.js';
import { evaluateOrder, reducesHolding } from './rules/engine.js';
import { stopRests } from './fills.js';
import { sessionPhase, type SessionKind } from './calendar.js';
import { nyLocal } from './ny-time.js';

// --- stable gate codes, in report order ---
export const MODEL_HALTED = 'MODEL_HALTED';
export const MODEL_REDUCING = 'MODEL_REDUCING';
export const RATE_LIMITED = 'RATE_LIMITED';
export const MARKET_CLOSED = 'MARKET_CLOSED';
export const UNKNOWN_SYMBOL = 'UNKNOWN_SYMBOL';
export const SYMBOL_NOT_ALLOWED = 'SYMBOL_NOT_ALLOWED';
export const NO_PRICE = 'NO_PRICE';
export const SHORT_NOT_ALLOWED = 'SHORT_NOT_ALLOWED';
export const BUY_WHILE_SHORT = 'BUY_WHILE_SHORT';
export const OVERSELL = 'OVERSELL';
export const OVERCOVER = 'OVERCOVER';
export const INSUFFICIENT_BUYING_POWER = 'INSUFFICIENT_BUYING_POWER';
export const BAD_BRACKET = 'BAD_BRACKET';
export const BAD_STOP = 'BAD_STOP';

export const GATE_CODES = [
  MODEL_HALTED,
  MODEL_REDUCING,
  RATE_LIMITED,
  MARKET_CLOSED,
  UNKNOWN_SYMBOL,
  SYMBOL_NOT_ALLOWED,
  NO_PRICE,
  SHORT_NOT_ALLOWED,
  BUY_WHILE_SHORT,
  OVERSELL,
  OVERCOVER,
  INSUFFICIENT_BUYING_POWER,
  BAD_BRACKET,
  BAD_STOP,
] as const;
export type GateCode = (typeof GATE_CODES)[number];

export type ModelState = 'active' | 'reducing' | 'halted';

export interface GateModel {
  allow_short: boolean;
  allowed_symbols: string[] | null;
  state: ModelState;
  state_reason: string | null;
}

export interface GateInput {
  /** price = the estimated fill price per share, slippage included (for a resting limit, the limit). */
  order: OrderIntent;
  orderType: OrderType;
  model: GateModel;
  /**
   * positionQty: current signed quantity of order.symbol (negative = short). positions:
   * every position marked at the clock, for buying power (omitted: only this symbol's).
   */
  account: { cashCents: number; positionQty: number; positions?: ReadonlyArray<{ symbol: string; quantity: number; price: number }> };
  /** Market price of order.symbol at the clock (before slippage); defaults to order.price. */
  marketPrice?: number;
  /** Collateral beyond a short's proceeds, a fraction (default 0.5). */
  shortMarginPct?: number;
  /** A stop entry's stop_price before it triggers, dollars: it must rest on the far side of the market (BAD_STOP). */
  stopPrice?: number;
  /** Exit levels attached to an opening order, dollars. */
  stopLoss?: number;
  takeProfit?: number;
  commissionCents: number;
  symbolKnown: boolean;
  /** A price for the symbol exists at the clock. */
  priced: boolean;
  marketOpen: boolean;
  ordersLastMinute: number;
  maxOrdersPerMinute: number;
  clock: Date;
}

export interface GateRejection {
  source: 'gate';
  code: GateCode;
  message: string;
}

export interface RuleRejection {
  source: 'rule';
  code: string;
  rule_name: string;
  rule_id: string;
  message: string;
}

export type Rejection = GateRejection | RuleRejection;

const VERB: Record<Side, string> = { buy: 'buying', sell: 'selling', short: 'shorting', cover: 'covering' };

function nyText(clock: Date): string {
  const l = nyLocal(clock);
  return `${l.date} ${l.hhmm} ET`;
}

function reasonText(reason: string | null): string {
  const r = reason?.trim().replace(/\.$/, '');
  return r ? ` (${r})` : '';
}

function heldText(qty: number): string {
  if (qty > 0) return `a long of ${qty} shares`;
  if (qty < 0) return `a short of ${-qty} shares`;
  return 'no position';
}

/** Whether the market is open at the clock: the regular session, or 04:00–20:00 ET for extended. */
export function isMarketOpen(clock: Date, session: SessionKind = 'regular'): boolean {
  const s = sessionPhase(clock);
  return session === 'regular' ? s === 'regular' : s !== 'closed';
}

/** Every risk gate the order fails, in GATE_CODES order; [] means the gates pass. */
export function evaluateGates(input: GateInput): GateRejection[] {
  return gateRejections(input, input.account);
}

// Module-level helpers rather than closures made per order: a replay checks thousands.
function reject(out: GateRejection[], code: GateCode, message: string): void {
  out.push({ source: 'gate', code, message });
}

/** BAD_BRACKET when an exit level given is on the wrong side of the expected fill (`below`: must be under it). */
function checkBracket(out: GateRejection[], what: 'stop_loss' | 'take_profit', level: number | undefined, below: boolean, order: OrderIntent, fill: bigint, sym: string, now: number): void {
  if (level === undefined) return;
  const ok = level > 0 && (below ? priceTicks(level) < fill : priceTicks(level) > fill);
  if (ok) return;
  reject(
    out,
    BAD_BRACKET,
    `${what} ${formatPrice(level)} must be a price ${below ? 'below' : 'above'} the expected fill ${formatPrice(order.price)} for a ${order.side === 'buy' ? 'long' : 'short'} ` +
      `(it is a price in dollars, not a fraction; ${sym} is at ${formatPrice(now)} now).`,
  );
}

/** evaluateGates with the account apart (checkOrder builds it: no copy of the whole input per order). */
function gateRejections(input: Omit<GateInput, 'account'>, account: GateInput['account']): GateRejection[] {
  const { order, model } = input;
  const out: GateRejection[] = [];
  const sym = order.symbol.toUpperCase();
  const q = order.quantity;
  const held = account.positionQty;
  const verb = VERB[order.side];

  if (model.state === 'halted') {
    reject(out, MODEL_HALTED, `Model is halted${reasonText(model.state_reason)}: every order is refused until a key with the approve scope resumes trading.`);
  }
  const reducing = reducesHolding(held, order);
  if (model.state === 'reducing' && !reducing) {
    reject(
      out,
      MODEL_REDUCING,
      `Model is reducing${reasonText(model.state_reason)}: only orders that shrink a position are accepted, and ${verb} ${q} ${sym} with ${heldText(held)} does not.`,
    );
  }
  if (input.ordersLastMinute >= input.maxOrdersPerMinute) {
    reject(
      out,
      RATE_LIMITED,
      `Order rate limit reached: ${input.ordersLastMinute} orders in the last minute (limit ${input.maxOrdersPerMinute} per minute); try again shortly.`,
    );
  }
  if (!input.marketOpen) {
    reject(out, MARKET_CLOSED, `The market is closed at ${nyText(input.clock)}: orders are accepted only while it is open.`);
  }
  if (!input.symbolKnown) {
    reject(out, UNKNOWN_SYMBOL, `Unknown symbol ${sym}: there is no market data for it.`);
  }
  const allowed = model.allowed_symbols;
  if (!reducing && allowed && allowed.length > 0 && !allowed.some((s) => s.toUpperCase() === sym)) {
    const list = allowed.length <= 10 ? allowed.join(', ') : `${allowed.slice(0, 10).join(', ')} and ${allowed.length - 10} more`;
    reject(out, SYMBOL_NOT_ALLOWED, `${sym} is not in this model's allowed symbols (${list}).`);
  }
  if (input.symbolKnown && !input.priced) {
    reject(out, NO_PRICE, `No price for ${sym} at ${nyText(input.clock)}: orders are refused until a price exists.`);
  }

  switch (order.side) {
    case 'short':
      if (!model.allow_short) {
        reject(out, SHORT_NOT_ALLOWED, `Short selling is not allowed for this model (allow_short is off), so shorting ${q} ${sym} is refused.`);
      } else if (held > 0) {
        reject(out, SHORT_NOT_ALLOWED, `Cannot short ${sym} while holding a long of ${held} shares: sell the long first.`);
      }
      break;
    case 'buy':
      if (held < 0) reject(out, BUY_WHILE_SHORT, `Cannot buy ${sym} while short ${-held} shares: cover the short first.`);
      break;
    case 'sell':
      if (held < 0) {
        reject(out, OVERSELL, `Cannot sell ${q} ${sym}: the position is short ${-held} shares and sell never adds to a short (use short or cover).`);
      } else if (held === 0) {
        reject(out, OVERSELL, `Cannot sell ${q} ${sym}: no ${sym} is held (selling short uses the short order).`);
      } else if (q > held) {
        reject(out, OVERSELL, `Cannot sell ${q} ${sym}: only ${held} shares are held.`);
      }
      break;
    case 'cover':
      if (held >= 0) {
        reject(out, OVERCOVER, `Cannot cover ${q} ${sym}: there is no short position in ${sym}.`);
      } else if (q > -held) {
        reject(out, OVERCOVER, `Cannot cover ${q} ${sym}: the short is only ${-held} shares.`);
      }
      break;
  }

  if (input.symbolKnown && input.priced && (order.side === 'buy' || order.side === 'short')) {
    const mark = input.marketPrice ?? order.price;
    const pct = input.shortMarginPct ?? DEFAULT_SHORT_MARGIN_PCT;
    // the other symbols' positions, then this symbol's before and after the order (one array, its last entry swapped)
    const marked: Array<{ quantity: number; price: number }> = [];
    for (const p of account.positions ?? []) if (p.symbol.toUpperCase() !== sym) marked.push(p);
    marked.push({ quantity: held, price: mark });
    const before = accountFigures(account.cashCents, marked, pct);
    const fee = input.commissionCents;
    const notional = notionalOf(q, order.price);
    const cashAfter = account.cashCents + (order.side === 'buy' ? -notional : notional) - fee;
    marked[marked.length - 1] = { quantity: held + (order.side === 'buy' ? q : -q), price: mark };
    const after = accountFigures(cashAfter, marked, pct);
    if (after.buyingPowerCents < 0) {
      const at = `${q} ${sym} at ${formatPrice(order.price)}${input.orderType === 'market' ? '' : ` (${input.orderType.replace('_', '-')})`}`;
      const needs =
        order.side === 'buy'
          ? `costs ${formatCents(notional)} plus ${formatCents(fee)} commission`
          : `needs ${formatCents(before.buyingPowerCents - after.buyingPowerCents - fee)} margin (${formatPct(pct)} of its value on top of its proceeds, which stay as collateral) plus ${formatCents(fee)} commission`;
      const held = before.marginUsedCents > 0 ? ` (cash ${formatCents(before.cashCents)} less ${formatCents(before.marginUsedCents)} held as collateral for shorts)` : '';
      reject(
        out,
        INSUFFICIENT_BUYING_POWER,
        `Insufficient buying power: ${verb} ${at} ${needs}, but buying power is ${formatCents(before.buyingPowerCents)}${held}.`,
      );
    }
  }
  if (input.priced && (order.side === 'buy' || order.side === 'short')) {
    const long = order.side === 'buy';
    const fill = priceTicks(order.price); // read first, as always: a price that is no number throws here
    const now = input.marketPrice ?? order.price;
    checkBracket(out, 'stop_loss', input.stopLoss, long, order, fill, sym, now);
    checkBracket(out, 'take_profit', input.takeProfit, !long, order, fill, sym, now);
  }
  if (input.priced && input.stopPrice !== undefined && input.marketPrice !== undefined && !stopRests(order.side, input.stopPrice, input.marketPrice)) {
    const above = order.side === 'buy' || order.side === 'cover';
    reject(
      out,
      BAD_STOP,
      `stop_price ${formatPrice(input.stopPrice)} must be ${above ? 'above' : 'below'} ${sym}'s price now, ${formatPrice(input.marketPrice)}, for a ${order.side} stop ` +
        `(it triggers when a bar trades at or ${above ? 'above' : 'below'} it; a ${above ? 'lower' : 'higher'} price is a limit order).`,
    );
  }
  return out;
}

/**
 * The circuit breaker of max_drawdown_halt_pct: a halt reason when
 * (peak − value) / peak ≥ pct, exactly; else null. The peak is max(peak, value).
 */
export function drawdownBreach(totalValueCents: number, peakValueCents: number, maxDrawdownHaltPct: number): string | null {
  const peak = Math.max(peakValueCents, totalValueCents);
  const dd = peak - totalValueCents;
  if (peak <= 0 || dd <= 0) return null;
  // Whole cents whose products are exact in doubles (≤ 2^53, as for any account under $90M) compare
  // as numbers; anything else as BigInt (which throws on a fraction of a cent, as it always did).
  // The same exact comparison either way, without BigInts per order.
  const m = Math.round(maxDrawdownHaltPct * 1_000_000);
  const lhs = dd * 1_000_000;
  const rhs = m * peak;
  if (Number.isSafeInteger(dd) && Number.isSafeInteger(peak) && lhs <= Number.MAX_SAFE_INTEGER && Math.abs(rhs) <= Number.MAX_SAFE_INTEGER) {
    if (lhs < rhs) return null;
  } else if (BigInt(dd) * 1_000_000n < BigInt(m) * BigInt(peak)) return null;
  return (
    `Max drawdown halt: value ${formatCents(totalValueCents)} is ${formatCents(dd)} = ${formatPct(dd / peak)} below the ` +
    `${formatCents(peak)} peak (limit ${formatPct(maxDrawdownHaltPct)}).`
  );
}

export interface CheckOrderInput extends Omit<GateInput, 'account'> {
  /** The locked account at the clock; cash and the symbol's position come from it. */
  portfolio: PortfolioSnapshot;
  /** The portfolio's value (rules/engine.ts portfolioValueCents), when the caller has it. */
  valueCents?: number;
  rules: RuleRecord[];
}

export interface CheckOrderResult {
  /** Gate rejections first (GATE_CODES order), then rule violations (highest priority first). */
  rejections: Rejection[];
  allowed: boolean;
}

/** Signed quantity of `symbol` in the snapshot. */
export function positionQuantity(portfolio: PortfolioSnapshot, symbol: string): number {
  let q = 0;
  for (const p of portfolio.positions) if (p.symbol === symbol) q += p.quantity;
  return q;
}

/** The risk gates, then every structured rule: the one check every order path calls. */
export function checkOrder(input: CheckOrderInput): CheckOrderResult {
  const { portfolio, rules } = input;
  const gates = gateRejections(input, { cashCents: portfolio.cashCents, positionQty: positionQuantity(portfolio, input.order.symbol), positions: portfolio.positions });
  const rejections: Rejection[] = gates; // gateRejections' own new array: extended, not copied
  if (input.symbolKnown && input.priced) {
    // The fields evaluateOrder reads, named: a spread of orders of several shapes (the order
    // path's, the clock's) goes megamorphic and was the order path's costliest line.
    const o = input.order;
    const intent: OrderIntent = { side: o.side, symbol: o.symbol, quantity: o.quantity, price: o.price, commissionCents: input.commissionCents, stopLoss: o.stopLoss ?? input.stopLoss };
    for (const v of evaluateOrder(intent, portfolio, input.clock, rules, input.valueCents)) {
      rejections.push({ source: 'rule', code: v.code, rule_name: v.ruleName, rule_id: v.ruleId, message: v.message });
    }
  }
  return { rejections, allowed: rejections.length === 0 };
}
