// FIFO round trips of a run's fills, longs and shorts, with their costs. Pure: no I/O.
//
// Decisions
// - An entry fill (buy, short) opens a lot; an exit fill (sell, cover) closes the oldest
//   open lots of that symbol first and may split a lot. Each (lot, exit) pair closed is one
//   round trip, so a partial exit gives a round trip of the shares it closed.
// - Money is integer cents and exact: a fill's notional cents (recovered from its recorded
//   cash change and commission, so it is the ledger's own rounding) and its commission are
//   allocated to the shares taken from it cumulatively: after s of Q shares the allocated
//   part is round(total × s / Q), so the parts of a fill add up to the fill exactly. Once a
//   run is flat, Σ round-trip P&L = Σ cash changes = the ledger's realized P&L to the cent.
// - P&L is net of commission (entry and exit, pro rata) and of slippage (already in the fill
//   prices); slippage is reported beside it. pnl_pct = P&L / entry notional (a fraction).
// - A zero P&L counts as a loss (CONTRACT §5).
// - The ledger itself realizes P&L against the average cost: while a position is partly
//   closed, FIFO and average-cost realized P&L may differ; they agree once it is flat.

import { priceTicks } from './money.js';
import { nyLocal } from './ny-time.js';
import type { Side } from './types.js';

export interface TradeFill {
  fill_id: number;
  order_id: number;
  symbol: string;
  side: Side;
  quantity: number;
  /** Fill price in dollars (slippage included). */
  price: number;
  /** quantity × price in cents as the ledger rounded it. */
  notional_cents: number;
  commission_cents: number;
  /** quantity × slippage per share, in cents. */
  slippage_cents: number;
  /** UTC ISO instant. */
  clock: string;
}

export interface RoundTrip {
  symbol: string;
  direction: 'long' | 'short';
  /** Shares closed, on the exit's share basis; a fraction of a share when a split paid the lot in lieu. */
  quantity: number;
  entry_fill_id: number;
  entry_order_id: number;
  /** The exit fill and its order; null when a split closed the lot by cash in lieu. */
  exit_fill_id: number | null;
  exit_order_id: number | null;
  entry_time: string;
  exit_time: string;
  /** Entry fill price, on the exit's share basis (÷ the split ratios passed while open, to $0.0001). */
  entry_price: number;
  exit_price: number;
  /**
   * Net P&L in cents: exit − entry notional (long) or entry − exit (short), minus both
   * commissions' shares, plus the dividends and cash in lieu of the lot's shares (received +, paid −).
   */
  pnl_cents: number;
  /** pnl / entry notional, a fraction. */
  pnl_pct: number | null;
  commission_cents: number;
  slippage_cents: number;
  entry_notional_cents: number;
  /** Dividends received (long, +) or paid (short, −) on these shares while open, cents; in pnl_cents. */
  dividends_cents: number;
  /** Cash in lieu of a split's fraction of a share received (+) or paid (−), cents; in pnl_cents. */
  cash_in_lieu_cents: number;
  /** Product of the split ratios passed while open (1 when none): old shares × split_factor = new shares. */
  split_factor: number;
  holding_seconds: number;
}

export interface OpenLot {
  symbol: string;
  direction: 'long' | 'short';
  quantity: number;
  entry_fill_id: number;
  entry_order_id: number;
  entry_time: string;
  /** On the current share basis. */
  entry_price: number;
  /** Entry notional and commission still carried by the open shares, cents. */
  entry_notional_cents: number;
  entry_commission_cents: number;
  /** Dividends and cash in lieu booked to the open shares so far (received +, paid −), cents. */
  income_cents: number;
  split_factor: number;
}

/**
 * A split or cash dividend the ledger applied to a run's position (a row of
 * corporate_action_events), as the round trips follow it. Quantities are the ledger's, signed.
 */
export interface LotAction {
  kind: 'split' | 'dividend';
  symbol: string;
  /** YYYY-MM-DD: the split's execution date or the dividend's ex-date. */
  date: string;
  /** When it took effect (the 09:30 New York open of `date`), UTC ISO. */
  clock: string;
  /** Split ratio parts (2-for-1: from 1, to 2); null for a dividend. */
  split_from: number | null;
  split_to: number | null;
  quantity_before: number;
  quantity_after: number;
  /** The account's cash change, signed cents: a dividend or cash in lieu received (+) or paid (−). */
  cash_change_cents: number;
  /**
   * How many of the run's fills the ledger had booked before it applied this action, when
   * known. A clock step applies the actions first, and its exits may be stamped earlier than
   * the action (a stop on the day before a split, booked on the new basis); without it the
   * action goes before the fills stamped at or after its instant.
   */
  fills_before?: number | null;
}

