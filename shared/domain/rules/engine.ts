// The rules engine: one implementation of every structured rule (CONTRACT §3), used by
// the trade server, the rules server's check_order and the analyst's replay_with_rules.
// Pure: no I/O; the clock and every price are arguments.
//
// Semantics
// - Money is integer cents (money.ts); fractions are compared exactly as millionths
//   (0.2 → 200000/1e6) with BigInt, so "exactly at the limit" passes and one cent or one
//   share over fails, with no float drift.
// - Portfolio value V = cash + Σ quantity × price of every position at the clock
//   (shorts count negative). Every percentage limit is a fraction of V BEFORE the order.
// - An order is risk-reducing when its resulting quantity lies between 0 and the current
//   quantity (sell of a long, cover/buy of a short, never past flat). Everything else
//   (opening, increasing, flipping long↔short) is opening.
// - Risk-reducing orders are never blocked by any rule: a rule must never trap you in a
//   position. That includes blackout windows, trading_hours, no_new_positions_after,
//   trade-count caps and loss limits (the risk gates still apply, e.g. no selling more
//   than held). Exits must always be possible. Reducing orders still count as trades.
// - position_sizing (opening orders): position value after the order = |resulting
//   quantity| × order price ≤ max_position_pct × V; order notional ≤ max_order_value;
//   quantity ≤ max_order_qty; risk_per_trade_pct measures risk to the order's own stop_loss:
//   quantity × |entry − stop| ≤ risk_per_trade_pct × V; else to the tightest stop_loss
//   rule with stop_loss_pct that applies to the symbol: notional × stop_loss_pct ≤
//   risk_per_trade_pct × V; with neither the risk is unknown and the order is refused.
// - risk (opening orders): max_positions counts the open positions in the rule's scope
//   and applies only when the order opens a new symbol; min_cash_reserve_pct: cash after
//   the order and its commission ≥ pct × V, where cash after = cash − notional − fee for buys
//   and shorts alike (the seed's formula: a short's proceeds are collateral, not cash to keep);
//   max_trades_per_run/day: trades so far + 1 ≤ limit; daily loss (day-start value − V)
//   ≥ daily_loss_limit_pct × day-start value or ≥ daily_loss_limit_abs, and drawdown
//   (peak − V)/peak ≥ max_drawdown_pct (peak = max(recorded peak, V)) refuse new risk:
//   reaching the limit counts as breaching it.
// - timing (opening orders), New York wall time of the clock: blackout windows are
//   half-open [start, end); outside trading_hours [start, end) refused; at or after
//   no_new_positions_after refused; at or after flatten_by refused too (the clock would
//   close the position straight away).
// - screening (opening orders): symbol must be in allowed_symbols, must not be in
//   denied_symbols.
// - Scope: applies_to_symbols (when non-empty) limits a rule to those symbols;
//   exclude_symbols removes symbols. Inactive rules never act. strategy/entry_exit are
//   advisory and stop_loss rules never block orders (they act through exitSignals).
// - A stored rule whose params no longer parse blocks opening orders (INVALID_RULE):
//   failing closed is safer than silently dropping a limit.
// - Loss limits measure the whole portfolio; lossLimitBreaches reports every active risk
//   rule whose limit is reached, whatever its symbol scope (halting is model-wide).

import type { Bar, MarkedPosition, OrderIntent, PortfolioSnapshot, RuleCategory, RuleRecord, Violation } from '../types.js';
import { formatCents, formatPct, formatPrice, notionalCents, priceTicks, toCents } from '../money.js';
import { barRange } from '../fills.js';
import { hhmmToMinutes, nyLocal } from '../ny-time.js';
import {
  ORDER_CATEGORIES,
  ruleParams,
  type PositionSizingParams,
  type RiskParams,
  type ScreeningParams,
  type StopLossParams,
  type TimingParams,
} from './schema.js';

// --- stable violation codes ---
export const MAX_POSITION_PCT = 'MAX_POSITION_PCT';
export const MAX_ORDER_VALUE = 'MAX_ORDER_VALUE';
export const MAX_ORDER_QTY = 'MAX_ORDER_QTY';
export const RISK_PER_TRADE = 'RISK_PER_TRADE';
export const MAX_POSITIONS = 'MAX_POSITIONS';
export const MIN_CASH_RESERVE = 'MIN_CASH_RESERVE';
export const MAX_TRADES_PER_RUN = 'MAX_TRADES_PER_RUN';
export const MAX_TRADES_PER_DAY = 'MAX_TRADES_PER_DAY';
export const DAILY_LOSS_LIMIT = 'DAILY_LOSS_LIMIT';
export const MAX_DRAWDOWN = 'MAX_DRAWDOWN';
export const BLACKOUT_WINDOW = 'BLACKOUT_WINDOW';
export const OUTSIDE_TRADING_HOURS = 'OUTSIDE_TRADING_HOURS';
export const NO_NEW_POSITIONS = 'NO_NEW_POSITIONS';
export const AFTER_FLATTEN_BY = 'AFTER_FLATTEN_BY';
export const SYMBOL_NOT_ALLOWED = 'SYMBOL_NOT_ALLOWED';
export const SYMBOL_DENIED = 'SYMBOL_DENIED';
export const INVALID_RULE = 'INVALID_RULE';
export const LOSS_COOLDOWN = 'LOSS_COOLDOWN';

