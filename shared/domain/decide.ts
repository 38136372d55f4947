// The order decision, pure: given the account and the market at the clock, what one order
// becomes (status, refusals, fill, ledger change, halt) and the account after it. The live
// order path is load → decideOrder → persist; a counterfactual replay chains decideOrder
// over recorded orders in memory with `next` as the following state.
//
// Decisions
// - A circuit breaker the account has already reached (max_drawdown_halt_pct, the rules'
//   loss limits) halts the model before the order is judged: no order fills past it.
// - The estimated fill: a market order fills at the market price moved by slippage; a
//   marketable limit likewise but never worse than its limit; a limit that is not
//   marketable rests at its limit (no slippage). A stop or stop-limit entry rests until a
//   bar trades at or through its stop and is judged at the fill it gets there (fills.ts
//   stopEstimate); the gates refuse one on the near side of the market (BAD_STOP).
//   Commission = quantity × per-share rate.
// - The gates (gates.ts) and rules (rules/engine.ts) judge the order at that estimate.
// - After a fill: a debit (cash < 0, only a risk-reducing order can leave one) halts the
//   model with reason margin_call; else a breaker reached by the fill halts it.
// - Every money figure is integer cents; prices are dollars with 4 dp (money.ts).
import { accountFigures, applyFill, type AccountFigures, type AppliedFill, type LedgerFill } from './ledger.js';
import type { OrderBracket } from './exits.js';
import { boundedByLimit, commissionCents, fillPrice, limitMarketable, stopEstimate } from './fills.js';
import { checkOrder, drawdownBreach, type GateModel, type Rejection } from './gates.js';
import { formatCents, formatPrice, fromCents } from './money.js';
import { lossLimitBreaches, lossStreakHalt, portfolioValueCents } from './rules/engine.js';
import { downsizeQuantity, type Downsized } from './sizing.js';
import type { MarkedPosition, OrderType, PortfolioSnapshot, RuleRecord, Side } from './types.js';

/** The model settings an order decision reads (CONTRACT §1). */
export interface DecideModel extends GateModel {
  execution_mode: 'simulation' | 'validation';
  require_approval: boolean;
  commission_per_share: number;
  slippage_bps: number;
  max_drawdown_halt_pct: number;
  max_orders_per_minute: number;
  short_margin_pct: number;
}

/** A position marked at the clock with its exact cost basis. quantity < 0 is a short. */
export interface BookPosition extends MarkedPosition {
  costCents: number;
}

/** Everything an order is judged on, read at the clock (the run's account locked). */
export interface OrderState extends PortfolioSnapshot {
  positions: BookPosition[];
  realizedPnlCents: number;
  model: DecideModel;
  /** The model's active rules. */
  rules: RuleRecord[];
  clock: Date;
  marketOpen: boolean;
  /** Some source serves the order's symbol. */
  symbolKnown: boolean;
  /** Market price of the order's symbol at the clock (dollars), null when unpriced. */
  marketPrice: number | null;
  /** Agent orders of this model in the last minute (the throttle); 0 to skip it. */
  ordersLastMinute: number;
}

/** An order's request: the bracket (exits.ts) attaches to an opening order's position when it fills. */
export interface OrderRequestShape extends OrderBracket {
  side: Side;
  symbol: string;
  quantity: number;
  order_type: OrderType;
  limit_price?: number | null;
  /** stop and stop_limit: the trigger, dollars. */
  stop_price?: number | null;
}

export type DecidedStatus = 'filled' | 'rejected' | 'pending_approval' | 'open' | 'validated';

/** Every status an agent order can have: what decideOrder decides, then a cancel or an expiry. */
export type OrderStatus = DecidedStatus | 'cancelled' | 'expired';

/**
 * The fields every stored agent order has, as the order book and the counterfactual replay
 * read them: the request (absent prices null), the run clock and wall clock at placement (UTC
 * ISO), the outcome and who decided it.
 */