/**
 * Round trips cannot be built from the run's records: an exit beyond the open lots, or a
 * ledger action on a position the fills do not show. The message is one sentence naming the
 * symbol and the date.
 */
export class RoundTripError extends RangeError {
  constructor(
    readonly symbol: string,
    readonly date: string,
    message: string,
  ) {
    super(message);
  }
}

/** total × part / whole rounded half away from zero, exact for any integer sizes. */
function share(total: number, part: number, whole: number): number {
  const n = BigInt(total) * BigInt(part);
  const d = BigInt(whole);
  const q = n / d;
  const r = n % d;
  return Number((r < 0n ? -r : r) * 2n >= d ? (n < 0n ? q - 1n : q + 1n) : q);
}

/**
 * Cents spread over shares and taken cumulatively: after s of the base's Q shares the part
 * taken is round(total × s / Q), so the parts add up to the total exactly. A rebase starts a
 * new base from what is left (a split changes the share count; a dividend adds cents).
 */
class Pool {
  private taken = 0;
  constructor(
    private total: number,
    private base: number,
  ) {}
  take(q: number): number {
    const before = this.taken;
    this.taken += q;
    return share(this.total, this.taken, this.base) - share(this.total, before, this.base);
  }
  get left(): number {
    return this.total - (this.base ? share(this.total, this.taken, this.base) : 0);
  }
  rebase(shares: number, add = 0): void {
    this.total = this.left + add;
    this.base = shares;
    this.taken = 0;
  }
}

const POOLS = ['notional', 'commission', 'slippage', 'dividends', 'lieu'] as const;
type Parts = Record<(typeof POOLS)[number], number>;

/** A fill's shares and cents, taken from as lots close (an entry) or as it closes lots (an exit). */
class Lot {
  remaining: number;
  /** Price per share on the current basis. */
  price: number;
  factor = 1;
  private pools: Record<(typeof POOLS)[number], Pool>;
  constructor(readonly fill: TradeFill) {
    this.remaining = fill.quantity;
    this.price = fill.price;
    const q = fill.quantity;
    this.pools = { notional: new Pool(fill.notional_cents, q), commission: new Pool(fill.commission_cents, q), slippage: new Pool(fill.slippage_cents, q), dividends: new Pool(0, q), lieu: new Pool(0, q) };
  }
  take(q: number): Parts {
    this.remaining -= q;
    const out = {} as Parts;
    for (const k of POOLS) out[k] = this.pools[k].take(q);
    return out;
  }
  left(k: (typeof POOLS)[number]): number {
    return this.pools[k].left;
  }
  /** Income booked to the lot's remaining shares. */
  add(k: 'dividends' | 'lieu', cents: number): void {
    this.pools[k].rebase(this.remaining, cents);
  }
  /** The lot's shares become `shares` (a split); every pool is spread over them from now on. */
  resize(shares: number, price: number, ratio: number): void {
    this.remaining = shares;
    this.price = price;
    this.factor *= ratio;
    for (const k of POOLS) this.pools[k].rebase(shares);
  }
  /** Another lot's remaining cents folded into this one (a split that leaves fractions combines the lots). */
  absorb(other: Lot): void {
    for (const k of POOLS) {
      const left = other.left(k);
      this.pools[k].rebase(this.remaining, left);
    }
    this.remaining += other.remaining;
    for (const k of POOLS) this.pools[k].rebase(this.remaining);
  }
}

const isEntry = (side: Side) => side === 'buy' || side === 'short';
const dayOf = (clock: string) => nyLocal(new Date(clock)).date;

/** A price × from / to to $0.0001, half away from zero (the ledger's split rounding). */
function splitPrice(price: number, to: bigint, from: bigint): number {
  const n = priceTicks(price) * from;
  const q = n / to;
  return Number((n % to) * 2n >= to ? q + 1n : q) / 10_000;
}