export const VIOLATION_CODES = [
  MAX_POSITION_PCT,
  MAX_ORDER_VALUE,
  MAX_ORDER_QTY,
  RISK_PER_TRADE,
  MAX_POSITIONS,
  MIN_CASH_RESERVE,
  MAX_TRADES_PER_RUN,
  MAX_TRADES_PER_DAY,
  DAILY_LOSS_LIMIT,
  MAX_DRAWDOWN,
  BLACKOUT_WINDOW,
  OUTSIDE_TRADING_HOURS,
  NO_NEW_POSITIONS,
  AFTER_FLATTEN_BY,
  SYMBOL_NOT_ALLOWED,
  SYMBOL_DENIED,
  INVALID_RULE,
  LOSS_COOLDOWN,
] as const;
export type ViolationCode = (typeof VIOLATION_CODES)[number];

// --- exact fraction arithmetic ---

const MILLION = 1_000_000n;

/** A fraction as integer millionths: 0.2 → 200000n. */
function micros(fraction: number): bigint {
  return BigInt(Math.round(fraction * 1_000_000));
}

/** amount ≤ fraction × base, exactly. */
function atMostFraction(amountCents: number, fraction: number, baseCents: number): boolean {
  return BigInt(amountCents) * MILLION <= micros(fraction) * BigInt(baseCents);
}

/** amount ≥ fraction × base, exactly. */
function atLeastFraction(amountCents: number, fraction: number, baseCents: number): boolean {
  return BigInt(amountCents) * MILLION >= micros(fraction) * BigInt(baseCents);
}

/** fraction × base in cents, rounded down (the most an "at most" limit allows). */
function fractionFloor(fraction: number, baseCents: number): number {
  const p = micros(fraction) * BigInt(baseCents);
  const q = p / MILLION;
  return Number(p < 0n && q * MILLION !== p ? q - 1n : q);
}

/** fraction × base in cents, rounded up (the least an "at least" threshold needs). */
function fractionCeil(fraction: number, baseCents: number): number {
  const p = micros(fraction) * BigInt(baseCents);
  const q = p / MILLION;
  return Number(p > 0n && q * MILLION !== p ? q + 1n : q);
}

function ratioText(partCents: number, wholeCents: number): string {
  return wholeCents > 0 ? formatPct(partCents / wholeCents) : 'n/a';
}

// --- portfolio facts ---

/** cash + Σ quantity × price (shorts negative), in cents. */
export function portfolioValueCents(portfolio: Pick<PortfolioSnapshot, 'cashCents' | 'positions'>): number {
  let total = portfolio.cashCents;
  for (const p of portfolio.positions) total += notionalCents(p.quantity, p.price);
  return total;
}

function signedDelta(order: Pick<OrderIntent, 'side' | 'quantity'>): number {
  return order.side === 'buy' || order.side === 'cover' ? order.quantity : -order.quantity;
}

function heldQuantity(portfolio: PortfolioSnapshot, symbol: string): number {
  let q = 0;
  for (const p of portfolio.positions) if (p.symbol === symbol) q += p.quantity;
  return q;
}

/** Resulting quantity between 0 and the current one: the order only reduces risk. */
export function isRiskReducing(order: OrderIntent, portfolio: PortfolioSnapshot): boolean {
  return reducesHolding(heldQuantity(portfolio, order.symbol), order);
}

/** isRiskReducing given the signed quantity of the order's symbol held now. */
export function reducesHolding(before: number, order: Pick<OrderIntent, 'side' | 'quantity'>): boolean {
  const after = before + signedDelta(order);
  if (before > 0) return after >= 0 && after < before;
  if (before < 0) return after <= 0 && after > before;
  return false;
}

// --- scope ---

const ORDER_CATEGORY_SET: ReadonlySet<RuleCategory> = new Set(ORDER_CATEGORIES);

/** Does the rule cover this symbol (applies_to / exclude)? */
export function ruleAppliesTo(rule: RuleRecord, symbol: string): boolean {
  const s = symbol.toUpperCase();
  if (rule.appliesToSymbols && rule.appliesToSymbols.length > 0) {
    if (!rule.appliesToSymbols.some((x) => x.toUpperCase() === s)) return false;
  }
  if (rule.excludeSymbols && rule.excludeSymbols.some((x) => x.toUpperCase() === s)) return false;
  return true;
}

