// Stop and stop-limit entries (issue 18 item 4, CONTRACT §4) through real MCP clients, on both
// databases: placement refused on the near side of the market and judged at the stop, the
// clock's trigger inside a bar (at the stop, stamped at the bar's end) and through a gap (at
// the open), a stop-limit that rests as a limit once its stop trades, the gates again at the
// trigger, modify_order's stop_price, sell and short stops, and the counterfactual replay of
// it all. Every expected fill is computed by hand below from the made-up bars (slippage moves
// the price against the trader by bps of the market, rounded half up to $0.0001; commission per
// share in cents: fills.ts / ledger.ts conventions).
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../shared/auth/keys.js';
import { importDayBars, type DayBars } from '../../test/csv-bars.js';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { expectReplayed as expectReplayedRun } from '../../test/replay-identity.js';

let t: TestSuite;
let trade: Client, runs: Client, rules: Client, analyst: Client, approver: Client;
let userId: number;

// Made-up daily bars [date, open, high, low, close] of symbols no other test touches.
const CSV_BARS: DayBars = {
  // 105 is traded inside the 06-11 bar (open 101, high 106)
  SEBU: [
    ['2025-06-10', 100, 102, 99, 101],
    ['2025-06-11', 101, 106, 100, 105],
    ['2025-06-12', 105, 111, 104, 110],
    ['2025-06-13', 110, 111, 109, 110],
  ],
  // gaps from 100 to 108 on 06-11, then trades back down to 105 on 06-12
  SEGP: [
    ['2025-06-10', 100, 101, 99, 100],
    ['2025-06-11', 108, 109, 107, 108],
    ['2025-06-12', 107, 108, 105, 106],
    ['2025-06-13', 106, 107, 105, 106],
  ],
  // gaps down from 50 to 46 on 06-11; 47.5 is traded inside the 06-10 bar
  SESH: [
    ['2025-06-10', 50, 51, 47, 48],
    ['2025-06-11', 46, 47, 45, 46],
    ['2025-06-12', 46, 47, 45, 46],
  ],
  // a plain long for the cash test
  SELG: [
    ['2025-06-10', 100, 101, 99, 100],
    ['2025-06-11', 100, 101, 99, 100],
    ['2025-06-12', 100, 101, 99, 100],
  ],
};

beforeAll(async () => {
  t = await bootSuite();
  await importDayBars(t, 'stop-entries.csv', CSV_BARS);
  const { key, name } = await t.user();
  const [u] = await t.suite.deps.sql`select id from users where name = ${name}`;
  userId = u!.id;
  [trade, runs, rules, analyst] = await Promise.all(['trade', 'runs', 'rules', 'analyst'].map((s) => t.client(s as any, key)));
  approver = await t.client('trade', (await createKey(t.suite.deps.sql, name, ['read', 'approve'])).key);
}, 120_000);
afterAll(() => t?.close());

async function dayReplay(name: string, symbols: string[], settings: Record<string, unknown> = {}, end = '2025-06-13') {
  const m = await ok(runs, 'create_model', { name, initial_cash: 10_000, allow_short: true, max_orders_per_minute: 10_000, ...settings });
  const run = await ok(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end, symbols });
  return { m, run };
}

/** One clock step: the fills the clock made [order_id, side, quantity, price, trigger, time]. */
const step = async (runId: number) =>
  (await ok(runs, 'advance_run', { run_id: runId })).exits_triggered.map((e: any) => [e.order_id, e.side, e.quantity, e.price, e.trigger, e.time]);
const orderRow = async (runId: number, orderId: number) => (await ok(trade, 'list_orders', { run_id: runId, limit: 100 })).orders.find((o: any) => o.order_id === orderId);

/** The run replayed under its frozen rules reproduces its books (test/replay-identity.ts). */
const expectReplayed = (runId: number, fills: number) => expectReplayedRun(t, analyst, userId, runId, fills);