/**
 * FIFO round trips of fills (any order; taken in the order the ledger booked them, by fill id)
 * through the splits and dividends the ledger applied (`actions`, corporate_action_events,
 * each after the fills booked before it: LotAction.fills_before). Returns the closed round trips in the order their exits
 * happened and the lots still open.
 *
 * Conventions (the ledger's, shared/domain/corporate-actions.ts):
 * - Split r = to / from: when every open lot of the symbol has a whole number of new shares
 *   (q × r), each lot's quantity × r and its entry price ÷ r, its cents kept. Otherwise (3-for-2
 *   on an odd lot, reverse splits) the symbol's open lots combine into one, as the ledger holds
 *   one position at its average cost: dated by the oldest, its quantity the ledger's whole new
 *   shares, its cents the lots' sum, its price their share-weighted price ÷ r; the cash in lieu of
 *   the fraction is booked to it. A lot left with no whole share closes at the split, paid in lieu
 *   (a round trip without an exit fill, its quantity the fraction of a share).
 * - Dividend: the ledger's cash change (long +, short −) spread over the open lots by shares,
 *   cumulatively, to the cent.
 * - So once flat, Σ round-trip P&L = Σ cash changes of fills and actions = the ledger's realized
 *   P&L to the cent.
 * Throws RoundTripError when an exit closes more shares than are open, or an action meets a
 * position the fills do not show.
 */
export function fifoRoundTrips(fills: readonly TradeFill[], actions: readonly LotAction[] = []): { round_trips: RoundTrip[]; open_lots: OpenLot[] } {
  // The ledger's order: fills as booked (fill id), each action after the fills booked before it.
  const booked = [...fills].sort((a, b) => a.fill_id - b.fill_id);
  const placed = actions
    .map((a, i) => ({ a, i, k: a.fills_before ?? booked.filter((f) => f.clock < a.clock).length }))
    .sort((x, y) => x.k - y.k || (x.a.clock < y.a.clock ? -1 : x.a.clock > y.a.clock ? 1 : 0) || (x.a.kind === y.a.kind ? x.i - y.i : x.a.kind === 'split' ? -1 : 1));
  type Ev = { fill?: TradeFill; action?: LotAction };
  const events: Ev[] = [];
  let next = 0;
  booked.forEach((fill, k) => {
    while (next < placed.length && placed[next]!.k <= k) events.push({ action: placed[next++]!.a });
    events.push({ fill });
  });
  while (next < placed.length) events.push({ action: placed[next++]!.a });
  const lots = new Map<string, Lot[]>();
  const trips: RoundTrip[] = [];
  const close = (lot: Lot, q: number, out: Parts | null, exit: { fill_id: number | null; order_id: number | null; clock: string; price: number; direction: 'long' | 'short'; quantity?: number }) => {
    const entry = lot.take(q);
    const exitNotional = out?.notional ?? 0;
    const gross = exit.direction === 'long' ? exitNotional - entry.notional : entry.notional - exitNotional;
    const commission = entry.commission + (out?.commission ?? 0);
    const pnl = gross - commission + entry.dividends + entry.lieu;
    trips.push({
      symbol: lot.fill.symbol,
      direction: exit.direction,
      quantity: exit.quantity ?? q,
      entry_fill_id: lot.fill.fill_id,
      entry_order_id: lot.fill.order_id,
      exit_fill_id: exit.fill_id,
      exit_order_id: exit.order_id,
      entry_time: lot.fill.clock,
      exit_time: exit.clock,
      entry_price: lot.price,
      exit_price: exit.price,
      pnl_cents: pnl,
      pnl_pct: entry.notional > 0 ? pnl / entry.notional : null,
      commission_cents: commission,
      slippage_cents: entry.slippage + (out?.slippage ?? 0),
      entry_notional_cents: entry.notional,
      dividends_cents: entry.dividends,
      cash_in_lieu_cents: entry.lieu,
      split_factor: lot.factor,
      holding_seconds: (Date.parse(exit.clock) - Date.parse(lot.fill.clock)) / 1000,
    });
  };
  for (const ev of events) {
    const symbol = ev.fill?.symbol ?? ev.action!.symbol;
    const queue = lots.get(symbol) ?? [];
    lots.set(symbol, queue);
    if (ev.action) {
      applyAction(ev.action, queue, close);
      continue;
    }
    const fill = ev.fill!;
    if (isEntry(fill.side)) {
      queue.push(new Lot(fill));
      continue;
    }
    const direction = fill.side === 'sell' ? 'long' : 'short';
    const exit = new Lot(fill);
    while (exit.remaining > 0) {
      const lot = queue[0];
      if (!lot) {
        throw new RoundTripError(symbol, dayOf(fill.clock), `Fill ${fill.fill_id} ${fill.side}s ${fill.quantity} ${symbol} on ${dayOf(fill.clock)} beyond the ${fill.quantity - exit.remaining} share(s) the fills and the recorded splits leave open.`);
      }
      if ((lot.fill.side === 'buy') !== (direction === 'long')) {
        throw new RoundTripError(symbol, dayOf(fill.clock), `Fill ${fill.fill_id} (${fill.side}) of ${symbol} on ${dayOf(fill.clock)} meets an open ${lot.fill.side} lot.`);
      }
      const q = Math.min(lot.remaining, exit.remaining);
      close(lot, q, exit.take(q), { fill_id: fill.fill_id, order_id: fill.order_id, clock: fill.clock, price: fill.price, direction });
      if (lot.remaining === 0) queue.shift();
    }
  }
  const open: OpenLot[] = [];
  for (const queue of lots.values()) {
    for (const lot of queue) {
      open.push({
        symbol: lot.fill.symbol,
        direction: lot.fill.side === 'buy' ? 'long' : 'short',
        quantity: lot.remaining,
        entry_fill_id: lot.fill.fill_id,
        entry_order_id: lot.fill.order_id,
        entry_time: lot.fill.clock,
        entry_price: lot.price,
        entry_notional_cents: lot.left('notional'),
        entry_commission_cents: lot.left('commission'),
        income_cents: lot.left('dividends') + lot.left('lieu'),
        split_factor: lot.factor,
      });
    }
  }
  return { round_trips: trips, open_lots: open };
}

