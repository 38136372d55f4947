// Position sizing, pure: the largest whole quantity within a risk budget to a stop (quantity =
// floor(equity × risk ÷ |entry − stop|), the design's formula), then capped by the
// position_sizing rules and buying power. size_position reports it; decideOrder's downsize
// cuts an opening order to the largest quantity its downsize rules allow.
//
// Decisions
// - Equity is the portfolio value V of the rules engine (cash + Σ quantity × price at the
//   clock); risk_pct is a fraction; the per-share risk is |entry − stop| in $0.0001 ticks; the
//   risk quantity is exact (BigInt): floor(risk_pct × V × 100 / ticks), risk_pct to 6 dp.
// - Each cap is found with the very check that refuses an order at that quantity (the rules
//   engine's evaluateOrder for one limit of one rule, the buying-power gate of evaluateGates,
//   commission at that quantity included), by binary search over whole shares: every cap is
//   monotone in the quantity. So a sized order passes those checks at the same price.
// - The side is long when the stop is below the entry, short when above.
import { commissionCents } from './fills.js';
import { evaluateGates, INSUFFICIENT_BUYING_POWER, positionQuantity, type GateModel, type Rejection } from './gates.js';
import { formatCents, formatPct, formatPrice, fromCents, priceTicks } from './money.js';
import { checkedRules, evaluateOrder, MAX_ORDER_QTY, MAX_ORDER_VALUE, MAX_POSITION_PCT, portfolioValueCents, RISK_PER_TRADE } from './rules/engine.js';
import { ruleParams, type PositionSizingParams } from './rules/schema.js';
import type { OrderIntent, PortfolioSnapshot, RuleRecord, Side } from './types.js';

/** What sizing reads of an order's state (decide.ts's SizingState has it all). */
export interface SizingState extends PortfolioSnapshot {
  model: GateModel & { commission_per_share: number; short_margin_pct: number };
  rules: RuleRecord[];
  clock: Date;
  marketPrice: number | null;
}

export type CapName = 'risk_per_trade_pct' | 'max_position_pct' | 'max_order_value' | 'max_order_qty' | 'buying_power';

/** One limit on the quantity: the most shares it allows, and the rule it belongs to (null: the buying-power gate). */
export interface SizeCap {
  cap: CapName;
  rule_name: string | null;
  max_quantity: number;
}

export interface Sizing {
  side: 'buy' | 'short';
  entry: number;
  stop: number;
  /** |entry − stop|, dollars. */
  risk_per_share: number;
  /** floor(equity × risk_pct ÷ risk_per_share) before any cap. */
  risk_quantity: number;
  /** The largest whole quantity within the risk and every cap. */
  quantity: number;
  /** quantity × risk_per_share, dollars, and as a fraction of equity. */
  risk: number;
  risk_fraction_of_equity: number | null;
  equity: number;
  caps: SizeCap[];
  /** The caps that cut the risk quantity to `quantity` (empty: the risk itself bound it). */
  bound_by: SizeCap[];
}

const LIMITS = ['risk_per_trade_pct', 'max_position_pct', 'max_order_value', 'max_order_qty'] as const;
const SIZING_CODES = new Set([RISK_PER_TRADE, MAX_POSITION_PCT, MAX_ORDER_VALUE, MAX_ORDER_QTY]);

/** The largest q in [0, hi] with ok(q), for ok true at 0 and monotone (true, then false). */
export function largestQuantity(hi: number, ok: (q: number) => boolean): number {
  let lo = 0;
  let top = Math.max(0, Math.floor(hi));
  while (lo < top) {
    const mid = lo + Math.ceil((top - lo) / 2);
    if (ok(mid)) lo = mid;
    else top = mid - 1;
  }
  return lo;
}

interface Probe {
  state: SizingState;
  side: Side;
  symbol: string;
  price: number;
  /** The symbol's mark for buying power (the market price; size_position's entry). */
  mark: number;
  stopLoss?: number;
}

function intent(p: Probe, q: number): OrderIntent {
  return { side: p.side, symbol: p.symbol, quantity: q, price: p.price, commissionCents: commissionCents(q, p.state.model.commission_per_share), stopLoss: p.stopLoss };
}

/** Does `rule` (its stop-rule fallback alongside) let q shares through? */
function ruleAllows(p: Probe, rule: RuleRecord, q: number): boolean {
  if (q === 0) return true;
  const stops = p.state.rules.filter((r) => r.ruleCategory === 'stop_loss');
  return evaluateOrder(intent(p, q), p.state, p.state.clock, [rule, ...stops]).length === 0;
}

/** Does buying power stay ≥ 0 after q shares (cost, short margin and commission), as the gate judges it? */
function buyingPowerAllows(p: Probe, q: number): boolean {
  if (q === 0) return true;
  const { state } = p;
  const rejections = evaluateGates({
    order: intent(p, q),
    orderType: 'market',
    model: { ...state.model, state: 'active' },
    account: { cashCents: state.cashCents, positionQty: positionQuantity(state, p.symbol), positions: state.positions },
    marketPrice: p.mark,
    shortMarginPct: state.model.short_margin_pct,
    commissionCents: commissionCents(q, state.model.commission_per_share),
    symbolKnown: true,
    priced: true,
    marketOpen: true,
    ordersLastMinute: 0,
    maxOrdersPerMinute: Number.MAX_SAFE_INTEGER,
    clock: state.clock,
  });
  return !rejections.some((r) => r.code === INSUFFICIENT_BUYING_POWER);
}

