// FIFO round trips checked against lots worked out by hand, in integer cents.
import { describe, expect, it } from 'vitest';
import { BarRange, excursion, exitCause, fifoRoundTrips, fillNotionalCents, groupRoundTrips, openLotPnlCents, tradeFindings, type TradeFill } from './round-trips.js';
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
    expect(() => fifoRoundTrips([fill('sell', 'F', 1, 10, 0, 0)])).toThrow(RangeError);
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
  });

  it('MAE/MFE from the lowest low and highest high while open', () => {
    expect(excursion('long', 100, 10, 97, 104)).toEqual({ mae: -30, mfe: 40, mae_pct: -0.03, mfe_pct: 0.04 });
    expect(excursion('short', 100, 10, 97, 104)).toEqual({ mae: -40, mfe: 30, mae_pct: -0.04, mfe_pct: 0.03 });
    expect(excursion('long', 100, 10, null, null)).toBeNull();
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
