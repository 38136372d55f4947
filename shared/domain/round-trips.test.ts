// FIFO round trips checked against lots worked out by hand, in integer cents.
import { describe, expect, it } from 'vitest';
import { BarRange, excursion, exitCause, fifoRoundTrips, fillNotionalCents, groupRoundTrips, openLotPnlCents, RoundTripError, tradeFindings, type LotAction, type TradeFill } from './round-trips.js';
import type { Side } from './types.js';

let id = 0;
function fill(side: Side, symbol: string, quantity: number, price: number, commissionCents: number, minute: number, slippagePerShareCents = 0): TradeFill {
  id++;
  return {
    fill_id: id,
    order_id: 100 + id,
    symbol,
    side,
    quantity,
    price,
    notional_cents: Math.round(quantity * price * 100),
    commission_cents: commissionCents,
    slippage_cents: quantity * slippagePerShareCents,
    clock: new Date(Date.UTC(2025, 5, 10, 13, 30 + minute)).toISOString(),
  };
}

describe('fifoRoundTrips', () => {
  it('closes the oldest lots first, splits a lot, and allocates costs pro rata', () => {
    const fills = [
      fill('buy', 'AAA', 10, 100, 100, 0), // lot 1: $1,000.00, commission $1.00
      fill('buy', 'AAA', 5, 110, 50, 1), // lot 2: $550.00, commission $0.50
      fill('sell', 'AAA', 12, 120, 120, 2), // closes lot 1 and 2 of lot 2's 5 shares
      fill('sell', 'AAA', 3, 90, 30, 3), // closes the rest of lot 2
    ];
    const { round_trips: t, open_lots } = fifoRoundTrips(fills);
    expect(open_lots).toEqual([]);
    expect(t.map((x) => [x.quantity, x.entry_price, x.exit_price])).toEqual([
      [10, 100, 120],
      [2, 110, 120],
      [3, 110, 90],
    ]);
    // lot 1: 1200 − 1000 = 200.00, minus $1.00 entry and 10/12 of $1.20 exit = 199.00 − 1.00 = 198.00
    expect(t[0]!.pnl_cents).toBe(19_800);
    // 2 of lot 2: 240 − 220 = 20.00, minus 2/5 of $0.50 and 2/12 of $1.20 = 20.00 − 0.20 − 0.20
    expect(t[1]!.pnl_cents).toBe(1_960);
    // 3 of lot 2: 270 − 330 = −60.00, minus the remaining $0.30 entry and $0.30 exit
    expect(t[2]!.pnl_cents).toBe(-6_060);
    expect(t[2]!.pnl_pct).toBeCloseTo(-60.6 / 330, 12);
    expect(t.map((x) => x.commission_cents)).toEqual([200, 40, 60]);
    expect(t[0]!.holding_seconds).toBe(120);
    // Flat: Σ P&L = Σ cash flows = −1000 − 1 − 550 − 0.5 + 1440 − 1.2 + 270 − 0.3 = 157.00
    expect(t.reduce((s, x) => s + x.pnl_cents, 0)).toBe(15_700);
  });

  it('handles shorts, open lots and symbols apart', () => {
    const fills = [
      fill('short', 'BBB', 20, 50, 40, 0), // $1,000.00 received, $0.40
      fill('buy', 'CCC', 4, 25, 0, 1),
      fill('cover', 'BBB', 15, 45, 30, 2), // 15 of 20 covered at 45
    ];
    const { round_trips: t, open_lots } = fifoRoundTrips(fills);
    expect(t).toHaveLength(1);
    expect(t[0]).toMatchObject({ symbol: 'BBB', direction: 'short', quantity: 15, entry_price: 50, exit_price: 45 });
    // 750 − 675 = 75.00, minus 15/20 of $0.40 and $0.30 = 74.40
    expect(t[0]!.pnl_cents).toBe(7_440);
    expect(open_lots).toHaveLength(2);
    const bbb = open_lots.find((l) => l.symbol === 'BBB')!;
    expect(bbb).toMatchObject({ direction: 'short', quantity: 5, entry_notional_cents: 25_000, entry_commission_cents: 10 });
    // marked at 48: 250 − 240 − 0.10 = 9.90
    expect(openLotPnlCents(bbb, 48)).toBe(990);
    const ccc = open_lots.find((l) => l.symbol === 'CCC')!;
    expect(openLotPnlCents(ccc, 24.5)).toBe(-200);
  });

  it('allocates odd cents so the parts add up to the fill exactly', () => {
    // $0.10 commission over 3 shares closed one at a time: 3 + 4 + 3 cents (cumulative rounding)
    const fills = [fill('buy', 'D', 3, 10, 10, 0), fill('sell', 'D', 1, 10, 0, 1), fill('sell', 'D', 1, 10, 0, 2), fill('sell', 'D', 1, 10, 0, 3)];
    const { round_trips: t } = fifoRoundTrips(fills);
    expect(t.map((x) => x.commission_cents)).toEqual([3, 4, 3]);
    expect(t.reduce((s, x) => s + x.pnl_cents, 0)).toBe(-10);
  });

  it('reports slippage pro rata and refuses an exit beyond the open lots', () => {
    const { round_trips: t } = fifoRoundTrips([fill('buy', 'E', 10, 10, 0, 0, 2), fill('sell', 'E', 4, 11, 0, 1, 3)]);
    expect(t[0]!.slippage_cents).toBe(4 * 2 + 4 * 3);
    const stray = fill('sell', 'F', 1, 10, 0, 0);
    expect(() => fifoRoundTrips([stray])).toThrow(RoundTripError);
    expect(() => fifoRoundTrips([stray])).toThrow(`Fill ${stray.fill_id} sells 1 F on 2025-06-10 beyond the 0 share(s) the fills and the recorded splits leave open.`);
  });

  it('recovers the ledger notional from the cash change', () => {
    expect(fillNotionalCents('buy', -100_150, 150)).toBe(100_000);
    expect(fillNotionalCents('sell', 99_850, 150)).toBe(100_000);
    expect(fillNotionalCents('short', 99_850, 150)).toBe(100_000);
    expect(fillNotionalCents('cover', -100_150, 150)).toBe(100_000);
  });
});

