// The exits attached to a held position (CONTRACT §4 brackets), pure: what an opening order
// or set_exits attaches, where each level is checked, what the first target leaves, and the
// live levels get_portfolio shows. The clock (clock-step.ts) fires them.
//
// Decisions
// - A plan: stop, first target, second target, the fraction the first target closes,
//   breakeven after the first target, a trailing stop (a fraction of the water mark).
// - The first target closes first_target_fraction of the position, rounded down to whole
//   shares and at least 1 (all of it when that is the whole). Without a fraction it closes
//   everything, or half with a second target. The rest is judged from the next bar (the path
//   inside a bar after the touch is unknown), unless the bar opened through the first target:
//   then the open is checked against the rest's levels too (a gap through both fills both).
// - breakeven_after_first_target moves the stop to the average entry price once the first
//   target fills (a partial exit keeps the average cost).
// - A trailing stop trails the high water (a long; low water for a short) of the bars since
//   the fill, as the clock judges the rules' trailing stop: the mark starts at the average
//   cost and the bar's open may raise it before anything else in the bar; level =
//   mark × (1 ∓ pct), half up to $0.0001.
// - An order's or set_exits' given fields override the plan; the rest stay (a first target
//   that filled stays filled).
import { formatPrice, priceTicks } from './money.js';
import { shiftedPrice } from './rules/engine.js';

export interface ExitPlan {
  stop: number | null;
  target: number | null;
  target2: number | null;
  /** Part of the position the first target closes, (0, 1); null: all, or half with a second target. */
  firstTargetFraction: number | null;
  breakeven: boolean;
  /** Fraction of the water mark, (0, 1). */
  trailingPct: number | null;
  firstTargetFilled: boolean;
}

export const NO_EXITS: ExitPlan = {
  stop: null,
  target: null,
  target2: null,
  firstTargetFraction: null,
  breakeven: false,
  trailingPct: null,
  firstTargetFilled: false,
};

/** The bracket fields of an opening order, as the tools name them (dollars; fractions). */
export interface OrderBracket {
  stop_loss?: number | null;
  take_profit?: number | null;
  take_profit_2?: number | null;
  first_target_fraction?: number | null;
  breakeven_after_first_target?: boolean | null;
  trailing_stop_pct?: number | null;
}

/** The plan fields an order gives (absent or null: not given). */
export function planOf(o: OrderBracket): Partial<ExitPlan> {
  const out: Partial<ExitPlan> = {};
  if (o.stop_loss != null) out.stop = o.stop_loss;
  if (o.take_profit != null) out.target = o.take_profit;
  if (o.take_profit_2 != null) out.target2 = o.take_profit_2;
  if (o.first_target_fraction != null) out.firstTargetFraction = o.first_target_fraction;
  if (o.breakeven_after_first_target) out.breakeven = true;
  if (o.trailing_stop_pct != null) out.trailingPct = o.trailing_stop_pct;
  return out;
}

/** The plan after an order or set_exits gives `add` (see the module notes). */
export function mergePlan(prev: ExitPlan | null | undefined, add: Partial<ExitPlan>): ExitPlan {
  const base = { ...NO_EXITS, ...(prev ?? {}) };
  return { ...base, ...add };
}

/** The plan of a position from its optional fields (a position without them has none). */
export function planOfPosition(p: Partial<ExitPlan>): ExitPlan {
  return {
    stop: p.stop ?? null,
    target: p.target ?? null,
    target2: p.target2 ?? null,
    firstTargetFraction: p.firstTargetFraction ?? null,
    breakeven: p.breakeven ?? false,
    trailingPct: p.trailingPct ?? null,
    firstTargetFilled: p.firstTargetFilled ?? false,
  };
}

/** The first target's fraction in effect: given, else half with a second target, else all. */
export function firstTargetShare(plan: ExitPlan): number {
  return plan.firstTargetFraction ?? (plan.target2 !== null ? 0.5 : 1);
}

/** Shares the first target closes out of `held` (signed): the fraction rounded down, at least 1, at most all. */
export function firstTargetQuantity(held: number, plan: ExitPlan): number {
  const all = Math.abs(held);
  return Math.min(all, Math.max(1, Math.floor(all * firstTargetShare(plan) + 1e-9)));
}

/** The plan of the rest once the first target filled: second target live, stop at breakeven when asked. */
export function afterFirstTarget(plan: ExitPlan, avgCost: number): ExitPlan {
  return { ...plan, firstTargetFilled: true, stop: plan.breakeven ? avgCost : plan.stop };
}

/** The target in effect: the first until it fills, then the second. */
export function liveTarget(plan: ExitPlan): { level: number; which: 'take_profit' | 'take_profit_2' } | null {
  if (!plan.firstTargetFilled) return plan.target === null ? null : { level: plan.target, which: 'take_profit' };
  return plan.target2 === null ? null : { level: plan.target2, which: 'take_profit_2' };
}

export interface MarkedHolding {
  quantity: number;
  avgCost: number;
  /** Price at the clock. */
  price: number;
  highWater: number | null;
  lowWater: number | null;
}

/** The trailing stop's water mark: the high (a long) or low (a short) of the bars since entry, else the average cost; the bar's open first when given. */
export function trailingMark(p: Pick<MarkedHolding, 'quantity' | 'avgCost' | 'highWater' | 'lowWater'>, open?: number): number {
  const long = p.quantity > 0;
  const base = long ? (p.highWater ?? p.avgCost) : (p.lowWater ?? p.avgCost);
  if (open === undefined) return base;
  return long ? Math.max(base, open) : Math.min(base, open);
}

