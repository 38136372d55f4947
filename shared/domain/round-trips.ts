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
  quantity: number;
  entry_fill_id: number;
  entry_order_id: number;
  exit_fill_id: number;
  exit_order_id: number;
  entry_time: string;
  exit_time: string;
  entry_price: number;
  exit_price: number;
  /** Net P&L in cents: exit − entry notional (long) or entry − exit (short), minus both commissions' shares. */
  pnl_cents: number;
  /** pnl / entry notional, a fraction. */
  pnl_pct: number | null;
  commission_cents: number;
  slippage_cents: number;
  entry_notional_cents: number;
  holding_seconds: number;
}

export interface OpenLot {
  symbol: string;
  direction: 'long' | 'short';
  quantity: number;
  entry_fill_id: number;
  entry_order_id: number;
  entry_time: string;
  entry_price: number;
  /** Entry notional and commission still carried by the open shares, cents. */
  entry_notional_cents: number;
  entry_commission_cents: number;
}

/** total × part / whole rounded half away from zero, exact for any integer sizes. */
function share(total: number, part: number, whole: number): number {
  const n = BigInt(total) * BigInt(part);
  const d = BigInt(whole);
  const q = n / d;
  const r = n % d;
  return Number((r < 0n ? -r : r) * 2n >= d ? (n < 0n ? q - 1n : q + 1n) : q);
}

/** Cumulative allocation of a fill's cents to the shares taken from it. */
class Allocator {
  private taken = 0;
  constructor(readonly fill: TradeFill) {}
  take(q: number): { notional: number; commission: number; slippage: number } {
    const { quantity: Q } = this.fill;
    const before = this.taken;
    this.taken += q;
    const part = (total: number) => share(total, this.taken, Q) - share(total, before, Q);
    return { notional: part(this.fill.notional_cents), commission: part(this.fill.commission_cents), slippage: part(this.fill.slippage_cents) };
  }
  get remaining(): number {
    return this.fill.quantity - this.taken;
  }
}

const isEntry = (side: Side) => side === 'buy' || side === 'short';

/**
 * FIFO round trips of fills (any order; sorted here by clock then fill id). Returns the closed
 * round trips in the order their exits happened and the lots still open. Throws RangeError
 * when an exit closes more shares than are open (the ledger never lets that happen).
 */
export function fifoRoundTrips(fills: readonly TradeFill[]): { round_trips: RoundTrip[]; open_lots: OpenLot[] } {
  const sorted = [...fills].sort((a, b) => (a.clock < b.clock ? -1 : a.clock > b.clock ? 1 : a.fill_id - b.fill_id));
  const lots = new Map<string, Allocator[]>();
  const trips: RoundTrip[] = [];
  for (const fill of sorted) {
    const queue = lots.get(fill.symbol) ?? [];
    lots.set(fill.symbol, queue);
    if (isEntry(fill.side)) {
      queue.push(new Allocator(fill));
      continue;
    }
    const direction = fill.side === 'sell' ? 'long' : 'short';
    const exit = new Allocator(fill);
    while (exit.remaining > 0) {
      const lot = queue[0];
      if (!lot) throw new RangeError(`Fill ${fill.fill_id} ${fill.side}s ${fill.quantity} ${fill.symbol} beyond the open lots.`);
      if ((lot.fill.side === 'buy') !== (direction === 'long')) {
        throw new RangeError(`Fill ${fill.fill_id} (${fill.side}) meets an open ${lot.fill.side} lot of ${fill.symbol}.`);
      }
      const q = Math.min(lot.remaining, exit.remaining);
      const entry = lot.take(q);
      const out = exit.take(q);
      const gross = direction === 'long' ? out.notional - entry.notional : entry.notional - out.notional;
      const commission = entry.commission + out.commission;
      const pnl = gross - commission;
      trips.push({
        symbol: fill.symbol,
        direction,
        quantity: q,
        entry_fill_id: lot.fill.fill_id,
        entry_order_id: lot.fill.order_id,
        exit_fill_id: fill.fill_id,
        exit_order_id: fill.order_id,
        entry_time: lot.fill.clock,
        exit_time: fill.clock,
        entry_price: lot.fill.price,
        exit_price: fill.price,
        pnl_cents: pnl,
        pnl_pct: entry.notional > 0 ? pnl / entry.notional : null,
        commission_cents: commission,
        slippage_cents: entry.slippage + out.slippage,
        entry_notional_cents: entry.notional,
        holding_seconds: (Date.parse(fill.clock) - Date.parse(lot.fill.clock)) / 1000,
      });
      if (lot.remaining === 0) queue.shift();
    }
  }
  const open: OpenLot[] = [];
  for (const queue of lots.values()) {
    for (const lot of queue) {
      const q = lot.remaining;
      const left = lot.take(q);
      open.push({
        symbol: lot.fill.symbol,
        direction: lot.fill.side === 'buy' ? 'long' : 'short',
        quantity: q,
        entry_fill_id: lot.fill.fill_id,
        entry_order_id: lot.fill.order_id,
        entry_time: lot.fill.clock,
        entry_price: lot.fill.price,
        entry_notional_cents: left.notional,
        entry_commission_cents: left.commission,
      });
    }
  }
  return { round_trips: trips, open_lots: open };
}

