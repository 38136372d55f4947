// Issue 18 (position management) through real MCP clients, on both databases: close_position
// and halt_trading's flatten (risk off while halted or reducing), the cash reserve that does
// not count a short's proceeds, and the counterfactual replay of a close. Every expected fill
// is computed by hand below from the made-up bars (slippage moves the price against the
// trader by bps of the market, rounded half up to $0.0001; commission per share in cents;
// fills.ts / ledger.ts conventions).
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../shared/auth/keys.js';
import { importDayBars, type DayBars } from '../../test/csv-bars.js';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { expectReplayed as replayIdentity } from '../../test/replay-identity.js';

let t: TestSuite;
let trade: Client, runs: Client, rules: Client, analyst: Client;
let approver: Client, reader: Client;
let userId: number;

// Made-up daily bars [date, open, high, low, close] of symbols no other test touches.
const CSV_BARS: DayBars = {
  PMLG: [
    ['2025-06-10', 100, 102, 99, 101],
    ['2025-06-11', 104, 106, 103, 105],
    ['2025-06-12', 107, 108, 106, 107],
  ],
  PMSH: [
    ['2025-06-10', 50, 51, 49, 50],
    ['2025-06-11', 48, 49, 47, 48],
    ['2025-06-12', 46, 47, 45, 46],
  ],
  // two targets: 105 touched inside the 06-11 bar, 110 inside the 06-12 bar
  PMTG: [
    ['2025-06-10', 100, 101, 99, 100],
    ['2025-06-11', 101, 106, 100, 105],
    ['2025-06-12', 105, 111, 104, 110],
    ['2025-06-13', 110, 111, 109, 110],
  ],
  // first target 105 on 06-11, then back through the breakeven stop (100) on 06-12
  PMBE: [
    ['2025-06-10', 100, 101, 99, 100],
    ['2025-06-11', 101, 106, 100, 104],
    ['2025-06-12', 103, 104, 99, 100],
    ['2025-06-13', 100, 101, 99, 100],
  ],
  // trailing: highs 104, 108, then a low of 101 on 06-12
  PMTR: [
    ['2025-06-10', 100, 104, 99, 103],
    ['2025-06-11', 103, 108, 102, 107],
    ['2025-06-12', 106, 106, 101, 102],
    ['2025-06-13', 102, 103, 101, 102],
  ],
  // gaps from 100 to 112 on 06-11: through both targets at the open
  PMGP: [
    ['2025-06-10', 100, 101, 99, 100],
    ['2025-06-11', 112, 113, 111, 112],
    ['2025-06-12', 112, 113, 111, 112],
    ['2025-06-13', 112, 113, 111, 112],
  ],
};

beforeAll(async () => {
  t = await bootSuite();
  await importDayBars(t, 'positions.csv', CSV_BARS);
  const { key, name } = await t.user();
  const [u] = await t.suite.deps.sql`select id from users where name = ${name}`;
  userId = u!.id;
  [trade, runs, rules, analyst] = await Promise.all(['trade', 'runs', 'rules', 'analyst'].map((s) => t.client(s as any, key)));
  approver = await t.client('trade', (await createKey(t.suite.deps.sql, name, ['read', 'approve'])).key);
  reader = await t.client('trade', (await createKey(t.suite.deps.sql, name, ['read'])).key);
}, 120_000);
afterAll(() => t?.close());

async function dayReplay(name: string, settings: Record<string, unknown> = {}, symbols = ['PMLG', 'PMSH'], end = '2025-06-12') {
  const m = await ok(runs, 'create_model', { name, initial_cash: 10_000, allow_short: true, max_orders_per_minute: 10_000, ...settings });
  const run = await ok(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end, symbols });
  return { m, run };
}