type Close = (lot: Lot, q: number, out: Parts | null, exit: { fill_id: null; order_id: null; clock: string; price: number; direction: 'long' | 'short'; quantity: number }) => void;

/** One ledger action on a symbol's open lots (fifoRoundTrips' conventions). */
function applyAction(a: LotAction, queue: Lot[], close: Close): void {
  const held = queue.reduce((s, l) => s + l.remaining, 0);
  const signed = queue.length && queue[0]!.fill.side === 'short' ? -held : held;
  if (signed !== a.quantity_before) {
    throw new RoundTripError(
      a.symbol,
      a.date,
      `The ledger's ${a.kind} of ${a.symbol} on ${a.date} applied to ${a.quantity_before} share(s), but the run's fills leave ${signed} open then.`,
    );
  }
  if (!queue.length) return;
  if (a.kind === 'dividend') {
    let before = 0;
    for (const lot of queue) {
      const part = share(a.cash_change_cents, before + lot.remaining, held) - share(a.cash_change_cents, before, held);
      before += lot.remaining;
      lot.add('dividends', part);
    }
    return;
  }
  const to = BigInt(Math.round(a.split_to! * 1e6));
  const from = BigInt(Math.round(a.split_from! * 1e6));
  const ratio = Number(to) / Number(from);
  const whole = Math.abs(a.quantity_after);
  if (queue.every((l) => (BigInt(l.remaining) * to) % from === 0n)) {
    for (const lot of queue) lot.resize(Number((BigInt(lot.remaining) * to) / from), splitPrice(lot.price, to, from), ratio);
    if (a.cash_change_cents) queue.at(-1)!.add('lieu', a.cash_change_cents);
    return;
  }
  // the combined price: the lots' prices weighted by their shares, ÷ r
  const price = splitPrice(queue.reduce((s, l) => s + l.price * l.remaining, 0) / held, to, from);
  const [first, ...rest] = queue;
  for (const lot of rest) first!.absorb(lot);
  queue.length = 1;
  if (whole > 0) {
    first!.resize(whole, price, ratio);
    first!.add('lieu', a.cash_change_cents);
    return;
  }
  // Less than one new share: the whole position is paid in lieu at the split.
  const fraction = Math.round(held * ratio * 1e6) / 1e6;
  first!.add('lieu', a.cash_change_cents);
  first!.factor *= ratio;
  const lieuPrice = fraction > 0 ? Math.round((Math.abs(a.cash_change_cents) / 100 / fraction) * 10_000) / 10_000 : 0;
  first!.price = price;
  close(first!, held, null, { fill_id: null, order_id: null, clock: a.clock, price: lieuPrice, direction: first!.fill.side === 'buy' ? 'long' : 'short', quantity: fraction });
  queue.length = 0;
}