function byPriority(a: { priority: number; ruleName: string }, b: { priority: number; ruleName: string }): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.ruleName < b.ruleName ? -1 : a.ruleName > b.ruleName ? 1 : 0;
}

/** The active rules an order for `symbol` is checked against, highest priority first. */
export function checkedRules(rules: RuleRecord[], symbol: string): RuleRecord[] {
  return rules
    .filter((r) => r.isActive && ORDER_CATEGORY_SET.has(r.ruleCategory) && ruleAppliesTo(r, symbol))
    .sort(byPriority);
}

// --- order evaluation ---

interface Ctx {
  order: OrderIntent;
  portfolio: PortfolioSnapshot;
  rules: RuleRecord[];
  valueCents: number;
  before: number;
  after: number;
  notional: number;
  ny: { hhmm: string; minutes: number };
  clock: Date;
}

type Emit = (code: ViolationCode, detail: string) => void;

/**
 * Every rule the order would violate, highest priority first (ties by rule name). `valueCents`:
 * the portfolio's value (portfolioValueCents) when the caller has it.
 */
export function evaluateOrder(order: OrderIntent, portfolio: PortfolioSnapshot, clock: Date, rules: RuleRecord[], valueCents?: number): Violation[] {
  const before = heldQuantity(portfolio, order.symbol);
  // Exits must always be possible: no rule blocks a risk-reducing order.
  if (reducesHolding(before, order)) return [];
  const ctx: Ctx = {
    order,
    portfolio,
    rules,
    valueCents: valueCents ?? portfolioValueCents(portfolio),
    before,
    after: before + signedDelta(order),
    notional: notionalCents(order.quantity, order.price),
    ny: nyLocal(clock), // frozen: its hhmm and minutes are read
    clock,
  };
  const out: Violation[] = [];
  // one emitter per call, naming the rule being checked (not a closure per rule per order)
  let rule!: RuleRecord;
  const emit: Emit = (code, detail) =>
    out.push({
      ruleId: rule.ruleId,
      ruleName: rule.ruleName,
      ruleCategory: rule.ruleCategory,
      priority: rule.priority,
      code,
      message: `Rule '${rule.ruleName}': ${detail}`,
    });
  for (rule of checkedRules(rules, order.symbol)) {
    const parsed = ruleParams(rule.ruleCategory, rule.enforcementParams);
    if (!parsed.ok) {
      emit(INVALID_RULE, `its parameters are invalid (${parsed.error.replace(/\.$/, '')}), so no new risk is allowed until the rule is fixed`);
      continue;
    }
    switch (rule.ruleCategory) {
      case 'position_sizing':
        checkSizing(ctx, parsed.params as PositionSizingParams, emit);
        break;
      case 'risk':
        checkRisk(ctx, rule, parsed.params as RiskParams, emit);
        break;
      case 'timing':
        checkTiming(ctx, parsed.params as TimingParams, emit);
        break;
      case 'screening':
        checkScreening(ctx, parsed.params as ScreeningParams, emit);
        break;
    }
  }
  // checkedRules already sorted; a stable sort keeps each rule's own violations in order.
  return out.sort(byPriority);
}