/** The trailing stop level for a water mark: mark × (1 − pct) for a long, × (1 + pct) for a short. */
export function trailingLevel(long: boolean, pct: number, mark: number): number {
  return shiftedPrice(mark, pct, long ? -1 : 1);
}

/**
 * Why a plan cannot stand against `ref` (the price now, for set_exits), one sentence each
 * naming the field and its allowed range: a stop on the losing side, a live target on the
 * winning side, the second target beyond the first (or alone once the first filled).
 */
export function planProblems(long: boolean, plan: ExitPlan, ref: number, refName: string, symbol: string): string[] {
  const out: string[] = [];
  const r = priceTicks(ref);
  const side = `a ${long ? 'long' : 'short'} ${symbol}`;
  const beyond = (level: number, than: bigint, up: boolean) => (up ? priceTicks(level) > than : priceTicks(level) < than);
  const at = `${refName} ${formatPrice(ref)}`;
  if (plan.stop !== null && !beyond(plan.stop, r, !long)) {
    out.push(`stop_loss ${formatPrice(plan.stop)} must be ${long ? 'below' : 'above'} ${at} for ${side} (a price in dollars, not a fraction).`);
  }
  if (plan.target !== null && !plan.firstTargetFilled && !beyond(plan.target, r, long)) {
    out.push(`take_profit ${formatPrice(plan.target)} must be ${long ? 'above' : 'below'} ${at} for ${side} (a price in dollars, not a fraction).`);
  }
  if (plan.target2 !== null) {
    if (plan.target === null && !plan.firstTargetFilled) out.push('take_profit_2 needs take_profit (the first target).');
    else if (plan.target !== null && !plan.firstTargetFilled && !beyond(plan.target2, priceTicks(plan.target), long)) {
      out.push(`take_profit_2 ${formatPrice(plan.target2)} must be ${long ? 'above' : 'below'} take_profit ${formatPrice(plan.target)} for ${side} (the second target is the farther one).`);
    } else if (!beyond(plan.target2, r, long)) {
      out.push(`take_profit_2 ${formatPrice(plan.target2)} must be ${long ? 'above' : 'below'} ${at} for ${side} (a price in dollars, not a fraction).`);
    }
  }
  return out;
}

/**
 * What is wrong with an opening order's bracket on its own, before any price: the second
 * target needs a first and lies beyond it; a fraction or breakeven needs a first target.
 * One sentence naming the field and its allowed range, or null.
 */
export function bracketShapeProblem(long: boolean, b: Partial<ExitPlan>): string | null {
  const side = long ? 'long' : 'short';
  if (b.target == null) {
    if (b.target2 != null) return 'take_profit_2 needs take_profit (the first target); nothing was placed.';
    if (b.firstTargetFraction != null || b.breakeven) {
      return `${b.firstTargetFraction != null ? 'first_target_fraction' : 'breakeven_after_first_target'} needs take_profit (the first target); nothing was placed.`;
    }
    return null;
  }
  if (b.target2 != null && !(long ? priceTicks(b.target2) > priceTicks(b.target) : priceTicks(b.target2) < priceTicks(b.target))) {
    return `take_profit_2 ${formatPrice(b.target2)} must be ${long ? 'above' : 'below'} take_profit ${formatPrice(b.target)} for a ${side} (the second target is the farther one); nothing was placed.`;
  }
  return null;
}

/** set_exits' fields: a number sets the level, null removes it, absent leaves it. */
export interface ExitChanges {
  stop_loss?: number | null;
  take_profit?: number | null;
  take_profit_2?: number | null;
  trailing_stop_pct?: number | null;
}

/** The plan fields set_exits changes (undefined: not given). */
export function planChanges(c: ExitChanges): Partial<ExitPlan> {
  const out: Partial<ExitPlan> = {};
  if (c.stop_loss !== undefined) out.stop = c.stop_loss;
  if (c.take_profit !== undefined) out.target = c.take_profit;
  if (c.take_profit_2 !== undefined) out.target2 = c.take_profit_2;
  if (c.trailing_stop_pct !== undefined) out.trailingPct = c.trailing_stop_pct;
  return out;
}

export interface LiveLevel {
  price: number;
  /** level − price now, dollars. */
  distance: number;
  /** distance / price now, a fraction. */
  distance_pct: number;
}

export interface LiveExits {
  stop_loss: LiveLevel | null;
  take_profit: LiveLevel | null;
  take_profit_2: LiveLevel | null;
  /** The part the first target closes (null: none set). */
  first_target_fraction: number | null;
  first_target_filled: boolean;
  breakeven_after_first_target: boolean;
  trailing_stop: (LiveLevel & { pct: number; water_mark: number }) | null;
}

function level(price: number, now: number): LiveLevel {
  const distance = Number(priceTicks(price) - priceTicks(now)) / 10_000;
  return { price, distance, distance_pct: now > 0 ? Math.round((distance / now) * 1e6) / 1e6 : 0 };
}

/** The live exit levels of a holding at its price now, and the distance to each (get_portfolio). */
export function liveExits(p: MarkedHolding, plan: ExitPlan): LiveExits {
  const long = p.quantity > 0;
  const mark = trailingMark(p);
  return {
    stop_loss: plan.stop === null ? null : level(plan.stop, p.price),
    take_profit: plan.target === null || plan.firstTargetFilled ? null : level(plan.target, p.price),
    take_profit_2: plan.target2 === null ? null : level(plan.target2, p.price),
    first_target_fraction: plan.target === null ? null : firstTargetShare(plan),
    first_target_filled: plan.firstTargetFilled,
    breakeven_after_first_target: plan.breakeven,
    trailing_stop: plan.trailingPct === null ? null : { ...level(trailingLevel(long, plan.trailingPct, mark), p.price), pct: plan.trailingPct, water_mark: mark },
  };
}