describe('stop entries: placement', () => {
  it('a buy stop rests above the market; on the near side it is refused naming stop_price and the allowed side; bad shapes are one sentence and place nothing', async () => {
    const { m, run } = await dayReplay('Stop placement', ['SEBU']);
    const placed = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 10, order_type: 'stop', stop_price: 105 });
    expect(placed).toMatchObject({ status: 'open', order_type: 'stop', stop_price: 105, limit_price: null, fill_price: null });
    expect((await call(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 10, order_type: 'stop', stop_price: 105 })).text).toContain('stop $105 rests until a bar trades at or through it, then fills at market');
    // at the price now (100) or below: it would trigger at once
    for (const stop of [100, 99]) {
      const near = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 10, order_type: 'stop', stop_price: stop });
      expect(near.status).toBe('rejected');
      expect(near.rejections).toEqual([
        {
          source: 'gate',
          code: 'BAD_STOP',
          message: `stop_price $${stop}.00 must be above SEBU's price now, $100.00, for a buy stop (it triggers when a bar trades at or above it; a lower price is a limit order).`,
        },
      ]);
    }
    const count = async () => (await t.suite.deps.sql`select count(*)::int as n from orders where model_id = ${m.model_id}`)[0]!.n;
    const before = await count();
    expect(await call(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 10, order_type: 'stop' })).toMatchObject({
      isError: true,
      text: 'A stop order needs stop_price (the trigger, dollars per share).',
    });
    expect(await call(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 10, order_type: 'stop_limit', stop_price: 105 })).toMatchObject({
      isError: true,
      text: 'A stop_limit order needs limit_price (dollars per share).',
    });
    expect(await call(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 10, stop_price: 105 })).toMatchObject({
      isError: true,
      text: "stop_price is only for order_type stop or stop_limit (a bracket's exit is stop_loss).",
    });
    expect(await call(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 10, order_type: 'stop', stop_price: 105, limit_price: 106 })).toMatchObject({
      isError: true,
      text: 'limit_price is only for order_type limit or stop_limit.',
    });
    expect(await count()).toBe(before);
    expect((await orderRow(run.run_id, placed.order_id)).triggered_at).toBeNull();
  });

  it('the gates and rules judge it at its stop: buying power (96 × $105 = $10,080 > $10,000, at the $100 market it would fit), the position cap, risk to its stop_loss', async () => {
    const { m } = await dayReplay('Stop at its price', ['SEBU']);
    const big = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 96, order_type: 'stop', stop_price: 105 });
    expect(big.rejections.map((r: any) => r.message)).toEqual([
      'Insufficient buying power: buying 96 SEBU at $105.00 (stop) costs $10,080.00 plus $0.00 commission, but buying power is $10,000.00.',
    ]);
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 95, order_type: 'stop', stop_price: 105 })).status).toBe('open');
    // the position cap at the stop: 48 × $105 = $5,040 > 50% of $10,000 (48 × $100 = $4,800 would fit); 47 × 105 = $4,935 rests
    await ok(rules, 'create_rule', { model_id: m.model_id, rule_name: 'Cap 50%', rule_category: 'position_sizing', rule_description: 'cap', enforcement_params: { max_position_pct: 0.5 } });
    const capped = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 48, order_type: 'stop', stop_price: 105 });
    expect(capped.rejections.map((r: any) => r.code)).toEqual(['MAX_POSITION_PCT']);
    expect(capped.rejections[0].message).toContain('position would be $5,040.00');
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 47, order_type: 'stop', stop_price: 105 })).status).toBe('open');
    // risk per trade to the order's own stop_loss, from the stop: 1% of $10,000 = $100; 21 × (105 − 100) = $105 refused
    await ok(rules, 'create_rule', { model_id: m.model_id, rule_name: 'Risk 1%', rule_category: 'position_sizing', rule_description: 'risk', enforcement_params: { risk_per_trade_pct: 0.01 } });
    const risky = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 21, order_type: 'stop', stop_price: 105, stop_loss: 100 });
    expect(risky.rejections.map((r: any) => r.code)).toEqual(['RISK_PER_TRADE']);
    expect(risky.rejections[0].message).toContain('21 × $5.00 = $105.00');
    // a stop_loss must lie below the stop (the expected fill), not only below the market
    const bracket = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 20, order_type: 'stop', stop_price: 105, stop_loss: 103 });
    expect(bracket.status).toBe('open');
  });
});