/** Notional cents of a fill from its recorded cash change and commission (buy/cover pay, sell/short receive). */
export function fillNotionalCents(side: Side, cashChangeCents: number, commissionCents: number): number {
  return side === 'buy' || side === 'cover' ? -cashChangeCents - commissionCents : cashChangeCents + commissionCents;
}

/** Unrealized P&L in cents of an open lot marked at `price`, net of its entry commission share, with its dividends and cash in lieu. */
export function openLotPnlCents(lot: OpenLot, price: number): number {
  const market = Math.round(lot.quantity * price * 100);
  return (lot.direction === 'long' ? market - lot.entry_notional_cents : lot.entry_notional_cents - market) - lot.entry_commission_cents + lot.income_cents;
}

export type ExitCause = 'agent' | 'stop_loss' | 'take_profit' | 'trailing_stop' | 'flatten_by' | 'limit' | 'forced' | 'cash_in_lieu';

/**
 * What closed a position, from the exit order's `source` and reasoning: 'agent' (an order
 * the agent placed), the order's own stop_loss/take_profit, a stop_loss rule (stop loss,
 * trailing stop, take profit) or a timing rule (flatten_by) named by the clock's reason text,
 * anything else the system placed is 'forced'. A lot a split paid in lieu (no exit order) is
 * 'cash_in_lieu'.
 */
export function exitCause(source: string | null, reasoning: string | null): ExitCause {
  if (source === null) return 'cash_in_lieu';
  if (source === 'agent') return 'agent';
  if (source === 'stop_loss' || source === 'take_profit' || source === 'trailing_stop' || source === 'flatten_by') return source;
  const m = /^Rule '.*?': (stop loss|trailing stop|take profit|flatten by)/.exec(reasoning ?? '');
  if (m) return m[1]!.replace(' ', '_') as ExitCause;
  return 'forced';
}

export interface Excursion {
  /** Worst P&L while open, dollars (≤ min(0, P&L)). */
  mae: number;
  /** Best P&L while open, dollars (≥ max(0, P&L)). */
  mfe: number;
  /** mae and mfe as fractions of the entry notional. */
  mae_pct: number | null;
  mfe_pct: number | null;
}

/**
 * Maximum adverse and favourable excursion of a closed round trip: the worst and the best
 * P&L it would have shown closed at any price it went through — its entry and exit fill
 * prices and the lowest low and highest high of the bars seen between (`low`/`high`, on the
 * exit's share basis; null when no bar closed while it was open) — with its own commission,
 * dividends and cash in lieu: P&L + (p − exit price) × quantity for a long, P&L − (p − exit
 * price) × quantity for a short. So MAE ≤ min(0, P&L) and MFE ≥ max(0, P&L), as in pyfolio's
 * and most trade journals' round-trip excursions; the fills always count.
 */
export function excursion(
  t: Pick<RoundTrip, 'direction' | 'quantity' | 'entry_price' | 'exit_price' | 'pnl_cents' | 'entry_notional_cents'>,
  low: number | null,
  high: number | null,
): Excursion {
  const prices = [t.entry_price, t.exit_price, ...(low === null ? [] : [low]), ...(high === null ? [] : [high])];
  const sign = t.direction === 'long' ? 1 : -1;
  const exitTicks = Number(priceTicks(t.exit_price));
  const at = (p: number) => t.pnl_cents + sign * Math.round(((Number(priceTicks(p)) - exitTicks) * t.quantity) / 100);
  const values = prices.map(at);
  const worst = Math.min(0, ...values);
  const best = Math.max(0, ...values);
  const of = (c: number) => (t.entry_notional_cents > 0 ? c / t.entry_notional_cents : null);
  return { mae: worst / 100 + 0, mfe: best / 100 + 0, mae_pct: of(worst), mfe_pct: of(best) };
}

/**
 * Range lows and highs over a time-sorted bar series in O(1) per query after an O(n log n)
 * build (sparse tables), so MAE/MFE of many round trips costs no rescans.
 */