function checkSizing(ctx: Ctx, p: PositionSizingParams, emit: Emit): void {
  const { order, valueCents: V } = ctx;
  if (p.max_position_pct !== undefined) {
    const position = notionalCents(Math.abs(ctx.after), order.price);
    if (V <= 0 || !atMostFraction(position, p.max_position_pct, V)) {
      emit(
        MAX_POSITION_PCT,
        `position would be ${formatCents(position)} = ${ratioText(position, V)} of ${formatCents(V)} portfolio ` +
          `(limit ${formatPct(p.max_position_pct)} = ${formatCents(Math.max(0, fractionFloor(p.max_position_pct, V)))})`,
      );
    }
  }
  if (p.max_order_value !== undefined) {
    const limit = toCents(p.max_order_value);
    if (ctx.notional > limit) {
      emit(
        MAX_ORDER_VALUE,
        `order value would be ${order.quantity} × ${formatPrice(order.price)} = ${formatCents(ctx.notional)} ` +
          `(limit ${formatCents(limit)} per order)`,
      );
    }
  }
  if (p.max_order_qty !== undefined && order.quantity > p.max_order_qty) {
    emit(MAX_ORDER_QTY, `order is for ${order.quantity} shares (limit ${p.max_order_qty} shares per order)`);
  }
  if (p.risk_per_trade_pct !== undefined && order.stopLoss !== undefined) {
    // the order's own stop: risk = quantity × |entry − stop| (the design's sizing formula)
    const perShareTicks = priceTicks(order.price) - priceTicks(order.stopLoss);
    const riskTicks = BigInt(order.quantity) * (perShareTicks < 0n ? -perShareTicks : perShareTicks);
    // risk (ticks of $0.0001 = 1/100 cent) ≤ pct × V (cents)
    if (V <= 0 || riskTicks * MILLION > micros(p.risk_per_trade_pct) * BigInt(V) * 100n) {
      const riskCents = Number((riskTicks + 50n) / 100n);
      emit(
        RISK_PER_TRADE,
        `risk to the order's stop_loss ${formatPrice(order.stopLoss)} would be ${order.quantity} × ${formatPrice(Number(perShareTicks < 0n ? -perShareTicks : perShareTicks) / 10_000)} = ` +
          `${formatCents(riskCents)} = ${ratioText(riskCents, V)} of ${formatCents(V)} portfolio ` +
          `(limit ${formatPct(p.risk_per_trade_pct)} = ${formatCents(Math.max(0, fractionFloor(p.risk_per_trade_pct, V)))})`,
      );
    }
  } else if (p.risk_per_trade_pct !== undefined) {
    const stop = tightestStop(ctx.rules, order.symbol);
    if (!stop) {
      emit(
        RISK_PER_TRADE,
        `an opening order needs a stop to measure its risk (limit ${formatPct(p.risk_per_trade_pct)} of the portfolio per trade): ` +
          'give the order a stop_loss, or add a stop_loss rule with stop_loss_pct',
      );
    } else {
      // notional × stop ≤ risk × V, both fractions in millionths.
      const risk = BigInt(ctx.notional) * micros(stop.pct);
      const allowed = micros(p.risk_per_trade_pct) * BigInt(V);
      if (V <= 0 || risk > allowed) {
        const riskCents = Math.round(Number(risk) / 1_000_000);
        emit(
          RISK_PER_TRADE,
          `risk if the ${formatPct(stop.pct)} stop of '${stop.ruleName}' is hit would be ${formatCents(ctx.notional)} × ` +
            `${formatPct(stop.pct)} = ${formatCents(riskCents)} = ${ratioText(riskCents, V)} of ${formatCents(V)} portfolio ` +
            `(limit ${formatPct(p.risk_per_trade_pct)} = ${formatCents(Math.max(0, fractionFloor(p.risk_per_trade_pct, V)))})`,
        );
      }
    }
  }
}

function tightestStop(rules: RuleRecord[], symbol: string): { pct: number; ruleName: string } | null {
  let best: { pct: number; ruleName: string } | null = null;
  for (const r of rules) {
    if (!r.isActive || r.ruleCategory !== 'stop_loss' || !ruleAppliesTo(r, symbol)) continue;
    const parsed = ruleParams('stop_loss', r.enforcementParams);
    const pct = parsed.ok ? parsed.params.stop_loss_pct : undefined;
    if (pct !== undefined && (!best || pct < best.pct)) best = { pct, ruleName: r.ruleName };
  }
  return best;
}

function checkRisk(ctx: Ctx, rule: RuleRecord, p: RiskParams, emit: Emit): void {
  const { order, portfolio, valueCents: V } = ctx;
  if (p.max_positions !== undefined && ctx.before === 0) {
    const open = new Set(
      portfolio.positions.filter((x) => x.quantity !== 0 && ruleAppliesTo(rule, x.symbol)).map((x) => x.symbol),
    ).size;
    if (open + 1 > p.max_positions) {
      emit(
        MAX_POSITIONS,
        `opening ${order.symbol} would make ${open + 1} open positions (${open} open now; limit ${p.max_positions})`,
      );
    }
  }
  if (p.min_cash_reserve_pct !== undefined) {
    // The commission leaves cash too: a reserve that ignored it would be breached by the fee.
    // A short's proceeds are collateral, not spendable cash: buys and shorts alike take the
    // notional out of the cash the reserve judges (only opening orders get here).
    const cashAfter = portfolio.cashCents - ctx.notional - (order.commissionCents ?? 0);
    if (!atLeastFraction(cashAfter, p.min_cash_reserve_pct, V)) {
      emit(
        MIN_CASH_RESERVE,
        `cash after the order would be ${formatCents(cashAfter)} = ${ratioText(cashAfter, V)} of ${formatCents(V)} portfolio ` +
          `(must keep at least ${formatPct(p.min_cash_reserve_pct)} = ${formatCents(fractionCeil(p.min_cash_reserve_pct, V))})`,
      );
    }
  }
  if (p.max_trades_per_run !== undefined && portfolio.tradesInRun + 1 > p.max_trades_per_run) {
    emit(
      MAX_TRADES_PER_RUN,
      `this would be trade ${portfolio.tradesInRun + 1} of the run (limit ${p.max_trades_per_run}; only risk-reducing orders are allowed now)`,
    );
  }
  if (p.max_trades_per_day !== undefined && portfolio.tradesToday + 1 > p.max_trades_per_day) {
    emit(
      MAX_TRADES_PER_DAY,
      `this would be trade ${portfolio.tradesToday + 1} today (limit ${p.max_trades_per_day}; only risk-reducing orders are allowed now)`,
    );
  }
  for (const breach of lossBreaches(portfolio, V, p)) emit(breach.code, breach.detail);
  const until = cooldownEnd(portfolio, p);
  if (until && ctx.clock < until) {
    emit(
      LOSS_COOLDOWN,
      `cooldown after ${portfolio.lossStreak} losing round trips in a row (limit ${p.cooldown_after_losses}): no new risk for ` +
        `${p.cooldown_minutes} minutes of run clock after the last loss at ${nyStamp(new Date(portfolio.lastLossAt!))}, until ${nyStamp(until)} ` +
        '(exits are still allowed)',
    );
  }
}