export interface OrderRecordFields
  extends Required<Omit<OrderRequestShape, Exclude<keyof OrderBracket, 'stop_loss' | 'take_profit'>>>,
    Omit<OrderBracket, 'stop_loss' | 'take_profit'> {
  order_id: number;
  /** Run clock at placement. */
  clock: string;
  /** Wall clock at placement. */
  created_at: string;
  status: OrderStatus;
  rejections: Rejection[];
  decided_by: string | null;
}

export interface FillTerms {
  /** Per share, dollars, slippage included. */
  price: number;
  slippagePerShare: number;
  commissionCents: number;
}

/** A fill as the books hold it: the ledger's fill, its terms and what it did to cash and P&L (cents). */
export interface BookedFill extends LedgerFill, FillTerms {
  symbol: string;
  cashChangeCents: number;
  realizedCents: number;
}

export interface AccountAfter {
  cashCents: number;
  positionQuantity: number;
  totalValueCents: number;
  figures: AccountFigures;
}

export interface OrderDecision {
  status: DecidedStatus;
  rejections: Rejection[];
  /** Halt reason of a breaker already reached before the order (the model halts first), else null. */
  tripped: string | null;
  /** The estimate the checks judged: per-share price (slippage included; a resting limit's limit). */
  estimate: FillTerms & { marketable: boolean; marketPrice: number | null };
  /** The fill, when status is filled. */
  fill: FillTerms | null;
  /** The ledger change of the fill, when status is filled. */
  applied: AppliedFill | null;
  /** Set when the fill halts the model (margin_call or a breaker). */
  haltReason: string | null;
  /** The account after the order if it fills now (a preview's answer); null when refused or unpriced, or not asked for (DecideOptions.projected). */
  projected: AccountAfter | null;
  /** The state after the order, for chaining decisions in memory. */
  next: OrderState;
}

export const breakerText = (reason: string) => `Circuit breaker: ${reason}`;

/** The reason a debit halts the model, or null when cash is not negative. */
export function marginCallReason(cashCents: number, what?: string): string | null {
  if (cashCents >= 0) return null;
  return (
    `margin_call: cash is ${formatCents(cashCents)}, a debit${what ? ` left by ${what}` : ''}; ` +
    'trading is halted until a key with approve resumes it.'
  );
}

/**
 * The first circuit breaker the account has reached, as the model's halt reason, or null:
 * max_drawdown_halt_pct, then the rules' loss limits. (A debit halts only when a fill
 * leaves it: a resumed model may then sell its way out.)
 */
export function breakerReason(
  snapshot: PortfolioSnapshot,
  rules: RuleRecord[],
  maxDrawdownHaltPct: number,
  value: number = portfolioValueCents(snapshot), // the caller's, when it has it; once for both checks
): string | null {
  const dd = drawdownBreach(value, snapshot.peakValueCents, maxDrawdownHaltPct) ?? lossLimitBreaches(snapshot, rules, value)[0]?.message;
  return dd ? breakerText(dd) : lossStreakHalt(snapshot, rules);
}

/**
 * The loss streak after one fill. An exit fill (sell, cover) closes a round trip of the shares
 * it closed: its realized P&L (the ledger's, against the average cost, net of its commission)
 * ≤ 0 counts as a loss (a zero too, CONTRACT §5) and stamps lastLossAt with `at`; a gain resets
 * the streak to 0. Entries leave it. Migration 023's trigger keeps the same count on runs.
 */
export function lossStreakAfter(
  s: Pick<PortfolioSnapshot, 'lossStreak' | 'lastLossAt'>,
  fill: { side: Side; realizedCents: number },
  at: Date,
): { lossStreak: number; lastLossAt: string | null } {
  const streak = s.lossStreak ?? 0;
  const last = s.lastLossAt ?? null;
  if (fill.side === 'buy' || fill.side === 'short') return { lossStreak: streak, lastLossAt: last };
  return fill.realizedCents <= 0 ? { lossStreak: streak + 1, lastLossAt: at.toISOString() } : { lossStreak: 0, lastLossAt: last };
}

