// Splits and cash dividends applied to a run's account as its clock passes them. Pure.
//
// Conventions (README "Corporate actions", CONTRACT §2)
// - Prices are unadjusted. An action takes effect at the regular open (09:30 ET) of its date
//   (a split's execution date, a dividend's ex-date): a clock step from `from` to `to`
//   applies the actions with from < effective <= to, before anything else of that step.
// - Split, ratio r = split_to / split_from (2-for-1: from 1, to 2): each position's quantity
//   × r, its cost basis unchanged (so its average cost ÷ r), its water marks and attached
//   stop / target ÷ r; each resting order's limit, stop_loss and take_profit ÷ r and its
//   quantity × r (rounded down; an order left with no share is cancelled). Prices are
//   rounded to $0.0001. Equity is continuous: the new shares are worth what the old were.
// - A fraction of a share left by the ratio (3-for-2, reverse splits) is paid in lieu at the
//   previous session's close (the last official price known at the open; ÷ r per new share):
//   a long receives it, a short pays it, and the basis the fraction carried is released, so
//   realized P&L = cash in lieu − released basis (long) or released basis − cash in lieu
//   (short). Without a known close the fraction is paid at its own basis (no P&L).
// - Cash dividend D dollars per share (rounded to $0.0001): a position held at the open of
//   the ex-date gets quantity × D in cents, rounded half away from zero; a long receives,
//   a short pays. It is realized P&L (income), and no price is adjusted.
// - So the ledger invariant holds after every action:
//   cash + Σ signed basis (long +, short −) = initial cash + realized P&L.
import { dayBarStart } from './calendar.js';
import { avgCostOf } from './ledger.js';
import { priceTicks } from './money.js';
import type { LotAction } from './round-trips.js';

export interface SplitAction {
  kind: 'split';
  symbol: string;
  /** YYYY-MM-DD, the first session on the new share basis. */
  date: string;
  splitFrom: number;
  splitTo: number;
}

export interface DividendAction {
  kind: 'dividend';
  symbol: string;
  /** YYYY-MM-DD, the ex-dividend date. */
  date: string;
  /** Dollars per share. */
  cashAmount: number;
}

export type CorporateAction = SplitAction | DividendAction;

export interface ActionPosition {
  symbol: string;
  /** Signed whole shares: negative is a short. */
  quantity: number;
  /** Exact cost basis in cents: paid for a long, received for a short (≥ 0). */
  costCents: number;
  highWater: number | null;
  lowWater: number | null;
  stopPrice: number | null;
  targetPrice: number | null;
  /** The second target (issue 18), adjusted like the first. */
  target2Price?: number | null;
}

export interface ActionOrder {
  orderId: number;
  symbol: string;
  quantity: number;
  limitPrice: number | null;
  /** A stop entry's trigger, adjusted like the limit. */
  stopPrice?: number | null;
  stopLoss: number | null;
  takeProfit: number | null;
}

export interface ActionAccount {
  cashCents: number;
  realizedPnlCents: number;
}

export interface ActionEvent {
  kind: 'split' | 'dividend';
  symbol: string;
  date: string;
  /** Split: split_to / split_from; dividend: null. */
  ratio: number | null;
  /** Split: its ratio parts as given (2-for-1: from 1, to 2); dividend: null. */
  splitFrom: number | null;
  splitTo: number | null;
  /** Dividend dollars per share; split: null. */
  cashAmount: number | null;
  quantityBefore: number;
  quantityAfter: number;
  /** Split only: cash paid in lieu of a fraction, in cents (0 when none). */
  cashInLieuCents: number;
  /** The account's cash change, signed cents. */
  cashChangeCents: number;
  realizedCents: number;
  /** One sentence for the reasoning log. */
  description: string;
}

export interface ActionsInput {
  account: ActionAccount;
  positions: ActionPosition[];
  orders: ActionOrder[];
  /** Any actions; those effective in (from, to] are applied, in date order. */
  actions: CorporateAction[];
  from: Date;
  to: Date;
  /** The previous session's official close per symbol (for cash in lieu), when known. */
  lastClose: Record<string, number | null | undefined>;
}

export interface ActionsResult {
  account: ActionAccount;
  /** Every position after the actions (quantity 0 when a reverse split left under a share). */
  positions: (ActionPosition & { avgCost: number })[];
  /** Only the orders that changed; quantity 0 means cancelled. */
  orders: ActionOrder[];
  events: ActionEvent[];
}


/** Ratio parts as integers (split_from and split_to may carry up to 6 dp). */
function ratioParts(s: SplitAction): { to: bigint; from: bigint } {
  const to = BigInt(Math.round(s.splitTo * 1e6));
  const from = BigInt(Math.round(s.splitFrom * 1e6));
  if (to <= 0n || from <= 0n) throw new Error(`Split of ${s.symbol} on ${s.date} needs positive split_from and split_to.`);
  return { to, from };
}

/** n / d rounded half away from zero (d > 0). */
function divRound(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  if ((r < 0n ? -r : r) * 2n >= d) return n < 0n ? q - 1n : q + 1n;
  return q;
}

/** A price ÷ ratio (× from / to), to 4 dp half up; null stays null. */
function dividePrice(p: number | null, to: bigint, from: bigint): number | null {
  if (p === null) return null;
  return Number(divRound(priceTicks(p) * from, to)) / 10_000;
}

/** The instant an action takes effect: the regular open of its date. */
export function effectiveAt(a: { date: string }): Date {
  return dayBarStart(a.date);
}