/** When a cooldown_after_losses streak's cooldown ends (run clock), or null when none applies. */
export function cooldownEnd(portfolio: Pick<PortfolioSnapshot, 'lossStreak' | 'lastLossAt'>, p: RiskParams): Date | null {
  if (p.cooldown_after_losses === undefined || p.cooldown_minutes === undefined || !portfolio.lastLossAt) return null;
  if ((portfolio.lossStreak ?? 0) < p.cooldown_after_losses) return null;
  return new Date(Date.parse(portfolio.lastLossAt) + p.cooldown_minutes * 60_000);
}

/** The latest end, after `clock`, of any active risk rule's cooldown the streak has started, or null. */
export function cooldownUntil(portfolio: Pick<PortfolioSnapshot, 'lossStreak' | 'lastLossAt'>, rules: RuleRecord[], clock: Date): Date | null {
  let until: Date | null = null;
  for (const rule of rules) {
    if (!rule.isActive || rule.ruleCategory !== 'risk') continue;
    const parsed = ruleParams('risk', rule.enforcementParams);
    const end = parsed.ok ? cooldownEnd(portfolio, parsed.params) : null;
    if (end && end > clock && (!until || end > until)) until = end;
  }
  return until;
}

function nyStamp(at: Date): string {
  const l = nyLocal(at);
  return `${l.date} ${l.hhmm} ET`;
}

/** Is this model halt reason a halt_after_losses halt (reason loss_streak)? */
export function isLossStreakHalt(reason: string | null | undefined): boolean {
  return reason?.startsWith('loss_streak:') === true;
}

/**
 * The halt a risk rule's halt_after_losses demands when the streak has reached it, as the
 * model's halt reason (it starts with loss_streak), or null. The highest-priority rule reached is named.
 */
export function lossStreakHalt(portfolio: Pick<PortfolioSnapshot, 'lossStreak'>, rules: RuleRecord[]): string | null {
  const streak = portfolio.lossStreak ?? 0;
  if (streak <= 0) return null;
  let hit: { rule: RuleRecord; n: number } | null = null;
  for (const rule of rules) {
    if (!rule.isActive || rule.ruleCategory !== 'risk') continue;
    const parsed = ruleParams('risk', rule.enforcementParams);
    const n = parsed.ok ? parsed.params.halt_after_losses : undefined;
    if (n === undefined || streak < n) continue;
    if (!hit || byPriority(rule, hit.rule) < 0) hit = { rule, n };
  }
  return hit
    ? `loss_streak: Rule '${hit.rule.ruleName}': ${streak} losing round trips in a row (halt_after_losses ${hit.n}); ` +
        'trading is halted until a key with approve resumes it (resuming starts a new streak).'
    : null;
}

function lossBreaches(
  portfolio: PortfolioSnapshot,
  V: number,
  p: RiskParams,
): Array<{ code: typeof DAILY_LOSS_LIMIT | typeof MAX_DRAWDOWN; detail: string }> {
  const out: Array<{ code: typeof DAILY_LOSS_LIMIT | typeof MAX_DRAWDOWN; detail: string }> = [];
  const start = portfolio.dayStartValueCents;
  const loss = start - V;
  const tail = 'only risk-reducing orders are allowed';
  if (p.daily_loss_limit_pct !== undefined && start > 0 && loss > 0 && atLeastFraction(loss, p.daily_loss_limit_pct, start)) {
    out.push({
      code: DAILY_LOSS_LIMIT,
      detail:
        `day loss is ${formatCents(loss)} = ${ratioText(loss, start)} of the ${formatCents(start)} day-start value ` +
        `(limit ${formatPct(p.daily_loss_limit_pct)} = ${formatCents(fractionCeil(p.daily_loss_limit_pct, start))}); ${tail}`,
    });
  }
  if (p.daily_loss_limit_abs !== undefined) {
    const limit = toCents(p.daily_loss_limit_abs);
    if (loss > 0 && loss >= limit) {
      out.push({
        code: DAILY_LOSS_LIMIT,
        detail: `day loss is ${formatCents(loss)} from the ${formatCents(start)} day-start value (limit ${formatCents(limit)}); ${tail}`,
      });
    }
  }
  if (p.max_drawdown_pct !== undefined) {
    const peak = Math.max(portfolio.peakValueCents, V);
    const dd = peak - V;
    if (peak > 0 && dd > 0 && atLeastFraction(dd, p.max_drawdown_pct, peak)) {
      out.push({
        code: MAX_DRAWDOWN,
        detail:
          `drawdown is ${formatCents(dd)} = ${ratioText(dd, peak)} below the ${formatCents(peak)} peak ` +
          `(limit ${formatPct(p.max_drawdown_pct)} = ${formatCents(fractionCeil(p.max_drawdown_pct, peak))}); ${tail}`,
      });
    }
  }
  return out;
}