function sizingRules(state: SizingState, symbol: string): Array<{ rule: RuleRecord; params: PositionSizingParams }> {
  const out: Array<{ rule: RuleRecord; params: PositionSizingParams }> = [];
  for (const rule of checkedRules(state.rules, symbol)) {
    if (rule.ruleCategory !== 'position_sizing') continue;
    const parsed = ruleParams('position_sizing', rule.enforcementParams);
    if (parsed.ok) out.push({ rule, params: parsed.params });
  }
  return out;
}

/**
 * size_position: the largest whole quantity whose risk to `stop` is within riskPct of equity,
 * then each position_sizing limit of the model's rules and buying power, judged at `entry`.
 * Throws nothing: bad input (entry == stop, riskPct outside (0, 1]) is the caller's to refuse.
 */
export function sizePosition(state: SizingState, input: { symbol: string; entry: number; stop: number; riskPct: number }): Sizing {
  const side = input.stop < input.entry ? ('buy' as const) : ('short' as const);
  const perShare = priceTicks(input.entry) - priceTicks(input.stop);
  const ticks = perShare < 0n ? -perShare : perShare;
  const V = portfolioValueCents(state);
  const micros = BigInt(Math.round(input.riskPct * 1_000_000));
  const riskQuantity = V <= 0 ? 0 : Math.min(Number((micros * BigInt(V) * 100n) / (ticks * 1_000_000n)), Number.MAX_SAFE_INTEGER);
  const probe: Probe = { state, side, symbol: input.symbol, price: input.entry, mark: input.entry, stopLoss: input.stop };
  const caps: SizeCap[] = [];
  for (const { rule, params } of sizingRules(state, input.symbol)) {
    for (const limit of LIMITS) {
      if (params[limit] === undefined) continue;
      const one: RuleRecord = { ...rule, enforcementParams: { [limit]: params[limit] } };
      caps.push({ cap: limit, rule_name: rule.ruleName, max_quantity: largestQuantity(riskQuantity, (q) => ruleAllows(probe, one, q)) });
    }
  }
  caps.push({ cap: 'buying_power', rule_name: null, max_quantity: largestQuantity(riskQuantity, (q) => buyingPowerAllows(probe, q)) });
  const quantity = Math.min(riskQuantity, ...caps.map((c) => c.max_quantity));
  const riskCents = Number((BigInt(quantity) * ticks + 50n) / 100n);
  return {
    side,
    entry: input.entry,
    stop: input.stop,
    risk_per_share: Number(ticks) / 10_000,
    risk_quantity: riskQuantity,
    quantity,
    risk: fromCents(riskCents),
    risk_fraction_of_equity: V > 0 ? Math.round((riskCents / V) * 1e6) / 1e6 : null,
    equity: fromCents(V),
    caps,
    bound_by: quantity < riskQuantity ? caps.filter((c) => c.max_quantity === quantity) : [],
  };
}

/** The sentence size_position's result says. */
export function sizingSentence(s: Sizing, symbol: string, riskPct: number): string {
  const head =
    `${formatPct(riskPct)} of ${formatCents(Math.round(s.equity * 100))} equity over ${formatPrice(s.risk_per_share)} a share ` +
    `(entry ${formatPrice(s.entry)}, stop ${formatPrice(s.stop)}) allows ${s.risk_quantity} shares`;
  const cut = s.bound_by.length
    ? `; capped at ${s.quantity} by ${s.bound_by.map((c) => (c.rule_name ? `${c.cap} of rule '${c.rule_name}'` : c.cap)).join(' and ')}`
    : '';
  return `${head}${cut}: ${s.side} ${s.quantity} ${symbol}, risking ${formatCents(Math.round(s.risk * 100))}${s.risk_fraction_of_equity !== null ? ` (${formatPct(s.risk_fraction_of_equity)} of equity)` : ''}.`;
}

/** How decideOrder cut an order (downsize: true). */
export interface Downsized {
  from: number;
  to: number;
  rule_names: string[];
  message: string;
}

/**
 * downsize: true. When a position_sizing rule with downsize refused the opening order (one of
 * its limits), the largest quantity below the request that every such rule and buying power
 * allow at the estimated price; null when none of them refused it or not even one share fits.
 */
export function downsizeQuantity(
  state: SizingState,
  req: { side: Side; symbol: string; quantity: number; stop_loss?: number | null },
  price: number,
  rejections: Rejection[],
): Downsized | null {
  const rules = sizingRules(state, req.symbol).filter((r) => r.params.downsize === true).map((r) => r.rule);
  const ids = new Set(rules.map((r) => r.ruleId));
  const refusedBy = rejections.filter((r) => r.source === 'rule' && ids.has(r.rule_id) && SIZING_CODES.has(r.code));
  if (!refusedBy.length) return null;
  const probe: Probe = { state, side: req.side, symbol: req.symbol, price, mark: state.marketPrice ?? price, stopLoss: req.stop_loss ?? undefined };
  const to = largestQuantity(req.quantity - 1, (q) => rules.every((r) => ruleAllows(probe, r, q)) && buyingPowerAllows(probe, q));
  if (to < 1) return null;
  const names = [...new Set(refusedBy.map((r) => (r as { rule_name: string }).rule_name))];
  return {
    from: req.quantity,
    to,
    rule_names: names,
    message: `Downsized from ${req.quantity} to ${to} shares: the most that rule ${names.map((n) => `'${n}'`).join(', ')} (downsize: true) and buying power allow at ${formatPrice(price)}.`,
  };
}