describe('stop entries on the clock', () => {
  it('buy stop 105 with 10 bps and $0.01/share: nothing on 06-10 (high 102); the 06-11 bar trades 105 inside: 10 at 105.105, stamped at its end; the bracket attaches', async () => {
    const { m, run } = await dayReplay('Stop inside a bar', ['SEBU'], { commission_per_share: 0.01, slippage_bps: 10 });
    const o = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 10, order_type: 'stop', stop_price: 105, take_profit: 110 });
    expect(o.status).toBe('open');
    expect(await step(run.run_id)).toEqual([]);
    // 105 + 105 × 10 bps (0.105) = 105.105; the bar's end is 16:00 ET = 20:00 UTC
    expect(await step(run.run_id)).toEqual([[o.order_id, 'buy', 10, 105.105, 'stop', '2025-06-11T20:00:00.000Z']]);
    const row = await orderRow(run.run_id, o.order_id);
    expect(row).toMatchObject({ status: 'filled', triggered_at: '2025-06-11T20:00:00.000Z', fill: { price: 105.105, commission: 0.1, slippage: 0.105 } });
    // cash 10,000 − 1,051.05 − 0.10 = 8,948.85; the take_profit 110 attached to the position
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    expect(p.cash).toBe(8_948.85);
    expect(p.positions[0]).toMatchObject({ symbol: 'SEBU', quantity: 10, avg_cost: 105.105 });
    expect(p.positions[0].exits.take_profit.price).toBe(110);
    // the 06-12 bar's high 111 reaches 110: sell 10 at 110 − 0.11 = 109.89
    expect((await step(run.run_id)).map((x: any[]) => x.slice(1))).toEqual([['sell', 10, 109.89, 'take_profit', '2025-06-12T20:00:00.000Z']]);
    await ok(runs, 'end_run', { run_id: run.run_id });
    await expectReplayed(run.run_id, 2);
  });

  it('a gap: buy stop 105 fills at the 108 open of 06-11, stamped at the clock; a sell stop 99 under a long fills at 99; a short stop rests below the market and fills at 45.50 inside a bar', async () => {
    const { m, run } = await dayReplay('Stop through a gap', ['SEGP', 'SESH', 'SELG'], {}, '2025-06-12');
    const buy = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEGP', quantity: 10, order_type: 'stop', stop_price: 105 });
    // a short stop rests below the market (50): 50.5 is on the wrong side
    const wrong = await ok(trade, 'short', { model_id: m.model_id, symbol: 'SESH', quantity: 20, order_type: 'stop', stop_price: 50.5 });
    expect(wrong.rejections[0].message).toBe("stop_price $50.50 must be below SESH's price now, $50.00, for a short stop (it triggers when a bar trades at or below it; a higher price is a limit order).");
    const short = await ok(trade, 'short', { model_id: m.model_id, symbol: 'SESH', quantity: 20, order_type: 'stop', stop_price: 45.5 });
    expect(short.status).toBe('open');
    // a sell stop under a long of 5 SELG at 100
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SELG', quantity: 5 })).fill_price).toBe(100);
    const sellStop = await ok(trade, 'sell', { model_id: m.model_id, symbol: 'SELG', quantity: 5, order_type: 'stop', stop_price: 99 });
    expect(sellStop.status).toBe('open');
    // 06-10 bars: SESH's low 47 stays above 45.5, SELG's low 99 reaches 99 (sell 5 at 99, its end);
    // then the 06-11 open of SEGP (108) gaps through 105: 10 at 108, stamped at the clock, 09:30 ET
    expect(await step(run.run_id)).toEqual([
      [sellStop.order_id, 'sell', 5, 99, 'stop', '2025-06-10T20:00:00.000Z'],
      [buy.order_id, 'buy', 10, 108, 'stop', '2025-06-11T13:30:00.000Z'],
    ]);
    // the 06-11 SESH bar's low 45 reaches 45.5 inside: short 20 at 45.50
    expect(await step(run.run_id)).toEqual([[short.order_id, 'short', 20, 45.5, 'stop', '2025-06-11T20:00:00.000Z']]);
    // cash 10,000 − 500 + 495 − 1,080 + 910 = 9,825
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    expect(p.cash).toBe(9_825);
    expect(p.positions.map((x: any) => [x.symbol, x.quantity])).toEqual([['SEGP', 10], ['SESH', -20]]);
    await ok(runs, 'end_run', { run_id: run.run_id });
    await expectReplayed(run.run_id, 4);
  });

  it('stop-limit 105 / 106: the 108 gap is over the limit, so it rests as a limit (triggered at the open); its limit moved to 105.50 fills when the 06-12 low reaches 105', async () => {
    const { m, run } = await dayReplay('Stop-limit', ['SEGP']);
    const o = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEGP', quantity: 10, order_type: 'stop_limit', stop_price: 105, limit_price: 106 });
    expect(o).toMatchObject({ status: 'open', order_type: 'stop_limit', stop_price: 105, limit_price: 106 });
    expect(await step(run.run_id)).toEqual([]);
    expect(await orderRow(run.run_id, o.order_id)).toMatchObject({ status: 'open', triggered_at: '2025-06-11T13:30:00.000Z' });
    // its stop traded: stop_price can no longer change; the limit can
    expect(await call(trade, 'modify_order', { order_id: o.order_id, stop_price: 110 })).toMatchObject({
      isError: true,
      text: `stop_price can no longer change: order ${o.order_id}'s stop traded at 2025-06-11T13:30:00.000Z and it rests as a limit (change limit_price); nothing was changed.`,
    });
    expect(await step(run.run_id)).toEqual([]); // the 06-11 bar: low 107 > 106
    // at the 06-12 open (107) the resting limit moves down to 105.50: not marketable, it rests as the stop-limit it is
    const moved = await ok(trade, 'modify_order', { order_id: o.order_id, limit_price: 105.5 });
    expect(moved).toMatchObject({ modified: true, order: { status: 'open', order_type: 'stop_limit', stop_price: 105, limit_price: 105.5, triggered_at: '2025-06-11T13:30:00.000Z' } });
    // the 06-12 bar's low 105 reaches 105.50: 10 at 105.50, at its end; cash 10,000 − 1,055 = 8,945
    expect(await step(run.run_id)).toEqual([[o.order_id, 'buy', 10, 105.5, 'limit', '2025-06-12T20:00:00.000Z']]);
    expect((await ok(trade, 'get_portfolio', { run_id: run.run_id })).cash).toBe(8_945);
    await ok(runs, 'end_run', { run_id: run.run_id });
    await expectReplayed(run.run_id, 1);
  });

  it('require_approval: a stop-limit 105 / 105.05 waits for a person at its estimate (10 × 105.05), rests once approved, and fills at the stop plus 10 bps bounded by its limit: 105.05', async () => {
    const { m, run } = await dayReplay('Stop-limit approved', ['SEBU'], { require_approval: true, slippage_bps: 10 });
    const o = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 10, order_type: 'stop_limit', stop_price: 105, limit_price: 105.05 });
    expect(o).toMatchObject({ status: 'pending_approval', pending: { notional: 1_050.5, risk_to_stop: null } });
    expect(await ok(approver, 'approve_order', { order_id: o.order_id })).toMatchObject({ status: 'open', stop_price: 105, limit_price: 105.05 });
    expect(await step(run.run_id)).toEqual([]);
    // 105 + 0.105 = 105.105 is above the 105.05 limit: filled at the limit (slippage 0.05), at the 06-11 bar's end
    expect(await step(run.run_id)).toEqual([[o.order_id, 'buy', 10, 105.05, 'stop_limit', '2025-06-11T20:00:00.000Z']]);
    expect((await orderRow(run.run_id, o.order_id)).fill).toMatchObject({ price: 105.05, slippage: 0.05 });
    await ok(runs, 'end_run', { run_id: run.run_id });
    await expectReplayed(run.run_id, 1);
  });

  it('the gates judge the fill again when it triggers: the cash went to another buy in between, so the stop is refused then and nothing fills', async () => {
    const { m, run } = await dayReplay('Stop refused at its trigger', ['SEBU', 'SELG']);
    const o = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 50, order_type: 'stop', stop_price: 105 }); // $5,250 ≤ $10,000
    expect(o.status).toBe('open');
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SELG', quantity: 50 })).status).toBe('filled'); // cash 5,000
    await step(run.run_id);
    const s = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(s.exits_triggered).toEqual([]);
    expect(s.orders_refused).toHaveLength(1);
    expect(s.orders_refused[0]).toMatchObject({ order_id: o.order_id, time: '2025-06-11T20:00:00.000Z' });
    expect(s.orders_refused[0].reason).toBe(
      'Stop $105.00 traded in the bar at 2025-06-11T13:30:00.000Z but refused then: Insufficient buying power: buying 50 SEBU at $105.00 (stop) costs $5,250.00 plus $0.00 commission, but buying power is $5,000.00.',
    );
    expect(await orderRow(run.run_id, o.order_id)).toMatchObject({ status: 'rejected', triggered_at: '2025-06-11T20:00:00.000Z' });
    expect((await ok(trade, 'get_portfolio', { run_id: run.run_id })).cash).toBe(5_000);
    await ok(runs, 'end_run', { run_id: run.run_id });
    await expectReplayed(run.run_id, 1);
  });
});