/**
 * The tightest daily loss among active risk rules at which lossLimitBreaches fires, in
 * cents (null: no daily loss limit). The same exact threshold: ceil(pct × day-start value).
 */
export function dailyLossLimitCents(dayStartValueCents: number, rules: RuleRecord[]): number | null {
  let limit: number | null = null;
  for (const rule of rules) {
    if (!rule.isActive || rule.ruleCategory !== 'risk') continue;
    const parsed = ruleParams('risk', rule.enforcementParams);
    if (!parsed.ok) continue;
    const p = parsed.params;
    const candidates = [
      p.daily_loss_limit_pct !== undefined && dayStartValueCents > 0 ? Math.max(1, fractionCeil(p.daily_loss_limit_pct, dayStartValueCents)) : null,
      p.daily_loss_limit_abs !== undefined ? Math.max(1, toCents(p.daily_loss_limit_abs)) : null,
    ];
    for (const c of candidates) if (c !== null && (limit === null || c < limit)) limit = c;
  }
  return limit;
}

/**
 * Risk rules whose daily loss limit or max drawdown is reached now: the circuit breaker.
 * `V`: the portfolio's value when the caller has it (portfolioValueCents).
 */
export function lossLimitBreaches(portfolio: PortfolioSnapshot, rules: RuleRecord[], V: number = portfolioValueCents(portfolio)): Violation[] {
  const out: Violation[] = [];
  for (const rule of rules) {
    if (!rule.isActive || rule.ruleCategory !== 'risk') continue;
    const parsed = ruleParams('risk', rule.enforcementParams);
    if (!parsed.ok) continue;
    for (const b of lossBreaches(portfolio, V, parsed.params)) {
      out.push({
        ruleId: rule.ruleId,
        ruleName: rule.ruleName,
        ruleCategory: rule.ruleCategory,
        priority: rule.priority,
        code: b.code,
        message: `Rule '${rule.ruleName}': ${b.detail}`,
      });
    }
  }
  return out.sort(byPriority);
}

function checkTiming(ctx: Ctx, p: TimingParams, emit: Emit): void {
  const now = ctx.ny.minutes;
  const at = `it is ${ctx.ny.hhmm} ET`;
  for (const w of p.blackout_windows ?? []) {
    if (now >= hhmmToMinutes(w.start) && now < hhmmToMinutes(w.end)) {
      emit(BLACKOUT_WINDOW, `no new risk from ${w.start} to ${w.end} ET and ${at} (exits are still allowed)`);
    }
  }
  if (p.trading_hours) {
    const { start, end } = p.trading_hours;
    if (now < hhmmToMinutes(start) || now >= hhmmToMinutes(end)) {
      emit(OUTSIDE_TRADING_HOURS, `new risk only from ${start} to ${end} ET and ${at} (exits are still allowed)`);
    }
  }
  if (p.no_new_positions_after !== undefined && now >= hhmmToMinutes(p.no_new_positions_after)) {
    emit(NO_NEW_POSITIONS, `no new or larger positions from ${p.no_new_positions_after} ET on and ${at}`);
  }
  if (p.flatten_by !== undefined && now >= hhmmToMinutes(p.flatten_by)) {
    emit(AFTER_FLATTEN_BY, `positions are closed from ${p.flatten_by} ET on and ${at}, so no new risk is taken`);
  }
}

function checkScreening(ctx: Ctx, p: ScreeningParams, emit: Emit): void {
  const s = ctx.order.symbol.toUpperCase();
  if (p.allowed_symbols && !p.allowed_symbols.includes(s)) {
    const list = p.allowed_symbols.length <= 10 ? p.allowed_symbols.join(', ') : `${p.allowed_symbols.slice(0, 10).join(', ')} and ${p.allowed_symbols.length - 10} more`;
    emit(SYMBOL_NOT_ALLOWED, `${s} is not in the allowed symbols (${list})`);
  }
  if (p.denied_symbols && p.denied_symbols.includes(s)) {
    emit(SYMBOL_DENIED, `${s} is in the denied symbols`);
  }
}

// --- exits on the clock ---