/**
 * How an order is placed. `close`: close_position's market exit of the whole position (FIA's
 * kill switch takes risk off): a halted model judges it as reducing (it shrinks a position,
 * so it passes), the order-rate throttle does not count against it, and it never waits for
 * approval. Every other gate and the ledger are the same as a sell or cover.
 */
export interface DecideOptions {
  close?: boolean;
  /**
   * Placing (not approving or modifying): an opening order refused by a position_sizing rule
   * with downsize: true is cut to the largest quantity those rules and buying power allow
   * (sizing.ts), when that is at least one share, and judged at it.
   */
  downsize?: boolean;
  /**
   * false: the caller does not read `projected` (a replay), so it is null and the account
   * figures after the order are not computed. Absent or true: computed (placing, previewing).
   */
  projected?: boolean;
}

/**
 * What an order becomes: the one decision placing, previewing, approving and replaying act on.
 * `quantity` is the quantity decided (the request's, or less when downsized).
 */
export function decideOrder(state: OrderState, req: OrderRequestShape, opts: DecideOptions = {}): Decided {
  const d = decideAt(state, req, opts);
  if (!opts.downsize || opts.close || d.status !== 'rejected' || state.marketPrice === null) return d;
  const cut = downsizeQuantity(state, req, d.estimate.price, d.rejections);
  if (!cut) return d;
  const downsized = decideAt(state, { ...req, quantity: cut.to }, opts);
  downsized.downsized = cut;
  return downsized;
}

/** decideOrder's answer: the decision, the quantity it was made at and the downsize, if any. */
type Decided = OrderDecision & { quantity: number; downsized: Downsized | null };