export class BarRange {
  private readonly times: number[];
  private readonly lo: Float64Array[];
  private readonly hi: Float64Array[];
  constructor(bars: readonly { t: number; low: number; high: number }[]) {
    this.times = bars.map((b) => b.t);
    const n = bars.length;
    this.lo = [Float64Array.from(bars, (b) => b.low)];
    this.hi = [Float64Array.from(bars, (b) => b.high)];
    for (let k = 1; 1 << k <= n; k++) {
      const prevLo = this.lo[k - 1]!;
      const prevHi = this.hi[k - 1]!;
      const len = n - (1 << k) + 1;
      const lo = new Float64Array(len);
      const hi = new Float64Array(len);
      const half = 1 << (k - 1);
      for (let i = 0; i < len; i++) {
        lo[i] = Math.min(prevLo[i]!, prevLo[i + half]!);
        hi[i] = Math.max(prevHi[i]!, prevHi[i + half]!);
      }
      this.lo.push(lo);
      this.hi.push(hi);
    }
  }

  /** First index with time > t. */
  private after(t: number): number {
    let a = 0;
    let b = this.times.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (this.times[m]! <= t) a = m + 1;
      else b = m;
    }
    return a;
  }

  /** Lowest low and highest high of the bars with from < time ≤ to; nulls when none. */
  query(from: number, to: number): { low: number | null; high: number | null } {
    const i = this.after(from);
    const j = this.after(to) - 1;
    if (j < i) return { low: null, high: null };
    const k = 31 - Math.clz32(j - i + 1);
    return {
      low: Math.min(this.lo[k]![i]!, this.lo[k]![j - (1 << k) + 1]!),
      high: Math.max(this.hi[k]![i]!, this.hi[k]![j - (1 << k) + 1]!),
    };
  }
}

export interface GroupStats {
  key: string;
  count: number;
  win_rate: number;
  total_pnl: number;
  avg_pnl: number;
  /** Gross win / gross loss; null when nothing lost. */
  profit_factor: number | null;
}