export type ExitCode = 'STOP_LOSS' | 'TAKE_PROFIT' | 'TRAILING_STOP' | 'FLATTEN_BY';

export interface ExitSignal {
  ruleId: string;
  ruleName: string;
  code: ExitCode;
  symbol: string;
  /** Shares to close, positive. */
  quantity: number;
  side: 'sell' | 'cover';
  /** Trigger price in dollars (the bar's open when the bar gaps through the level). */
  price: number;
  reason: string;
}

export interface ExitPosition extends MarkedPosition {
  /** Highest price since entry, before this bar (long trailing stops). */
  highWater?: number;
  /** Lowest price since entry, before this bar (short trailing stops). */
  lowWater?: number;
}

const TICKS_PER_DOLLAR = 10_000;

// shifted's recent answers, one per slot: a clock step checks the same positions' stop levels
// (the same average cost and fraction) bar after bar.
const SHIFT_SLOTS = 256;
const shiftPrice = new Float64Array(SHIFT_SLOTS).fill(NaN);
const shiftFraction = new Float64Array(SHIFT_SLOTS);
const shiftSign = new Int8Array(SHIFT_SLOTS);
const shiftTicks: bigint[] = new Array<bigint>(SHIFT_SLOTS).fill(0n);

/** price × (1 ± fraction) rounded half up to 4 dp, exactly. */
function shifted(price: number, fraction: number, sign: 1 | -1): bigint {
  const slot = (Math.round(price * 100) ^ Math.round(fraction * 1e6) ^ (sign * 128)) & (SHIFT_SLOTS - 1);
  if (shiftPrice[slot] === price && shiftFraction[slot] === fraction && shiftSign[slot] === sign) return shiftTicks[slot]!;
  const p = priceTicks(price) * (MILLION + BigInt(sign) * micros(fraction));
  const q = p / MILLION;
  const out = p % MILLION * 2n >= MILLION ? q + 1n : q;
  // numbers only: a price given as text rounds as text (priceTicks) and must not answer for its number
  if (typeof price !== 'number') return out;
  shiftPrice[slot] = price;
  shiftFraction[slot] = fraction;
  shiftSign[slot] = sign;
  shiftTicks[slot] = out;
  return out;
}

const ticksToPrice = (t: bigint) => Number(t) / TICKS_PER_DOLLAR;

/** price × (1 + sign × fraction), half up to $0.0001, exactly: the level of a percentage stop or target. */
export function shiftedPrice(price: number, fraction: number, sign: 1 | -1): number {
  return ticksToPrice(shifted(price, fraction, sign));
}

interface Candidate {
  rule: RuleRecord;
  code: Exclude<ExitCode, 'FLATTEN_BY'>;
  level: bigint;
  fill: bigint;
  gapped: boolean;
  pct: number;
  basis: bigint;
}

/**
 * At most one exit for the position on this bar. Stops (fixed and trailing) are checked
 * before take-profit when both are touched in one bar (conservative); among touched
 * stops the one price reaches first wins (the highest for a long), among targets the
 * nearest. With no price exit, flatten_by from a timing rule closes at the position's
 * price. One call per position per step covers every exit rule.
 */
export function exitSignals(input: { position: ExitPosition; bar: Bar; clock: Date; rules: RuleRecord[] }): ExitSignal[] {
  const { position, bar, clock, rules } = input;
  const qty = position.quantity;
  if (qty === 0) return [];
  const long = qty > 0;
  const { open, low, high } = barRange(bar);
  const avg = priceTicks(position.avgCost);
  const stops: Candidate[] = [];
  const targets: Candidate[] = [];

  for (const rule of rules) {
    if (!rule.isActive || rule.ruleCategory !== 'stop_loss' || !ruleAppliesTo(rule, position.symbol)) continue;
    const parsed = ruleParams('stop_loss', rule.enforcementParams);
    if (!parsed.ok) continue;
    const p: StopLossParams = parsed.params;
    if (p.stop_loss_pct !== undefined) stopCandidate(stops, rule, 'STOP_LOSS', p.stop_loss_pct, position.avgCost, long, open, low, high);
    if (p.trailing_stop_pct !== undefined) {
      // The open comes before anything else in the bar, so it may raise the mark first.
      const openPrice = ticksToPrice(open);
      const mark = long
        ? Math.max(position.highWater ?? Math.max(position.avgCost, position.price), openPrice)
        : Math.min(position.lowWater ?? Math.min(position.avgCost, position.price), openPrice);
      stopCandidate(stops, rule, 'TRAILING_STOP', p.trailing_stop_pct, mark, long, open, low, high);
    }
    if (p.take_profit_pct !== undefined) {
      const level = shifted(position.avgCost, p.take_profit_pct, long ? 1 : -1);
      if (level <= 0n) continue;
      const touched = long ? high >= level : low <= level;
      if (touched) {
        const gapped = long ? open >= level : open <= level;
        targets.push({ rule, code: 'TAKE_PROFIT', level, fill: gapped ? open : level, gapped, pct: p.take_profit_pct, basis: avg });
      }
    }
  }

  const hit = firstCandidate(stops, long) ?? firstCandidate(targets, !long);
  if (hit) return [toSignal(hit, position, long)];
  return flattenBy(clock, [position], rules);
}