describe('exit causes, excursions, groups and findings', () => {
  it('names what closed a position', () => {
    expect(exitCause('agent', 'Taking profit')).toBe('agent');
    expect(exitCause('stop_loss', 'Stop loss at 9 …')).toBe('stop_loss');
    expect(exitCause('take_profit', null)).toBe('take_profit');
    expect(exitCause('Tight trail', "Rule 'Tight trail': trailing stop 2% below the high of $10 is $9.8; …")).toBe('trailing_stop');
    expect(exitCause('EOD', "Rule 'EOD': flatten by 15:55 ET and it is 15:55 ET; selling 10 AAA at $10.")).toBe('flatten_by');
    expect(exitCause('Stops', "Rule 'Stops': stop loss 2% below the $10 average cost is $9.8; …")).toBe('stop_loss');
    expect(exitCause('margin', 'Margin call')).toBe('forced');
    expect(exitCause(null, null)).toBe('cash_in_lieu');
  });

  it('MAE/MFE are the worst and best P&L over the fills and the bars seen, so they bracket the P&L', () => {
    // long 10 @ 100 → 103, commission $2 in all: P&L = 30 − 2 = $28.00. By hand: at the low 97
    // the P&L would be 28 + (97 − 103) × 10 = −$32.00; at the high 104, 28 + 10 = $38.00.
    const long = { direction: 'long' as const, quantity: 10, entry_price: 100, exit_price: 103, pnl_cents: 2_800, entry_notional_cents: 100_000 };
    expect(excursion(long, 97, 104)).toEqual({ mae: -32, mfe: 38, mae_pct: -0.032, mfe_pct: 0.038 });
    // no bar seen: the fills alone. At the entry price, 28 − 30 = −$2.00 (the commission)
    expect(excursion(long, null, null)).toEqual({ mae: -2, mfe: 28, mae_pct: -0.002, mfe_pct: 0.028 });
    // a winner that exits on a gap above every bar seen: MFE is its P&L, not the bars' high (issue 16)
    expect(excursion({ ...long, exit_price: 105, pnl_cents: 4_800 }, 99, 102).mfe).toBe(48);
    // short 10 @ 100 → 98, no costs: P&L $20.00; at the high 104: 20 − 60 = −$40.00; at the low 97: 20 + 10 = $30.00
    const short = { direction: 'short' as const, quantity: 10, entry_price: 100, exit_price: 98, pnl_cents: 2_000, entry_notional_cents: 100_000 };
    expect(excursion(short, 97, 104)).toEqual({ mae: -40, mfe: 30, mae_pct: -0.04, mfe_pct: 0.03 });
    const r = new BarRange([5, 3, 8, 1, 9, 4].map((v, i) => ({ t: i * 10, low: v, high: v + 1 })));
    expect(r.query(0, 30)).toEqual({ low: 1, high: 9 }); // times 10, 20, 30
    expect(r.query(5, 20)).toEqual({ low: 3, high: 9 });
    expect(r.query(50, 60)).toEqual({ low: null, high: null });
    expect(r.query(-1, 100)).toEqual({ low: 1, high: 10 });
  });

  it('groups: count, win rate, P&L and profit factor', () => {
    const g = groupRoundTrips(
      [
        { k: 'A', pnl_cents: 300 },
        { k: 'A', pnl_cents: -100 },
        { k: 'B', pnl_cents: 0 },
      ],
      (t) => t.k,
    );
    expect(g).toEqual([
      { key: 'A', count: 2, win_rate: 0.5, total_pnl: 2, avg_pnl: 1, profit_factor: 3 },
      { key: 'B', count: 1, win_rate: 0, total_pnl: 0, avg_pnl: 0, profit_factor: null },
    ]);
  });

  it('findings are sentences with figures computed from the trips', () => {
    const trips = [
      { symbol: 'A', direction: 'long' as const, pnl_cents: 1000, holding_seconds: 600, exit_cause: 'agent', entry_minutes: 600 },
      { symbol: 'A', direction: 'long' as const, pnl_cents: -3000, holding_seconds: 1800, exit_cause: 'stop_loss', entry_minutes: 575 },
      { symbol: 'B', direction: 'short' as const, pnl_cents: -1000, holding_seconds: 1200, exit_cause: 'stop_loss', entry_minutes: 700 },
    ];
    const f = tradeFindings(trips);
    expect(f[0]).toBe('The average loss ($20.00) is 2.0× the average win ($10.00), so 1 winners of 3 round trips lost $30.00 in total.');
    expect(f).toContain('75% of the loss ($30.00 of $40.00) came from entries between 09:30 and 10:00 New York time.');
    expect(f).toContain('A accounts for 75% of the loss ($30.00 over 1 losing round trip).');
    expect(f).toContain('2 of 2 losing round trips were closed by stop_loss, losing $40.00.');
    expect(f).toContain('Losing round trips were held 25 min on average against 10 min for winners.');
    expect(f).toContain('Longs made -$20.00 over 2 round trips; shorts made -$10.00 over 1.');
    for (const s of f) expect(s).toMatch(/\d/);
  });
});