// decideAt builds its answer with decideOrder's quantity (the request's) and downsized (null)
// in place: no copy of the decision per order (a replay decides thousands).
function decideAt(state: OrderState, req: OrderRequestShape, opts: DecideOptions): Decided {
  const close = opts.close === true;
  const { model } = state;
  const symbol = req.symbol;
  // the account's value, for the breaker and the rules (one sum of the positions, not two)
  const valueCents = model.state === 'halted' ? undefined : portfolioValueCents(state);
  const tripped = valueCents === undefined ? null : breakerReason(state, state.rules, model.max_drawdown_halt_pct, valueCents);
  const halted: GateModel = tripped ? { ...model, state: 'halted', state_reason: tripped } : model;
  const gated: GateModel = close && halted.state === 'halted' ? { ...halted, state: 'reducing' } : halted;
  const commission = commissionCents(req.quantity, model.commission_per_share);
  const limit = req.limit_price ?? undefined;
  const stopEntry = req.order_type === 'stop' || req.order_type === 'stop_limit';
  let price = limit ?? req.stop_price ?? 0;
  let slippagePerShare = 0;
  let marketable = req.order_type === 'market';
  if (stopEntry) {
    // rests until its stop trades (a stop on the near side is refused: BAD_STOP)
    ({ price, slippagePerShare } = stopEstimate(req.side, req.order_type as 'stop' | 'stop_limit', req.stop_price!, req.limit_price ?? null, model.slippage_bps));
  } else if (state.marketPrice !== null) {
    const est = fillPrice(req.side, state.marketPrice, model.slippage_bps);
    if (req.order_type === 'market') {
      price = est.price;
      slippagePerShare = est.slippagePerShare;
    } else {
      marketable = limitMarketable(req.side, limit!, state.marketPrice);
      price = marketable ? boundedByLimit(req.side, est.price, limit!) : limit!;
      slippagePerShare = marketable ? Math.abs(Math.round((price - state.marketPrice) * 10_000)) / 10_000 : 0;
    }
  }
  const check = checkOrder({
    order: { side: req.side, symbol, quantity: req.quantity, price },
    orderType: req.order_type,
    model: gated,
    portfolio: state,
    valueCents,
    rules: state.rules,
    commissionCents: commission,
    symbolKnown: state.symbolKnown,
    priced: state.marketPrice !== null,
    marketOpen: state.marketOpen,
    ordersLastMinute: close ? 0 : state.ordersLastMinute,
    maxOrdersPerMinute: model.max_orders_per_minute,
    clock: state.clock,
    marketPrice: state.marketPrice ?? undefined,
    shortMarginPct: model.short_margin_pct,
    stopLoss: req.stop_loss ?? undefined,
    takeProfit: req.take_profit ?? undefined,
    stopPrice: stopEntry ? req.stop_price! : undefined,
  });
  const rejections = check.rejections;
  const status: DecidedStatus = rejections.length
    ? 'rejected'
    : model.execution_mode === 'validation'
      ? 'validated'
      : model.require_approval && !close
        ? 'pending_approval'
        : marketable
          ? 'filled'
          : 'open';
  const terms: FillTerms = { price, slippagePerShare, commissionCents: commission };
  const haltedState = tripped ? { ...model, state: 'halted' as const, state_reason: tripped } : model;
  // built below only when no fill replaces it (a filled order's next is its counted state)
  let next: OrderState | null = null;
  let projected: AccountAfter | null = null;
  let applied: AppliedFill | null = null;
  let haltReason: string | null = null;
  if (status !== 'rejected' && state.marketPrice !== null && (status === 'filled' || opts.projected !== false)) {
    const order = { side: req.side, symbol, quantity: req.quantity };
    if (status === 'filled') {
      // the state after the fill with the trade counted, in one copy of the state (filledState's fields, then the counts and model)
      const fill = fillOf(state, order, terms, state.marketPrice);
      applied = fill.applied;
      const counted: OrderState = {
        ...state,
        cashCents: applied.cashCents,
        realizedPnlCents: applied.realizedPnlCents,
        positions: fill.positions,
        lossStreak: fill.streak.lossStreak,
        lastLossAt: fill.streak.lastLossAt,
        tradesToday: state.tradesToday + 1,
        tradesInRun: state.tradesInRun + 1,
        model: haltedState,
      };
      if (opts.projected !== false) projected = accountAfter(applied, counted.positions, model.short_margin_pct);
      haltReason =
        (applied.cashCents < 0 ? marginCallReason(applied.cashCents, `${req.side} ${req.quantity} ${symbol} at ${formatPrice(price)}`) : null) ??
        (model.state === 'halted' ? null : breakerReason(counted, state.rules, model.max_drawdown_halt_pct));
      next = haltReason ? { ...counted, model: { ...haltedState, state: 'halted', state_reason: haltReason } } : counted;
    } else projected = applyOrderFill(state, order, terms, state.marketPrice).after;
  }
  return {
    status,
    rejections,
    tripped,
    estimate: { price, slippagePerShare, commissionCents: commission, marketable, marketPrice: state.marketPrice },
    fill: status === 'filled' ? terms : null,
    applied,
    haltReason,
    projected,
    next: next ?? { ...state, model: haltedState },
    quantity: req.quantity,
    downsized: null,
  };
}

/**
 * One fill applied to an in-memory account: cash, realized P&L, the symbol's position
 * (marked at `markPrice`), the peak. Throws LedgerError on a fill the gates refuse.
 */
export function applyOrderFill(
  state: OrderState,
  order: { side: Side; symbol: string; quantity: number },
  terms: FillTerms,
  markPrice: number,
): { applied: AppliedFill; state: OrderState; after: AccountAfter } {
  const { applied, state: next } = filledState(state, order, terms, markPrice);
  return { applied, state: next, after: accountAfter(applied, next.positions, state.model.short_margin_pct) };
}