/** A percentage stop of `rule` at `pct` from `basisPrice`, kept in `stops` when the bar touched it. */
function stopCandidate(stops: Candidate[], rule: RuleRecord, code: 'STOP_LOSS' | 'TRAILING_STOP', pct: number, basisPrice: number, long: boolean, open: bigint, low: bigint, high: bigint): void {
  const level = shifted(basisPrice, pct, long ? -1 : 1);
  const touched = long ? low <= level : high >= level;
  if (!touched) return;
  const gapped = long ? open <= level : open >= level;
  stops.push({ rule, code, level, fill: gapped ? open : level, gapped, pct, basis: priceTicks(basisPrice) });
}

/** Price moving against a long meets the highest stop first; the nearest target first. */
function firstCandidate(cs: Candidate[], preferHigh: boolean): Candidate | undefined {
  if (cs.length < 2) return cs[0];
  return [...cs].sort((a, b) => {
    if (a.level !== b.level) return (a.level > b.level ? -1 : 1) * (preferHigh ? 1 : -1);
    return byPriority(a.rule, b.rule);
  })[0];
}

function toSignal(c: Candidate, position: MarkedPosition, long: boolean): ExitSignal {
  const level = formatPrice(ticksToPrice(c.level));
  const basis = formatPrice(ticksToPrice(c.basis));
  const pct = formatPct(c.pct);
  let what: string;
  if (c.code === 'STOP_LOSS') {
    what = `stop loss ${pct} ${long ? 'below' : 'above'} the ${basis} average cost is ${level}`;
  } else if (c.code === 'TRAILING_STOP') {
    what = `trailing stop ${pct} ${long ? 'below the' : 'above the'} ${long ? 'high' : 'low'} of ${basis} is ${level}`;
  } else {
    what = `take profit ${pct} ${long ? 'above' : 'below'} the ${basis} average cost is ${level}`;
  }
  const how = c.gapped
    ? `the bar opened at ${formatPrice(ticksToPrice(c.fill))}, through it, so the exit is at the open`
    : `the bar's ${(c.code === 'TAKE_PROFIT') === long ? 'high' : 'low'} reached it`;
  return {
    ruleId: c.rule.ruleId,
    ruleName: c.rule.ruleName,
    code: c.code,
    symbol: position.symbol,
    quantity: Math.abs(position.quantity),
    side: long ? 'sell' : 'cover',
    price: ticksToPrice(c.fill),
    reason: `Rule '${c.rule.ruleName}': ${what}; ${how}; ${long ? 'selling' : 'covering'} ${Math.abs(position.quantity)} ${position.symbol}.`,
  };
}

/** When New York time is at or after a timing rule's flatten_by: close every position in its scope. */
export function flattenBy(clock: Date, positions: MarkedPosition[], rules: RuleRecord[]): ExitSignal[] {
  let local: ReturnType<typeof nyLocal> | null = null;
  const timing: Array<{ rule: RuleRecord; at: string }> = [];
  for (const rule of rules) {
    if (!rule.isActive || rule.ruleCategory !== 'timing') continue;
    const parsed = ruleParams('timing', rule.enforcementParams);
    const at = parsed.ok ? parsed.params.flatten_by : undefined;
    if (at !== undefined && (local ??= nyLocal(clock)).minutes >= hhmmToMinutes(at)) timing.push({ rule, at });
  }
  if (!timing.length) return [];
  // Earliest deadline first, then priority: the rule that demanded the close soonest is named.
  timing.sort((a, b) => (a.at !== b.at ? (a.at < b.at ? -1 : 1) : byPriority(a.rule, b.rule)));
  const out: ExitSignal[] = [];
  for (const position of positions) {
    if (position.quantity === 0) continue;
    const hit = timing.find((t) => ruleAppliesTo(t.rule, position.symbol));
    if (!hit) continue;
    const long = position.quantity > 0;
    const qty = Math.abs(position.quantity);
    out.push({
      ruleId: hit.rule.ruleId,
      ruleName: hit.rule.ruleName,
      code: 'FLATTEN_BY',
      symbol: position.symbol,
      quantity: qty,
      side: long ? 'sell' : 'cover',
      price: position.price,
      reason:
        `Rule '${hit.rule.ruleName}': flatten by ${hit.at} ET and it is ${local!.hhmm} ET; ` +
        `${long ? 'selling' : 'covering'} ${qty} ${position.symbol} at ${formatPrice(position.price)}.`,
    });
  }
  return out;
}