/** A ledger action at the 09:30 open of 2025-06-11 (the fills above are on 2025-06-10). */
function action(kind: 'split' | 'dividend', symbol: string, before: number, after: number, cashChange: number, ratio: [number, number] | null = null): LotAction {
  return { kind, symbol, date: '2025-06-11', clock: '2025-06-11T13:30:00.000Z', split_from: ratio?.[0] ?? null, split_to: ratio?.[1] ?? null, quantity_before: before, quantity_after: after, cash_change_cents: cashChange };
}
const nextDay = (minute: number) => new Date(Date.UTC(2025, 5, 11, 13, 30 + minute)).toISOString();
const sum = (t: { pnl_cents: number }[]) => t.reduce((s, x) => s + x.pnl_cents, 0);

describe('round trips through splits and dividends (as the ledger applies them)', () => {
  it('2-for-1: each lot × 2, its price ÷ 2, its cents kept; selling every new share leaves nothing open', () => {
    const f = [fill('buy', 'S2', 60, 100, 60, 0), fill('buy', 'S2', 30, 110, 30, 1), { ...fill('sell', 'S2', 180, 52, 180, 0), clock: nextDay(5) }];
    const { round_trips: t, open_lots } = fifoRoundTrips(f, [action('split', 'S2', 90, 180, 0, [1, 2])]);
    expect(open_lots).toEqual([]);
    // by hand: lot 1 = 120 new shares at 50 (6,000.00), lot 2 = 60 at 55 (3,300.00); exit 180 @ 52 = 9,360.00, $1.80
    expect(t.map((x) => [x.quantity, x.entry_price, x.exit_price, x.split_factor])).toEqual([[120, 50, 52, 2], [60, 55, 52, 2]]);
    expect(t.map((x) => x.pnl_cents)).toEqual([624_000 - 600_000 - 60 - 120, 312_000 - 330_000 - 30 - 60]);
    // Σ = Σ cash changes: −6,000.60 − 3,300.30 + 9,358.20 = 57.30
    expect(sum(t)).toBe(5_730);
  });

  it('3-for-2 on 11 shares: 16 shares and half a new share in lieu, booked to the lot', () => {
    // 11 @ 120 = 1,320.00; the ledger: 16 shares, $40.00 in lieu (1/3 old share at the $120 close)
    const f = [fill('buy', 'T3', 11, 120, 0, 0), { ...fill('sell', 'T3', 16, 85, 0, 0), clock: nextDay(1) }];
    const { round_trips: t } = fifoRoundTrips(f, [action('split', 'T3', 11, 16, 4_000, [2, 3])]);
    // by hand: 16 × 85 = 1,360.00 − 1,320.00 + 40.00 in lieu = $80.00; entry price 120 × 2/3 = 80
    expect(t).toHaveLength(1);
    expect(t[0]).toMatchObject({ quantity: 16, entry_price: 80, cash_in_lieu_cents: 4_000, pnl_cents: 8_000, split_factor: 1.5 });
  });

  it('3-for-2 on lots of 3 and 2 combines them into one position, as the ledger holds it', () => {
    // 3 @ 30 and 2 @ 35 = 160.00; 5 × 1.5 = 7.5 → 7 shares and half a new share in lieu: $10.00 (1/3 old share at a $30 close)
    const f = [fill('buy', 'T4', 3, 30, 0, 0), fill('buy', 'T4', 2, 35, 0, 1), { ...fill('sell', 'T4', 7, 22, 0, 0), clock: nextDay(1) }];
    const { round_trips: t, open_lots } = fifoRoundTrips(f, [action('split', 'T4', 5, 7, 1_000, [2, 3])]);
    expect(open_lots).toEqual([]);
    // by hand: 7 × 22 = 154.00 − 160.00 + 10.00 = $4.00, entered with the oldest lot at (3 × 30 + 2 × 35) / 5 × 2/3 = 21.3333
    expect(t.map((x) => [x.quantity, x.entry_fill_id, x.entry_price, x.pnl_cents])).toEqual([[7, f[0]!.fill_id, 21.3333, 400]]);
  });

  it('1-for-3 reverse: 100 shares become 33 and a third of a share in lieu; no phantom lot', () => {
    // 100 @ 10 = 1,000.00; ledger: 33 shares, 1/3 new share = 1 old share at the $10.50 close = $10.50
    const f = [fill('buy', 'R3', 100, 10, 100, 0), { ...fill('sell', 'R3', 33, 31, 33, 0), clock: nextDay(2) }];
    const { round_trips: t, open_lots } = fifoRoundTrips(f, [action('split', 'R3', 100, 33, 1_050, [3, 1])]);
    expect(open_lots).toEqual([]);
    // by hand: 33 × 31 = 1,023.00 − 1,000.00 − 1.00 − 0.33 + 10.50 = $32.17
    expect(t.map((x) => [x.quantity, x.entry_price, x.pnl_cents])).toEqual([[33, 30, 3_217]]);
  });

  it('a reverse split that leaves under one share pays the position in lieu: a round trip without an exit fill', () => {
    // short 2 @ 50 = 100.00 received; 1-for-3: 2/3 of a share, the short pays 2 × $48 = $96.00 in lieu
    const f = [fill('short', 'R4', 2, 50, 0, 0)];
    const { round_trips: t, open_lots } = fifoRoundTrips(f, [action('split', 'R4', -2, 0, -9_600, [3, 1])]);
    expect(open_lots).toEqual([]);
    expect(t[0]).toMatchObject({ direction: 'short', quantity: 0.666667, exit_fill_id: null, exit_order_id: null, pnl_cents: 400, cash_in_lieu_cents: -9_600 });
  });

  it('a dividend belongs to the lots open on the ex-date, spread by shares; a short pays it', () => {
    // long: 30 + 70 shares get $26.00 (100 × 0.26): 7.80 and 18.20; the 70 close in two parts
    const f = [fill('buy', 'DV', 30, 40, 0, 0), fill('buy', 'DV', 70, 40, 0, 1), { ...fill('sell', 'DV', 50, 39.8, 0, 0), clock: nextDay(1) }, { ...fill('sell', 'DV', 50, 39.9, 0, 0), clock: nextDay(2) }];
    const { round_trips: t } = fifoRoundTrips(f, [action('dividend', 'DV', 100, 100, 2_600)]);
    expect(t.map((x) => [x.quantity, x.dividends_cents])).toEqual([[30, 780], [20, 520], [50, 1_300]]);
    // Σ = −4,000 + 1,990 + 1,995 + 26 = $11.00
    expect(sum(t)).toBe(1_100);
    // short 50 @ 40 pays 50 × 0.26 = $13.00; covered at 39.74: 2,000 − 1,987 − 13 = $0.00
    const s = [fill('short', 'DS', 50, 40, 0, 0), { ...fill('cover', 'DS', 50, 39.74, 0, 0), clock: nextDay(1) }];
    const short = fifoRoundTrips(s, [action('dividend', 'DS', -50, -50, -1_300)]).round_trips;
    expect(short.map((x) => [x.dividends_cents, x.pnl_cents])).toEqual([[-1_300, 0]]);
    // still open at the ex-date: the dividend is the open lot's
    const open = fifoRoundTrips([fill('buy', 'DO', 10, 40, 0, 0)], [action('dividend', 'DO', 10, 10, 260)]).open_lots;
    expect(openLotPnlCents(open[0]!, 39.74)).toBe(-260 + 260);
  });

  it('an action goes after the fills the ledger booked before it, even when a later fill is stamped earlier', () => {
    // buy 90 @ 100; the step that applies a 2-for-1 then books a stop of 180 @ 47.5 stamped at the
    // close before the split: by the stamps the sale comes first and oversells, by the books it pairs
    const buy = fill('buy', 'SB', 90, 100, 0, 0);
    const stop = { ...fill('sell', 'SB', 180, 47.5, 0, 390) };
    const split = { ...action('split', 'SB', 90, 180, 0, [1, 2]), fills_before: 1 };
    expect(() => fifoRoundTrips([buy, stop], [{ ...split, fills_before: null }])).toThrow(RoundTripError);
    // by hand: 180 × 47.5 − 9,000 = −$450.00
    expect(fifoRoundTrips([stop, buy], [split]).round_trips.map((x) => [x.quantity, x.entry_price, x.pnl_cents])).toEqual([[180, 50, -45_000]]);
  });

  it('a ledger action the fills do not show is one sentence naming the symbol and the date', () => {
    expect(() => fifoRoundTrips([fill('buy', 'Q1', 10, 40, 0, 0)], [action('split', 'Q1', 20, 40, 0, [1, 2])])).toThrow(
      "The ledger's split of Q1 on 2025-06-11 applied to 20 share(s), but the run's fills leave 10 open then.",
    );
  });
});