/** The account after a fill, as a preview reports it: cash, the symbol's quantity, value and figures of `positions` (after the fill). */
function accountAfter(applied: AppliedFill, positions: BookPosition[], shortMarginPct: number): AccountAfter {
  return {
    cashCents: applied.cashCents,
    positionQuantity: applied.position?.quantity ?? 0,
    totalValueCents: portfolioValueCents({ cashCents: applied.cashCents, positions }),
    figures: accountFigures(applied.cashCents, positions, shortMarginPct),
  };
}

/**
 * applyOrderFill's ledger change and state after the fill, without the account figures
 * (for callers that do not read them: the clock step, a replay). Throws as applyOrderFill.
 */
export function filledState(
  state: OrderState,
  order: { side: Side; symbol: string; quantity: number },
  terms: FillTerms,
  markPrice: number,
): { applied: AppliedFill; state: OrderState; after?: undefined } {
  const { applied, positions, streak } = fillOf(state, order, terms, markPrice);
  const next: OrderState = {
    ...state,
    cashCents: applied.cashCents,
    realizedPnlCents: applied.realizedPnlCents,
    positions,
    lossStreak: streak.lossStreak,
    lastLossAt: streak.lastLossAt,
  };
  return { applied, state: next };
}

/** Orders by symbol (code units, as `<` compares strings): the order positions are kept and shown in. */
export const bySymbol = (a: { symbol: string }, b: { symbol: string }) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);

/**
 * Inserts `x` into `xs` (in symbol order) after every element whose symbol is not greater:
 * where a stable sort by symbol puts it. For an account's few positions, cheaper than sorting.
 */
export function insertBySymbol<T extends { symbol: string }>(xs: T[], x: T): void {
  let i = xs.length;
  while (i > 0 && xs[i - 1]!.symbol > x.symbol) i--;
  if (i === xs.length) xs.push(x);
  else xs.splice(i, 0, x);
}

/**
 * One fill on the state's account: the ledger change, the positions after it (by symbol, the
 * filled one marked at `markPrice`) and the loss streak after it. Throws as applyFill.
 */
function fillOf(
  state: OrderState,
  order: { side: Side; symbol: string; quantity: number },
  terms: FillTerms,
  markPrice: number,
): { applied: AppliedFill; positions: BookPosition[]; streak: { lossStreak: number; lastLossAt: string | null } } {
  // One pass: the held position found and the others copied. The positions come sorted by
  // symbol (orderState, the clock step), so the new one is inserted in its place instead of
  // sorting again; an unsorted input is sorted as before (the sort is stable: same order).
  let held: BookPosition | null = null;
  const positions: BookPosition[] = [];
  let sorted = true;
  for (const p of state.positions) {
    if (p.symbol === order.symbol) {
      held ??= p;
      continue;
    }
    if (positions.length && positions[positions.length - 1]!.symbol > p.symbol) sorted = false;
    positions.push(p);
  }
  const applied = applyFill({ cashCents: state.cashCents, realizedPnlCents: state.realizedPnlCents }, held, {
    side: order.side,
    quantity: order.quantity,
    price: terms.price,
    commissionCents: terms.commissionCents,
  });
  if (applied.position) {
    const filled: BookPosition = { symbol: order.symbol, ...applied.position, price: markPrice };
    if (sorted) insertBySymbol(positions, filled);
    else positions.push(filled);
  }
  if (!sorted) positions.sort(bySymbol);
  return { applied, positions, streak: lossStreakAfter(state, { side: order.side, realizedCents: applied.realizedCents }, state.clock) };
}

/** Dollars of an AccountFigures, as get_portfolio reports them. */
export function figuresInDollars(f: AccountFigures) {
  return {
    cash: fromCents(f.cashCents),
    long_market_value: fromCents(f.longMarketValueCents),
    short_market_value: fromCents(f.shortMarketValueCents),
    equity: fromCents(f.equityCents),
    buying_power: fromCents(f.buyingPowerCents),
    margin_used: fromCents(f.marginUsedCents),
  };
}