const exitsOf = async (runId: number, symbol: string) => (await ok(trade, 'get_portfolio', { run_id: runId })).positions.find((p: any) => p.symbol === symbol)?.exits;
const step = async (runId: number) => (await ok(runs, 'advance_run', { run_id: runId })).exits_triggered.map((e: any) => [e.side, e.quantity, e.price, e.trigger, e.time]);
/** level − price and its fraction of the price, as get_portfolio rounds them (6 dp). */
const lvl = (level: number, price: number) => ({ price: level, distance: Math.round((level - price) * 10_000) / 10_000, distance_pct: Math.round(((level - price) / price) * 1e6) / 1e6 });

/** buy 20 PMLG and short 30 PMSH at the 06-10 open, then one step to the 06-11 open (104 and 48). */
async function longAndShort(name: string, settings: Record<string, unknown> = {}) {
  const { m, run } = await dayReplay(name, settings);
  expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMLG', quantity: 20 })).status).toBe('filled');
  expect((await ok(trade, 'short', { model_id: m.model_id, symbol: 'PMSH', quantity: 30 })).status).toBe('filled');
  await ok(runs, 'advance_run', { run_id: run.run_id });
  return { m, run };
}

describe('close_position: risk off while halted or reducing', () => {
  it('halted: sell is refused, close_position sells the long and covers the short at market with slippage and commission, by hand', async () => {
    // $0.01/share, 10 bps. 06-10: buy 20 at 100 + 0.10 = 100.10, fee 0.20 → cash −2,002.20;
    // short 30 at 50 − 0.05 = 49.95, fee 0.30 → cash +1,498.50 − 0.30. Cash 9,496.00.
    const { m, run } = await longAndShort('Close while halted', { commission_per_share: 0.01, slippage_bps: 10 });
    expect((await ok(trade, 'get_portfolio', { run_id: run.run_id })).cash).toBe(9_496);
    await ok(trade, 'halt_trading', { model_id: m.model_id, reason: 'news: stop everything' });
    const sell = await ok(trade, 'sell', { model_id: m.model_id, symbol: 'PMLG', quantity: 20 });
    expect(sell.rejections.map((r: any) => r.code)).toEqual(['MODEL_HALTED']);

    const one = await ok(trade, 'close_position', { model_id: m.model_id, symbol: 'PMLG', reasoning: 'take the long off' });
    // sell 20 at 104 − 0.104 = 103.896: notional 2,077.92, fee 0.20; cash 9,496.00 + 2,077.72
    expect(one.orders).toHaveLength(1);
    expect(one.orders[0]).toMatchObject({ status: 'filled', side: 'sell', quantity: 20, fill_price: 103.896, commission: 0.2, slippage: 0.104, portfolio_after: { cash: 11_573.72, position_quantity: 0 } });

    const rest = await ok(trade, 'close_position', { model_id: m.model_id, all: true });
    // cover 30 at 48 + 0.048 = 48.048: notional 1,441.44, fee 0.30; cash 11,573.72 − 1,441.74
    expect(rest.orders.map((o: any) => [o.side, o.symbol, o.quantity, o.fill_price, o.commission])).toEqual([['cover', 'PMSH', 30, 48.048, 0.3]]);
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    // realized: long 2,077.92 − 2,002.00 − 0.20 = 75.72; short 1,498.50 − 1,441.44 − 0.30 = 56.76;
    // the opening fees −0.50: 131.98 = cash − 10,000
    expect(p).toMatchObject({ cash: 10_131.98, positions: [], realized_pnl: 131.98, state: 'halted' });
    // the agent's own orders, with the reasoning logged
    const { orders } = await ok(trade, 'list_orders', { run_id: run.run_id });
    expect(orders.filter((o: any) => o.status === 'filled').map((o: any) => [o.side, o.source])).toEqual([['buy', 'agent'], ['short', 'agent'], ['sell', 'agent'], ['cover', 'agent']]);
    expect(orders.find((o: any) => o.order_id === one.orders[0].order_id).reasoning).toBe('take the long off');
    const log = await ok(runs, 'get_reasoning', { run_id: run.run_id });
    expect(log.entries.map((e: any) => e.content)).toContain('take the long off');
    // still halted: a buy is refused, and nothing is left to close
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMLG', quantity: 1 })).rejections.map((r: any) => r.code)).toEqual(['MODEL_HALTED']);
    expect((await ok(trade, 'close_position', { model_id: m.model_id, all: true })).orders).toEqual([]);
  });

  it('bad input: no position, both or neither of symbol and all: one sentence, nothing written', async () => {
    const { m } = await dayReplay('Close bad input');
    const before = await t.suite.deps.sql`select count(*)::int as n from orders where model_id = ${m.model_id}`;
    expect(await call(trade, 'close_position', { model_id: m.model_id, symbol: 'PMLG' })).toMatchObject({
      isError: true,
      text: `Model ${m.model_id} holds no PMLG position; nothing was closed.`,
    });
    const both = await call(trade, 'close_position', { model_id: m.model_id, symbol: 'PMLG', all: true });
    expect(both).toMatchObject({ isError: true, text: 'Give exactly one of symbol (one position) or all: true (every position); nothing was closed.' });
    expect((await call(trade, 'close_position', { model_id: m.model_id })).isError).toBe(true);
    const after = await t.suite.deps.sql`select count(*)::int as n from orders where model_id = ${m.model_id}`;
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('scope: an approve key (no trade) closes; a read key is refused naming the scope', async () => {
    const { m, run } = await longAndShort('Close by approver');
    const denied = await call(reader, 'close_position', { model_id: m.model_id, all: true });
    expect(denied.isError).toBe(true);
    expect(denied.text).toMatch(/trade|approve/);
    const r = await ok(approver, 'close_position', { model_id: m.model_id, symbol: 'PMSH' });
    // no slippage or commission: cover 30 at the 06-11 open 48; realized (50 − 48) × 30 = 60
    expect(r.orders[0]).toMatchObject({ status: 'filled', side: 'cover', quantity: 30, fill_price: 48 });
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    expect(p.positions.map((x: any) => [x.symbol, x.quantity])).toEqual([['PMLG', 20]]);
    expect(p.realized_pnl).toBe(60);
  });

  it('require_approval: close_position does not wait for a person', async () => {
    const { m } = await dayReplay('Close with approval', { require_approval: true });
    const buy = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMLG', quantity: 5 });
    expect(buy.status).toBe('pending_approval');
    await ok(approver, 'approve_order', { order_id: buy.order_id });
    const r = await ok(trade, 'close_position', { model_id: m.model_id, symbol: 'PMLG' });
    expect(r.orders[0]).toMatchObject({ status: 'filled', side: 'sell', quantity: 5, fill_price: 100 });
  });
});

describe('halt_trading flatten: true', () => {
  it('halts, then closes every position, in that order, and lists the closing orders', async () => {
    const { m, run } = await longAndShort('Flatten');
    const r = await ok(trade, 'halt_trading', { model_id: m.model_id, reason: 'kill switch', flatten: true });
    expect(r).toMatchObject({ state: 'halted', previous_state: 'active', reason: 'kill switch' });
    // at the 06-11 open, no slippage: sell 20 PMLG at 104 (+80), cover 30 PMSH at 48 (+60)
    expect(r.closing_orders.map((o: any) => [o.side, o.symbol, o.quantity, o.fill_price, o.status])).toEqual([
      ['sell', 'PMLG', 20, 104, 'filled'],
      ['cover', 'PMSH', 30, 48, 'filled'],
    ]);
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    expect(p).toMatchObject({ cash: 10_140, positions: [], realized_pnl: 140, state: 'halted' });
    // halted first: the state change is recorded before the closing orders were placed
    const [halt] = await t.suite.deps.sql`select max(created_at) as at from model_state_events where model_id = ${m.model_id} and state = 'halted'`;
    const [first] = await t.suite.deps.sql`select min(created_at) as at from orders where id = ${r.closing_orders[0].order_id}`;
    expect(new Date(halt!.at).getTime()).toBeLessThanOrEqual(new Date(first!.at).getTime());
  });

  it('reducing with flatten closes too; without flatten no closing_orders', async () => {
    const { m } = await longAndShort('Flatten reducing');
    const plain = await ok(trade, 'halt_trading', { model_id: m.model_id, reason: 'slow down', mode: 'reducing' });
    expect(plain.closing_orders).toBeUndefined();
    const r = await ok(trade, 'halt_trading', { model_id: m.model_id, reason: 'slow down', mode: 'reducing', flatten: true });
    expect(r.state).toBe('reducing');
    expect(r.closing_orders.map((o: any) => o.status)).toEqual(['filled', 'filled']);
  });
});

describe('min_cash_reserve_pct does not count a short\'s proceeds (the seed\'s formula: cash − amount × price)', () => {
  it('cash $5,500 with a 50% reserve on $10,000: short $2,000 is refused, short $500 (exactly at the reserve) passes', async () => {
    const { m } = await dayReplay('Reserve and shorts');
    await ok(rules, 'create_rule', { model_id: m.model_id, rule_name: 'Keep half in cash', rule_category: 'risk', rule_description: 'reserve', enforcement_params: { min_cash_reserve_pct: 0.5 } });
    // buy 45 at 100: cash 5,500, value 10,000 (cash after 5,500 ≥ 5,000)
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMLG', quantity: 45 })).status).toBe('filled');
    const big = await ok(trade, 'short', { model_id: m.model_id, symbol: 'PMSH', quantity: 40 }); // 40 × 50 = 2,000
    expect(big.status).toBe('rejected');
    expect(big.rejections.map((r: any) => r.message)).toEqual([
      "Rule 'Keep half in cash': cash after the order would be $3,500.00 = 35% of $10,000.00 portfolio (must keep at least 50% = $5,000.00)",
    ]);
    const fits = await ok(trade, 'short', { model_id: m.model_id, symbol: 'PMSH', quantity: 10 }); // 5,500 − 500 = 5,000
    expect(fits.status).toBe('filled');
  });
});

const expectReplayed = (runId: number, fills: number, withoutRules = 0) => replayIdentity(t, analyst, userId, runId, fills, withoutRules);

describe('one engine: the counterfactual replays close_position', () => {
  it('a run with a halt and close_position replayed under its frozen rules reproduces its fills, cash and orders', async () => {
    const { m, run } = await longAndShort('Replay a close', { commission_per_share: 0.01, slippage_bps: 10 });
    await ok(trade, 'halt_trading', { model_id: m.model_id, reason: 'pause' });
    await ok(trade, 'close_position', { model_id: m.model_id, symbol: 'PMSH' });
    await ok(approver, 'resume_trading', { model_id: m.model_id });
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMLG', quantity: 5 })).status).toBe('filled');
    await ok(runs, 'advance_run', { run_id: run.run_id });
    await ok(trade, 'halt_trading', { model_id: m.model_id, reason: 'done', flatten: true });
    await ok(runs, 'end_run', { run_id: run.run_id });
    await expectReplayed(run.run_id, 5); // buy, short, cover (close), buy, then the flatten's sell of 25
  });
});

describe('brackets with two targets, breakeven and a per-order trailing stop (on the clock, bars by hand)', () => {
  it('buy 20 at 100, stop 97, targets 105 and 110, half at the first, breakeven: 10 at 105 on 06-11, the stop moves to 100, 10 at 110 on 06-12', async () => {
    const { m, run } = await dayReplay('Two targets', {}, ['PMTG'], '2025-06-13');
    const buy = await ok(trade, 'buy', {
      model_id: m.model_id, symbol: 'PMTG', quantity: 20, stop_loss: 97, take_profit: 105, take_profit_2: 110, first_target_fraction: 0.5, breakeven_after_first_target: true,
    });
    expect(buy).toMatchObject({ status: 'filled', fill_price: 100 });
    expect(await exitsOf(run.run_id, 'PMTG')).toEqual({
      stop_loss: lvl(97, 100), take_profit: lvl(105, 100), take_profit_2: lvl(110, 100),
      first_target_fraction: 0.5, first_target_filled: false, breakeven_after_first_target: true, trailing_stop: null,
    });
    expect(await step(run.run_id)).toEqual([]); // the 06-10 bar: 99..101
    // the 06-11 bar's high 106 reaches 105 inside: 20 × 0.5 = 10 shares at 105, stamped at its end (16:00 ET)
    expect(await step(run.run_id)).toEqual([['sell', 10, 105, 'take_profit', '2025-06-11T20:00:00.000Z']]);
    const after = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    expect(after.positions[0]).toMatchObject({ symbol: 'PMTG', quantity: 10, price: 105 });
    expect(after.positions[0].exits).toEqual({
      stop_loss: lvl(100, 105), take_profit: null, take_profit_2: lvl(110, 105),
      first_target_fraction: 0.5, first_target_filled: true, breakeven_after_first_target: true, trailing_stop: null,
    });
    // the 06-12 bar's high 111 reaches 110: the other 10
    expect(await step(run.run_id)).toEqual([['sell', 10, 110, 'take_profit_2', '2025-06-12T20:00:00.000Z']]);
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    // cash 10,000 − 2,000 + 10 × 105 + 10 × 110 = 10,150; realized 10 × 5 + 10 × 10 = 150
    expect(p).toMatchObject({ cash: 10_150, positions: [], realized_pnl: 150 });
  });

  it('breakeven: 15 shares, half rounds down to 7 at 105; the rest 8 exit at the 100 average entry when the 06-12 low is 99', async () => {
    const { m, run } = await dayReplay('Breakeven', {}, ['PMBE'], '2025-06-13');
    await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMBE', quantity: 15, stop_loss: 95, take_profit: 105, first_target_fraction: 0.5, breakeven_after_first_target: true });
    await step(run.run_id);
    expect(await step(run.run_id)).toEqual([['sell', 7, 105, 'take_profit', '2025-06-11T20:00:00.000Z']]);
    expect(await step(run.run_id)).toEqual([['sell', 8, 100, 'stop_loss', '2025-06-12T20:00:00.000Z']]);
    // realized 7 × (105 − 100) + 8 × 0 = 35
    expect(await ok(trade, 'get_portfolio', { run_id: run.run_id })).toMatchObject({ cash: 10_035, realized_pnl: 35, positions: [] });
  });

  it('trailing_stop_pct 0.05 on the order: the mark rises to 108, the level to 102.60, and the 06-12 low 101 takes it out at 102.60', async () => {
    const { m, run } = await dayReplay('Trailing', {}, ['PMTR'], '2025-06-13');
    await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMTR', quantity: 10, trailing_stop_pct: 0.05 });
    // at the fill: mark = the 100 average cost, level 100 × 0.95 = 95
    expect((await exitsOf(run.run_id, 'PMTR')).trailing_stop).toEqual({ ...lvl(95, 100), pct: 0.05, water_mark: 100 });
    expect(await step(run.run_id)).toEqual([]); // 06-10: low 99 > 95; high water 104
    expect(await step(run.run_id)).toEqual([]); // 06-11: level 104 × 0.95 = 98.80, low 102; high water 108
    // at 06-12 09:30 the price is the 106 open: level 108 × 0.95 = 102.60
    expect((await exitsOf(run.run_id, 'PMTR')).trailing_stop).toEqual({ ...lvl(102.6, 106), pct: 0.05, water_mark: 108 });
    expect(await step(run.run_id)).toEqual([['sell', 10, 102.6, 'trailing_stop', '2025-06-12T20:00:00.000Z']]);
    expect(await ok(trade, 'get_portfolio', { run_id: run.run_id })).toMatchObject({ cash: 10_026, realized_pnl: 26 }); // 10 × 2.60
  });

  it('a gap through both targets fills both at the open (112), stamped at the clock', async () => {
    const { m, run } = await dayReplay('Gap both', {}, ['PMGP'], '2025-06-13');
    await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMGP', quantity: 20, take_profit: 105, take_profit_2: 110 }); // half by default with a second target
    expect(await step(run.run_id)).toEqual([
      ['sell', 10, 112, 'take_profit', '2025-06-11T13:30:00.000Z'],
      ['sell', 10, 112, 'take_profit_2', '2025-06-11T13:30:00.000Z'],
    ]);
    expect(await ok(trade, 'get_portfolio', { run_id: run.run_id })).toMatchObject({ cash: 10_240, positions: [] }); // 20 × 12
  });

  it('bad input: a second target nearer than the first, a fraction outside (0, 1), a bracket on a sell: one sentence, nothing placed', async () => {
    const { m } = await dayReplay('Bracket bad input', {}, ['PMTG']);
    const count = async () => (await t.suite.deps.sql`select count(*)::int as n from orders where model_id = ${m.model_id}`)[0]!.n;
    const near = await call(trade, 'buy', { model_id: m.model_id, symbol: 'PMTG', quantity: 10, take_profit: 105, take_profit_2: 104 });
    expect(near).toMatchObject({ isError: true, text: 'take_profit_2 $104.00 must be above take_profit $105.00 for a long (the second target is the farther one); nothing was placed.' });
    const frac = await call(trade, 'buy', { model_id: m.model_id, symbol: 'PMTG', quantity: 10, take_profit: 105, first_target_fraction: 1.5 });
    expect(frac.isError).toBe(true);
    expect(frac.text).toContain('first_target_fraction must be between 0 and 1, both excluded');
    const alone = await call(trade, 'buy', { model_id: m.model_id, symbol: 'PMTG', quantity: 10, take_profit_2: 110 });
    expect(alone).toMatchObject({ isError: true, text: 'take_profit_2 needs take_profit (the first target); nothing was placed.' });
    expect((await call(trade, 'sell', { model_id: m.model_id, symbol: 'PMTG', quantity: 1, trailing_stop_pct: 0.05 })).isError).toBe(true);
    expect(await count()).toBe(0);
  });
});

describe('set_exits: move the exits of a held position', () => {
  it('sets a stop and a trailing stop, refuses a stop above the price and a lone second target, removes with null; the moved stop fires on the clock', async () => {
    const { m, run } = await dayReplay('Set exits', {}, ['PMBE'], '2025-06-13');
    await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMBE', quantity: 10 });
    expect(await exitsOf(run.run_id, 'PMBE')).toBeUndefined();
    const set = await ok(trade, 'set_exits', { model_id: m.model_id, symbol: 'PMBE', stop_loss: 96, trailing_stop_pct: 0.1 });
    expect(set).toMatchObject({ symbol: 'PMBE', quantity: 10, avg_cost: 100, price: 100 });
    expect(set.exits).toMatchObject({ stop_loss: lvl(96, 100), trailing_stop: { ...lvl(90, 100), pct: 0.1, water_mark: 100 } });
    const wrong = await call(trade, 'set_exits', { model_id: m.model_id, symbol: 'PMBE', stop_loss: 101 });
    expect(wrong).toMatchObject({ isError: true, text: 'stop_loss $101.00 must be below the price now $100.00 for a long PMBE (a price in dollars, not a fraction). Nothing was changed.' });
    const lone = await call(trade, 'set_exits', { model_id: m.model_id, symbol: 'PMBE', take_profit_2: 120 });
    expect(lone).toMatchObject({ isError: true, text: 'take_profit_2 needs take_profit (the first target). Nothing was changed.' });
    expect((await exitsOf(run.run_id, 'PMBE')).stop_loss).toEqual(lvl(96, 100)); // unchanged
    expect((await call(trade, 'set_exits', { model_id: m.model_id, symbol: 'PMBE' })).isError).toBe(true);
    expect((await call(trade, 'set_exits', { model_id: m.model_id, symbol: 'PMLG', stop_loss: 90 })).text).toBe(`Model ${m.model_id} holds no PMLG position; nothing was changed.`);
    const removed = await ok(trade, 'set_exits', { model_id: m.model_id, symbol: 'PMBE', trailing_stop_pct: null });
    expect(removed.exits.trailing_stop).toBeNull();
    await step(run.run_id); // 06-10: low 99, above 96
    // at 06-11 09:30 (price 101): move the stop up to 100; the 06-12 bar's low 99 takes it
    await ok(trade, 'set_exits', { model_id: m.model_id, symbol: 'PMBE', stop_loss: 100 });
    // the 06-11 bar's low 100 reaches it (at or through): 10 at 100, stamped at the bar's end
    expect(await step(run.run_id)).toEqual([['sell', 10, 100, 'stop_loss', '2025-06-11T20:00:00.000Z']]);
    await ok(runs, 'end_run', { run_id: run.run_id });
    await expectReplayed(run.run_id, 2);
  });
});

describe('modify_order: change a resting order in place', () => {
  it('down-only quantity, a new limit with its history, a refusal that leaves it as it was, a fill at the new limit, a marketable change that fills now', async () => {
    const { m, run } = await dayReplay('Modify', {}, ['PMLG']);
    const resting = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMLG', quantity: 10, order_type: 'limit', limit_price: 95 });
    expect(resting.status).toBe('open');
    const up = await call(trade, 'modify_order', { order_id: resting.order_id, quantity: 10 });
    expect(up).toMatchObject({ isError: true, text: "quantity must be between 1 and 9 (down only from the order's 10 shares); nothing was changed." });
    const r = await ok(trade, 'modify_order', { order_id: resting.order_id, limit_price: 99.5, quantity: 6, reasoning: 'closer to the market' });
    expect(r).toMatchObject({ modified: true, rejections: [], order: { order_id: resting.order_id, status: 'open', quantity: 6, limit_price: 99.5 } });
    expect(r.order.changes).toHaveLength(1);
    expect(r.order.changes[0]).toMatchObject({
      clock: '2025-06-10T13:30:00.000Z', before: { limit_price: 95, quantity: 10 }, after: { limit_price: 99.5, quantity: 6 }, reasoning: 'closer to the market',
    });
    // halted: the change is refused and the order stays as it was
    await ok(trade, 'halt_trading', { model_id: m.model_id, reason: 'pause' });
    const refused = await ok(trade, 'modify_order', { order_id: resting.order_id, limit_price: 98 });
    expect(refused).toMatchObject({ modified: false, order: { quantity: 6, limit_price: 99.5, status: 'open' } });
    expect(refused.rejections.map((x: any) => x.code)).toEqual(['MODEL_HALTED']);
    await ok(approver, 'resume_trading', { model_id: m.model_id });
    // the 06-10 bar's low 99 reaches 99.50: 6 at 99.50, stamped at the bar's end
    const s = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(s.exits_triggered.map((e: any) => [e.order_id, e.side, e.quantity, e.price, e.time])).toEqual([[resting.order_id, 'buy', 6, 99.5, '2025-06-10T20:00:00.000Z']]);
    expect(await call(trade, 'modify_order', { order_id: resting.order_id, limit_price: 90 })).toMatchObject({
      isError: true, text: `Order ${resting.order_id} is filled; only an open (resting) order can be modified; nothing was changed.`,
    });
    // at the 06-11 open (104): a resting 90 moved to 105 is marketable and fills at the market
    const low = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMLG', quantity: 5, order_type: 'limit', limit_price: 90 });
    const now = await ok(trade, 'modify_order', { order_id: low.order_id, limit_price: 105 });
    expect(now).toMatchObject({ modified: true, order: { status: 'filled', quantity: 5, limit_price: 105, fill: { price: 104 } } });
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    // 6 × 99.50 + 5 × 104 = 597 + 520 = 1,117; cash 8,883
    expect(p).toMatchObject({ cash: 8_883, positions: [expect.objectContaining({ symbol: 'PMLG', quantity: 11 })] });
    await ok(runs, 'end_run', { run_id: run.run_id });
    await expectReplayed(run.run_id, 2);
  });
});

describe("risk_per_trade_pct measures to the order's own stop", () => {
  it('1% of $10,000 = $100: 20 × (100 − 95) fills, 21 × 5 = $105 is refused, an order without any stop is refused with a sentence', async () => {
    const { m } = await dayReplay('Risk to the stop', {}, ['PMLG']);
    await ok(rules, 'create_rule', { model_id: m.model_id, rule_name: 'Risk 1%', rule_category: 'position_sizing', rule_description: 'risk', enforcement_params: { risk_per_trade_pct: 0.01 } });
    const over = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMLG', quantity: 21, stop_loss: 95 });
    expect(over.rejections.map((r: any) => r.message)).toEqual([
      "Rule 'Risk 1%': risk to the order's stop_loss $95.00 would be 21 × $5.00 = $105.00 = 1.05% of $10,000.00 portfolio (limit 1% = $100.00)",
    ]);
    const none = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMLG', quantity: 1 });
    expect(none.rejections.map((r: any) => r.message)).toEqual([
      "Rule 'Risk 1%': an opening order needs a stop to measure its risk (limit 1% of the portfolio per trade): give the order a stop_loss, or add a stop_loss rule with stop_loss_pct",
    ]);
    expect(over).not.toHaveProperty('stop_loss'); // refused: no bracket was accepted
    // the answer echoes the bracket it accepted, in structuredContent and in its text
    const filled = await call(trade, 'buy', { model_id: m.model_id, symbol: 'PMLG', quantity: 20, stop_loss: 95 });
    expect(filled.data).toMatchObject({ status: 'filled', fill_price: 100, stop_loss: 95 });
    expect(filled.data).not.toHaveProperty('take_profit');
    expect(filled.text).toContain('Attached: stop_loss $95.');
  });
});

describe('approval: the pending order states its notional, its risk to the stop and its expiry', () => {
  it('approval_expiry_minutes 30; buy 20 at 100 with stop 95: notional $2,000, risk 20 × 5 = $100 = 1% of $10,000', async () => {
    const { m } = await dayReplay('Approval terms', { require_approval: true, approval_expiry_minutes: 30 }, ['PMLG']);
    expect(m.approval_expiry_minutes).toBe(30);
    const before = Date.now();
    const r = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'PMLG', quantity: 20, stop_loss: 95 });
    expect(r.status).toBe('pending_approval');
    expect(r.pending).toMatchObject({ notional: 2_000, risk_to_stop: 100, risk_fraction_of_equity: 0.01 });
    const wait = Date.parse(r.pending.expires_at) - before;
    expect(wait).toBeGreaterThanOrEqual(30 * 60_000);
    expect(wait).toBeLessThan(31 * 60_000);
    const { orders } = await ok(trade, 'list_orders', { model_id: m.model_id });
    expect(orders[0].expires_at).toBe(r.pending.expires_at);
    const bad = await call(runs, 'update_model', { model_id: m.model_id, approval_expiry_minutes: 0 });
    expect(bad).toMatchObject({ isError: true });
    expect(bad.text).toContain('approval_expiry_minutes must be at least 1.');
  });
});