/** An applied action as the analyst's round trips follow it (shared/domain/round-trips.ts). */
export function lotActionOf(e: ActionEvent): LotAction {
  return {
    kind: e.kind,
    symbol: e.symbol,
    date: e.date,
    clock: effectiveAt(e).toISOString(),
    split_from: e.splitFrom,
    split_to: e.splitTo,
    quantity_before: e.quantityBefore,
    quantity_after: e.quantityAfter,
    cash_change_cents: e.cashChangeCents,
  };
}

/** Actions effective in (from, to], ordered by date (splits before dividends on a date). */
export function actionsDue(actions: CorporateAction[], from: Date, to: Date): CorporateAction[] {
  return actions
    .filter((a) => effectiveAt(a) > from && effectiveAt(a) <= to)
    .sort((a, b) => (a.date !== b.date ? (a.date < b.date ? -1 : 1) : a.kind === b.kind ? 0 : a.kind === 'split' ? -1 : 1));
}

/**
 * Applies the actions a clock move from `from` to `to` passes to an account, its positions
 * and its resting orders (conventions above). Throws on a split with a non-positive ratio.
 */
export function applyCorporateActions(input: ActionsInput): ActionsResult {
  let { cashCents, realizedPnlCents } = input.account;
  const positions = new Map(input.positions.map((p) => [p.symbol, { ...p }]));
  const orders = new Map(input.orders.map((o) => [o.orderId, { ...o }]));
  const changed = new Set<number>();
  const events: ActionEvent[] = [];

  for (const a of actionsDue(input.actions, input.from, input.to)) {
    const p = positions.get(a.symbol);
    if (a.kind === 'split') {
      const { to, from } = ratioParts(a);
      const ratio = Number(to) / Number(from);
      for (const o of orders.values()) {
        if (o.symbol !== a.symbol || o.quantity === 0) continue;
        o.quantity = Number((BigInt(o.quantity) * to) / from);
        o.limitPrice = dividePrice(o.limitPrice, to, from);
        if (o.stopPrice != null) o.stopPrice = dividePrice(o.stopPrice, to, from);
        o.stopLoss = dividePrice(o.stopLoss, to, from);
        o.takeProfit = dividePrice(o.takeProfit, to, from);
        changed.add(o.orderId);
      }
      if (!p || p.quantity === 0) continue;
      const held = BigInt(Math.abs(p.quantity));
      const whole = (held * to) / from;
      const rem = held * to - whole * from; // fraction of a new share = rem / from
      let lieu = 0;
      let released = 0;
      if (rem > 0n) {
        // basis the fraction carries: costCents × (rem/from) / (held·to/from)
        released = Number(divRound(BigInt(p.costCents) * rem, held * to));
        const close = input.lastClose[a.symbol];
        // rem/from new shares at close × from/to each = rem/to old shares at the close
        lieu = close ? Number(divRound(rem * priceTicks(close), to * 100n)) : released;
      }
      const long = p.quantity > 0;
      const cashChange = long ? lieu : -lieu;
      const realized = long ? lieu - released : released - lieu;
      cashCents += cashChange;
      realizedPnlCents += realized;
      const before = p.quantity;
      p.quantity = (long ? 1 : -1) * Number(whole);
      p.costCents -= released;
      p.highWater = dividePrice(p.highWater, to, from);
      p.lowWater = dividePrice(p.lowWater, to, from);
      p.stopPrice = dividePrice(p.stopPrice, to, from);
      p.targetPrice = dividePrice(p.targetPrice, to, from);
      if (p.target2Price != null) p.target2Price = dividePrice(p.target2Price, to, from);
      const lieuText = lieu > 0 ? `; ${Number(rem) / Number(from)} share paid in lieu, $${(lieu / 100).toFixed(2)}` : '';
      events.push({
        kind: 'split',
        symbol: a.symbol,
        date: a.date,
        ratio,
        splitFrom: a.splitFrom,
        splitTo: a.splitTo,
        cashAmount: null,
        quantityBefore: before,
        quantityAfter: p.quantity,
        cashInLieuCents: lieu,
        cashChangeCents: cashChange,
        realizedCents: realized,
        description: `${a.splitTo}-for-${a.splitFrom} split of ${a.symbol} on ${a.date}: ${before} shares became ${p.quantity}, average cost ${avgCostOf(p.costCents + released, before)} → ${avgCostOf(p.costCents, p.quantity)}, cost basis kept${lieuText}.`,
      });
    } else {
      if (!p || p.quantity === 0) continue;
      const amount = Number(priceTicks(a.cashAmount)) / 10_000;
      const cents = Number(divRound(BigInt(Math.abs(p.quantity)) * priceTicks(a.cashAmount), 100n));
      const signed = p.quantity > 0 ? cents : -cents;
      cashCents += signed;
      realizedPnlCents += signed;
      events.push({
        kind: 'dividend',
        symbol: a.symbol,
        date: a.date,
        ratio: null,
        splitFrom: null,
        splitTo: null,
        cashAmount: amount,
        quantityBefore: p.quantity,
        quantityAfter: p.quantity,
        cashInLieuCents: 0,
        cashChangeCents: signed,
        realizedCents: signed,
        description: `Dividend of $${amount} per share of ${a.symbol}, ex-date ${a.date}: ${p.quantity > 0 ? `received $${(cents / 100).toFixed(2)} on ${p.quantity} shares held` : `paid $${(cents / 100).toFixed(2)} on ${-p.quantity} shares short`}.`,
      });
    }
  }
  return {
    account: { cashCents, realizedPnlCents },
    positions: [...positions.values()].map((p) => ({ ...p, avgCost: avgCostOf(p.costCents, p.quantity) })),
    orders: [...changed].map((id) => orders.get(id)!),
    events,
  };
}