describe('modify_order on a stop entry', () => {
  it('stop_price moves (re-checked: the near side is refused and the order stays), quantity down, limit_price refused on a stop; the moved stop 103 fills inside the 06-11 bar', async () => {
    const { m, run } = await dayReplay('Modify a stop', ['SEBU']);
    const o = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 10, order_type: 'stop', stop_price: 105 });
    const near = await ok(trade, 'modify_order', { order_id: o.order_id, stop_price: 99.5 });
    expect(near).toMatchObject({ modified: false, order: { stop_price: 105, quantity: 10, status: 'open' } });
    expect(near.rejections.map((r: any) => r.message)).toEqual([
      "stop_price $99.50 must be above SEBU's price now, $100.00, for a buy stop (it triggers when a bar trades at or above it; a lower price is a limit order).",
    ]);
    expect(await call(trade, 'modify_order', { order_id: o.order_id, limit_price: 104 })).toMatchObject({
      isError: true,
      text: `limit_price is for limit and stop_limit orders; order ${o.order_id} is a stop order (change stop_price); nothing was changed.`,
    });
    const moved = await ok(trade, 'modify_order', { order_id: o.order_id, stop_price: 103, quantity: 8, reasoning: 'closer' });
    expect(moved).toMatchObject({ modified: true, order: { status: 'open', stop_price: 103, quantity: 8 } });
    expect(moved.order.changes.map((c: any) => [c.before, c.after, c.reasoning])).toEqual([
      [{ limit_price: null, stop_price: 105, quantity: 10 }, { limit_price: null, stop_price: 103, quantity: 8 }, 'closer'],
    ]);
    // a limit order has no stop to move
    const lim = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SEBU', quantity: 1, order_type: 'limit', limit_price: 90 });
    expect((await call(trade, 'modify_order', { order_id: lim.order_id, stop_price: 95 })).text).toBe(
      `stop_price is for stop and stop_limit orders; order ${lim.order_id} is a limit order; nothing was changed.`,
    );
    await ok(trade, 'cancel_order', { order_id: lim.order_id });
    expect(await step(run.run_id)).toEqual([]); // 06-10: high 102 < 103
    expect(await step(run.run_id)).toEqual([[o.order_id, 'buy', 8, 103, 'stop', '2025-06-11T20:00:00.000Z']]);
    expect((await ok(trade, 'get_portfolio', { run_id: run.run_id })).cash).toBe(9_176); // 10,000 − 8 × 103
    await ok(runs, 'end_run', { run_id: run.run_id });
    await expectReplayed(run.run_id, 1);
  });
});