/** Round trips grouped by a key (symbol, New York entry hour, weekday): count, win rate, P&L, profit factor. */
export function groupRoundTrips<T extends { pnl_cents: number }>(trips: readonly T[], keyOf: (t: T) => string): GroupStats[] {
  const groups = new Map<string, T[]>();
  for (const t of trips) {
    const k = keyOf(t);
    const g = groups.get(k);
    if (g) g.push(t);
    else groups.set(k, [t]);
  }
  return [...groups.entries()]
    .map(([key, g]) => {
      const total = g.reduce((s, t) => s + t.pnl_cents, 0);
      const win = g.filter((t) => t.pnl_cents > 0).reduce((s, t) => s + t.pnl_cents, 0);
      const loss = -g.filter((t) => t.pnl_cents <= 0).reduce((s, t) => s + t.pnl_cents, 0);
      return {
        key,
        count: g.length,
        win_rate: g.filter((t) => t.pnl_cents > 0).length / g.length,
        total_pnl: total / 100,
        avg_pnl: Math.round(total / g.length) / 100,
        profit_factor: loss > 0 ? win / loss : null,
      };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export interface FindingTrip {
  symbol: string;
  direction: 'long' | 'short';
  pnl_cents: number;
  holding_seconds: number;
  exit_cause: string;
  /** New York minutes since midnight of the entry. */
  entry_minutes: number;
}

const usd = (cents: number) => {
  const abs = Math.abs(cents);
  return `${cents < 0 ? '-' : ''}$${(Math.floor(abs / 100)).toLocaleString('en-US')}.${String(abs % 100).padStart(2, '0')}`;
};
const pct = (x: number) => `${Math.round(x * 100)}%`;
const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const minutes = (s: number) => (s >= 5400 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 60)} min`);

/**
 * Plain sentences about closed round trips, each computed from them and carrying its figures:
 * win/loss asymmetry, where the loss came from (half hour of entry in New York time, symbol),
 * what closed the losers, holding times, longs against shorts. At most `max` sentences.
 */
export function tradeFindings(trips: readonly FindingTrip[], max = 6): string[] {
  const out: string[] = [];
  if (!trips.length) return out;
  const wins = trips.filter((t) => t.pnl_cents > 0);
  const losses = trips.filter((t) => t.pnl_cents <= 0);
  const total = trips.reduce((s, t) => s + t.pnl_cents, 0);
  const grossWin = wins.reduce((s, t) => s + t.pnl_cents, 0);
  const grossLoss = -losses.reduce((s, t) => s + t.pnl_cents, 0);
  if (wins.length && losses.length && grossLoss > 0) {
    const avgWin = grossWin / wins.length;
    const avgLoss = grossLoss / losses.length;
    const ratio = avgLoss / avgWin;
    out.push(
      ratio >= 1
        ? `The average loss (${usd(Math.round(avgLoss))}) is ${ratio.toFixed(1)}× the average win (${usd(Math.round(avgWin))}), so ${wins.length} winners of ${trips.length} round trips ${total > 0 ? 'made' : 'lost'} ${usd(Math.abs(total))} in total.`
        : `The average win (${usd(Math.round(avgWin))}) is ${(1 / ratio).toFixed(1)}× the average loss (${usd(Math.round(avgLoss))}); ${wins.length} winners of ${trips.length} round trips ${total > 0 ? 'made' : 'lost'} ${usd(Math.abs(total))} in total.`,
    );
  } else if (!losses.length) {
    out.push(`All ${trips.length} round trips won, ${usd(total)} in total.`);
  } else {
    out.push(`All ${trips.length} round trips lost or broke even, ${usd(-grossLoss)} in total.`);
  }
  if (grossLoss > 0 && losses.length > 1) {
    const byHalfHour = new Map<number, number>();
    for (const t of losses) {
      const k = Math.floor(t.entry_minutes / 30) * 30;
      byHalfHour.set(k, (byHalfHour.get(k) ?? 0) - t.pnl_cents);
    }
    const [k, loss] = [...byHalfHour.entries()].sort((a, b) => b[1] - a[1])[0]!;
    if (byHalfHour.size > 1 || losses.length > 1) {
      out.push(`${pct(loss / grossLoss)} of the loss (${usd(loss)} of ${usd(grossLoss)}) came from entries between ${hhmm(k)} and ${hhmm(k + 30)} New York time.`);
    }
    const bySymbol = new Map<string, { loss: number; n: number }>();
    for (const t of losses) {
      const s = bySymbol.get(t.symbol) ?? { loss: 0, n: 0 };
      s.loss -= t.pnl_cents;
      s.n++;
      bySymbol.set(t.symbol, s);
    }
    if (bySymbol.size > 1) {
      const [sym, s] = [...bySymbol.entries()].sort((a, b) => b[1].loss - a[1].loss)[0]!;
      out.push(`${sym} accounts for ${pct(s.loss / grossLoss)} of the loss (${usd(s.loss)} over ${s.n} losing round trip${s.n === 1 ? '' : 's'}).`);
    }
  }
  if (losses.length) {
    const byCause = new Map<string, { n: number; loss: number }>();
    for (const t of losses) {
      const c = byCause.get(t.exit_cause) ?? { n: 0, loss: 0 };
      c.n++;
      c.loss -= t.pnl_cents;
      byCause.set(t.exit_cause, c);
    }
    const [cause, c] = [...byCause.entries()].sort((a, b) => b[1].n - a[1].n || b[1].loss - a[1].loss)[0]!;
    out.push(`${c.n} of ${losses.length} losing round trips were closed by ${cause === 'agent' ? "the agent's own order" : cause}, losing ${usd(c.loss)}.`);
  }
  if (wins.length && losses.length) {
    const hw = wins.reduce((s, t) => s + t.holding_seconds, 0) / wins.length;
    const hl = losses.reduce((s, t) => s + t.holding_seconds, 0) / losses.length;
    out.push(`Losing round trips were held ${minutes(hl)} on average against ${minutes(hw)} for winners.`);
  }
  const longs = trips.filter((t) => t.direction === 'long');
  const shorts = trips.filter((t) => t.direction === 'short');
  if (longs.length && shorts.length) {
    const pl = longs.reduce((s, t) => s + t.pnl_cents, 0);
    const ps = shorts.reduce((s, t) => s + t.pnl_cents, 0);
    out.push(`Longs made ${usd(pl)} over ${longs.length} round trips; shorts made ${usd(ps)} over ${shorts.length}.`);
  }
  return out.slice(0, max);
}