/** Notional cents of a fill from its recorded cash change and commission (buy/cover pay, sell/short receive). */
export function fillNotionalCents(side: Side, cashChangeCents: number, commissionCents: number): number {
  return side === 'buy' || side === 'cover' ? -cashChangeCents - commissionCents : cashChangeCents + commissionCents;
}

/** Unrealized P&L in cents of an open lot marked at `price`, net of its entry commission share. */
export function openLotPnlCents(lot: OpenLot, price: number): number {
  const market = Math.round(lot.quantity * price * 100);
  return (lot.direction === 'long' ? market - lot.entry_notional_cents : lot.entry_notional_cents - market) - lot.entry_commission_cents;
}

export type ExitCause = 'agent' | 'stop_loss' | 'take_profit' | 'trailing_stop' | 'flatten_by' | 'limit' | 'forced';

/**
 * What closed a position, from the exit order's `source` and reasoning: 'agent' (an order
 * the agent placed), the order's own stop_loss/take_profit, a stop_loss rule (stop loss,
 * trailing stop, take profit) or a timing rule (flatten_by) named by the clock's reason text,
 * anything else the system placed is 'forced'.
 */
export function exitCause(source: string, reasoning: string | null): ExitCause {
  if (source === 'agent') return 'agent';
  if (source === 'stop_loss' || source === 'take_profit' || source === 'trailing_stop' || source === 'flatten_by') return source;
  const m = /^Rule '.*?': (stop loss|trailing stop|take profit|flatten by)/.exec(reasoning ?? '');
  if (m) return m[1]!.replace(' ', '_') as ExitCause;
  return 'forced';
}

export interface Excursion {
  /** Worst unrealized move against the position while open, dollars (≤ 0). */
  mae: number;
  /** Best unrealized move in favour, dollars (≥ 0). */
  mfe: number;
  mae_pct: number;
  mfe_pct: number;
}

/**
 * Maximum adverse and favourable excursion of `quantity` shares entered at `entryPrice`, from
 * the lowest low and highest high of the bars seen while open. Null when no bar was seen.
 */
export function excursion(direction: 'long' | 'short', entryPrice: number, quantity: number, low: number | null, high: number | null): Excursion | null {
  if (low === null || high === null || !(entryPrice > 0)) return null;
  const adverse = direction === 'long' ? Math.min(0, low - entryPrice) : Math.min(0, entryPrice - high);
  const favourable = direction === 'long' ? Math.max(0, high - entryPrice) : Math.max(0, entryPrice - low);
  return {
    mae: round2(adverse * quantity),
    mfe: round2(favourable * quantity),
    mae_pct: adverse / entryPrice,
    mfe_pct: favourable / entryPrice,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100 + 0;

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
