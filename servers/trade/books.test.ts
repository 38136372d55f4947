// Issue 8 ("Honest books II") through real MCP clients, on both databases: start_run refusing
// an unserved symbol, refused orders leaving nothing behind, resting orders expiring with their
// run or refused when they trigger, buying power and margin_call, day P&L from the previous
// close, the daily loss limit across a halt and resume, exits on the finest bars in a minute
// replay, and trades counted on their bar's day. Every right value is computed by hand below.
//
// Real values: AI-Trader's AAPL and MSFT rows (test/ai-trader-quotes.ts), written as small
// AI-Trader files by this test and imported under the made-up tickers QAAPL and QMSFT: on the
// shared Postgres of test:services an imported symbol is served from its last imported file
// only, and other tests import made-up AAPL and MSFT bars for the same dates. The margin and
// order-book cases use made-up CSV bars of symbols no other test touches.
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCommand } from '../../shared/admin/commands.js';
import { notionalCents } from '../../shared/domain/money.js';
import { nyToUtc } from '../../shared/domain/ny-time.js';
import { aiTraderLine } from '../../test/ai-trader-fixture.js';
import { AAPL_DAY, AAPL_HOUR, MSFT_DAY, MSFT_HOUR, quoted } from '../../test/ai-trader-quotes.js';
import { importDayBars, type DayBars } from '../../test/csv-bars.js';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { priceServer } from '../price/server.js';
import { rulesServer } from '../rules/server.js';
import { runsServer } from '../runs/server.js';
import { tradeServer } from './server.js';

let t: TestSuite;
let trade: Client;
let runs: Client;
let rules: Client;

// Made-up daily bars [date, open, high, low, close]. BKSH gaps from 100 to 160 on the 11th;
// BKLG stays at 100; BKRS dips to 94 on the 10th (a resting limit at 95 is reached).
const CSV_BARS: DayBars = {
  BKSH: [
    ['2025-06-10', 100, 101, 99, 100],
    ['2025-06-11', 160, 162, 158, 160],
    ['2025-06-12', 160, 161, 159, 160],
  ],
  BKLG: [
    ['2025-06-10', 100, 100.5, 99.5, 100],
    ['2025-06-11', 100, 100.5, 99.5, 100],
    ['2025-06-12', 100, 100.5, 99.5, 100],
  ],
  BKRS: [
    ['2025-06-10', 100, 101, 94, 100],
    ['2025-06-11', 100, 101, 99, 100],
    ['2025-06-12', 100, 101, 99, 100],
  ],
};

const cents = (dollars: number) => Math.round(dollars * 100);
const dollars = (c: number) => c / 100;

beforeAll(async () => {
  t = await bootSuite({ specs: [tradeServer, runsServer, rulesServer, priceServer] });
  await importDayBars(t, 'books.csv', CSV_BARS);
  const daily = path.join(t.dataDir, 'quoted_daily.jsonl');
  const hourly = path.join(t.dataDir, 'quoted_hourly.jsonl');
  fs.writeFileSync(daily, [aiTraderLine('QAAPL', AAPL_DAY, 'Time Series (Daily)'), aiTraderLine('QMSFT', MSFT_DAY, 'Time Series (Daily)')].join('\n') + '\n');
  fs.writeFileSync(hourly, [aiTraderLine('QAAPL', AAPL_HOUR, 'Time Series (60min)'), aiTraderLine('QMSFT', MSFT_HOUR, 'Time Series (60min)')].join('\n') + '\n');
  await runAdminCommand(t.suite.deps, ['import-bars', daily, '--format', 'ai-trader']);
  await runAdminCommand(t.suite.deps, ['import-bars', hourly, '--format', 'ai-trader']);
  const { key } = await t.user();
  trade = await t.client('trade', key);
  runs = await t.client('runs', key);
  rules = await t.client('rules', key);
}, 120_000);
afterAll(() => t?.close());

async function model(name: string, settings: Record<string, unknown> = {}) {
  return ok(runs, 'create_model', { name, initial_cash: 10_000, commission_per_share: 0, slippage_bps: 0, max_orders_per_minute: 10_000, ...settings });
}

async function dayReplay(name: string, symbols: string[], start: string, end: string, settings: Record<string, unknown> = {}) {
  const m = await model(name, settings);
  const run = await ok(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'day', start, end, symbols });
  return { model: m, run };
}

async function rule(modelId: number, rule_name: string, rule_category: string, enforcement_params: Record<string, unknown>) {
  return ok(rules, 'create_rule', { model_id: modelId, rule_name, rule_category, rule_description: rule_name, enforcement_params });
}

async function counts(modelId: number) {
  const [r] = await t.suite.deps.sql`
    select (select count(*)::int from runs where model_id = ${modelId}) as runs,
           (select count(*)::int from orders where model_id = ${modelId}) as orders,
           (select count(*)::int from fills f join runs r on r.id = f.run_id where r.model_id = ${modelId}) as fills`;
  return r as { runs: number; orders: number; fills: number };
}

describe('nothing is left behind by a refusal', () => {
  it('start_run refuses a symbol no source serves (ZZZZ) with one sentence and starts nothing', async () => {
    const m = await model('Unserved');
    const r = await call(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-12', symbols: ['BKLG', 'ZZZZ'] });
    expect(r).toMatchObject({
      isError: true,
      text: 'Unknown symbol ZZZZ: no source serves it (no imported bars, no Polygon key or a ticker Polygon does not know, not a simulated symbol), so the run was not started; list_symbols shows what is available.',
    });
    expect(await counts(m.model_id)).toEqual({ runs: 0, orders: 0, fills: 0 });
  });

  it('an order refused while no run is running is stored without a run and starts no live run', async () => {
    const m = await model('No run');
    const unknown = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'ZZZZ', quantity: 1 });
    expect(unknown).toMatchObject({ status: 'rejected', run_id: null, started_run: false });
    expect(unknown.rejections.map((r: any) => r.code)).toContain('UNKNOWN_SYMBOL'); // and MARKET_CLOSED when the wall clock is outside a session
    const short = await ok(trade, 'short', { model_id: m.model_id, symbol: 'BKLG', quantity: 1 }); // allow_short is off
    expect(short).toMatchObject({ status: 'rejected', run_id: null, started_run: false });
    expect(short.rejections.map((r: any) => r.code)).toContain('SHORT_NOT_ALLOWED');
    expect(await counts(m.model_id)).toEqual({ runs: 0, orders: 2, fills: 0 });
    const [acct] = await t.suite.deps.sql`select count(*)::int as n from positions p join runs r on r.id = p.run_id where r.model_id = ${m.model_id}`;
    expect(acct!.n).toBe(0);
    expect((await ok(runs, 'list_runs', { model_id: m.model_id })).runs).toEqual([]);
  });
});

describe('resting orders end with their run, and a refusal when they trigger is reported', () => {
  it('end_run (stopped) expires a resting limit, with the reason', async () => {
    const { model: m, run } = await dayReplay('Expire at end_run', ['BKLG'], '2025-06-10', '2025-06-12');
    const resting = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'BKLG', quantity: 5, order_type: 'limit', limit_price: 50 });
    expect(resting.status).toBe('open');
    await ok(runs, 'end_run', { run_id: run.run_id, status: 'stopped' });
    const { orders } = await ok(trade, 'list_orders', { model_id: m.model_id });
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ order_id: resting.order_id, status: 'expired' });
    expect(orders[0].decision_note).toBe(`Run ${run.run_id} was stopped at 2025-06-10T13:30:00.000Z; resting orders end with their run.`);
  });

  it('completion expires a resting limit, with the reason', async () => {
    const { model: m, run } = await dayReplay('Expire at completion', ['BKLG'], '2025-06-10', '2025-06-11');
    // shares first, then a sell limit resting far above the market
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'BKLG', quantity: 2 })).status).toBe('filled');
    const limit = await ok(trade, 'sell', { model_id: m.model_id, symbol: 'BKLG', quantity: 2, order_type: 'limit', limit_price: 150 });
    expect(limit.status).toBe('open');
    await ok(runs, 'advance_run', { run_id: run.run_id }); // to the last step, 06-11
    const done = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(done).toMatchObject({ done: true, status: 'completed' });
    const { orders } = await ok(trade, 'list_orders', { model_id: m.model_id, status: 'expired' });
    expect(orders.map((o: any) => o.order_id)).toEqual([limit.order_id]);
    expect(orders[0].decision_note).toBe(`Run ${run.run_id} completed at 2025-06-11T13:30:00.000Z; resting orders end with their run.`);
  });

  it('a resting limit refused for buying power when the bar reaches it appears in advance_run\'s orders_refused', async () => {
    const { model: m, run } = await dayReplay('Refused on trigger', ['BKRS', 'BKLG'], '2025-06-10', '2025-06-12');
    // 60 × 95 = 5,700 fits the 10,000 now; the market buy of 50 × 100 = 5,000 then leaves 5,000
    const limit = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'BKRS', quantity: 60, order_type: 'limit', limit_price: 95 });
    expect(limit.status).toBe('open');
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'BKLG', quantity: 50 })).status).toBe('filled');
    const step = await ok(runs, 'advance_run', { run_id: run.run_id }); // the 06-10 bar's low 94 reaches 95
    expect(step.exits_triggered).toEqual([]);
    expect(step.orders_refused).toHaveLength(1);
    expect(step.orders_refused[0]).toMatchObject({ order_id: limit.order_id, symbol: 'BKRS', side: 'buy', quantity: 60 });
    expect(step.orders_refused[0].rejections.map((r: any) => r.code)).toEqual(['INSUFFICIENT_BUYING_POWER']);
    const { orders } = await ok(trade, 'list_orders', { model_id: m.model_id });
    expect(orders.find((o: any) => o.order_id === limit.order_id).status).toBe('rejected');
    // nothing moved: cash 10,000 − 5,000, the BKLG position only
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    expect(p.cash).toBe(5_000);
    expect(p.positions.map((x: any) => [x.symbol, x.quantity])).toEqual([['BKLG', 50]]);
  });
});

describe('buying power and margin_call (Reg T style, short_margin_pct 0.5)', () => {
  it('short 100 @ 100 then buy 190 is refused, short 1,000 is refused, buy 50 fills with buying power 0; the portfolio fields', async () => {
    const { model: m, run } = await dayReplay('Buying power', ['BKSH', 'BKLG'], '2025-06-10', '2025-06-12', { allow_short: true });
    expect(await ok(trade, 'short', { model_id: m.model_id, symbol: 'BKSH', quantity: 1000 })).toMatchObject({ status: 'rejected' });
    expect(await ok(trade, 'short', { model_id: m.model_id, symbol: 'BKSH', quantity: 100 })).toMatchObject({ status: 'filled', fill_price: 100 });
    // by hand: cash 10,000 + 10,000 proceeds = 20,000; margin used 10,000 × 1.5 = 15,000; buying power 5,000
    const big = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'BKLG', quantity: 190 });
    expect(big.status).toBe('rejected');
    expect(big.rejections.map((r: any) => r.code)).toEqual(['INSUFFICIENT_BUYING_POWER']);
    expect(big.rejections[0].message).toContain('buying power is $5,000.00');
    const fits = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'BKLG', quantity: 50 });
    expect(fits).toMatchObject({ status: 'filled', portfolio_after: { cash: 15_000, buying_power: 0 } });
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    // cash 20,000 − 5,000 = 15,000; long 50 × 100; short 100 × 100; equity 15,000 + 5,000 − 10,000
    expect(p).toMatchObject({ cash: 15_000, long_market_value: 5_000, short_market_value: 10_000, equity: 10_000, margin_used: 15_000, buying_power: 0, debit: 0, state: 'active' });
    expect(p.total_value).toBe(p.equity);
  });

  it("the clock's stop cover that gaps to 160 fills, leaves a debit, halts with margin_call and shows the debit", async () => {
    const { model: m, run } = await dayReplay('Clock margin call', ['BKSH', 'BKLG'], '2025-06-10', '2025-06-12', { allow_short: true, max_drawdown_halt_pct: 1 });
    expect(await ok(trade, 'short', { model_id: m.model_id, symbol: 'BKSH', quantity: 100, stop_loss: 105 })).toMatchObject({ status: 'filled', stop_loss: 105 });
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'BKLG', quantity: 50 })).status).toBe('filled');
    const step = await ok(runs, 'advance_run', { run_id: run.run_id }); // 06-11 opens at 160, through the 105 stop
    expect(step.exits_triggered).toHaveLength(1);
    expect(step.exits_triggered[0]).toMatchObject({ symbol: 'BKSH', side: 'cover', quantity: 100, price: 160, trigger: 'stop_loss', time: '2025-06-11T13:30:00.000Z' });
    // cash 15,000 − 100 × 160 = −1,000: a debit of 1,000; no shorts left, so no margin used
    expect(step.halted_reason).toMatch(/^margin_call: /);
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    expect(p).toMatchObject({ cash: -1_000, debit: 1_000, long_market_value: 5_000, short_market_value: 0, equity: 4_000, margin_used: 0, buying_power: -1_000, state: 'halted' });
    expect(p.realized_pnl).toBe(-6_000); // (100 − 160) × 100
    const status = await ok(trade, 'get_trading_status', { model_id: m.model_id });
    expect(status.state).toBe('halted');
    expect(status.reason).toMatch(/^margin_call: /);
  });

  it("the agent's own cover of the same short is not refused for cash and follows the same rule", async () => {
    const { model: m, run } = await dayReplay('Agent margin call', ['BKSH', 'BKLG'], '2025-06-10', '2025-06-12', { allow_short: true, max_drawdown_halt_pct: 1 });
    // (no drawdown breaker: the 60% fall would halt the model at the step, before the cover)
    expect((await ok(trade, 'short', { model_id: m.model_id, symbol: 'BKSH', quantity: 100 })).status).toBe('filled');
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'BKLG', quantity: 50 })).status).toBe('filled');
    expect((await ok(runs, 'advance_run', { run_id: run.run_id })).exits_triggered).toEqual([]);
    const cover = await ok(trade, 'cover', { model_id: m.model_id, symbol: 'BKSH', quantity: 100 });
    expect(cover.rejections).toEqual([]);
    expect(cover).toMatchObject({ status: 'filled', fill_price: 160, portfolio_after: { cash: -1_000 } });
    expect(cover.halted_reason).toMatch(/^margin_call: cash is -\$1,000\.00/);
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    expect(p).toMatchObject({ cash: -1_000, debit: 1_000, equity: 4_000, buying_power: -1_000, state: 'halted' });
  });
});

describe('day P&L and daily loss limits from the previous session close (imported AAPL rows)', () => {
  it('holding 10 at 2025-06-24 09:30: day_pnl = 10 × (06-24 open − 06-23 close) = 10.90', async () => {
    const { model: m, run } = await dayReplay('Day pnl', ['QAAPL'], '2025-06-23', '2025-06-24');
    expect(await ok(trade, 'buy', { model_id: m.model_id, symbol: 'QAAPL', quantity: 10 })).toMatchObject({ status: 'filled', fill_price: quoted(AAPL_DAY, '2025-06-23').o });
    await ok(runs, 'advance_run', { run_id: run.run_id });
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    const byHand = dollars(10 * (cents(quoted(AAPL_DAY, '2025-06-24').o) - cents(quoted(AAPL_DAY, '2025-06-23').c)));
    expect(byHand).toBe(10.9); // the figure: 10 × (202.59 − 201.50)
    expect(p.day_pnl).toBe(byHand);
    expect((await ok(trade, 'get_trading_status', { model_id: m.model_id })).day_pnl).toBe(byHand);
  });

  it('$0.10/share, daily_loss_limit_abs 6: buy 30 and sell 30 on 06-20 halt at $6.00; resumed, 06-23 counts from 0 and a buy is allowed', async () => {
    const { model: m, run } = await dayReplay('Loss limit', ['QAAPL'], '2025-06-20', '2025-06-24', { commission_per_share: 0.1 });
    await rule(m.model_id, 'Lose at most $6 a day', 'risk', { daily_loss_limit_abs: 6 });
    const open = quoted(AAPL_DAY, '2025-06-20').o;
    expect(await ok(trade, 'buy', { model_id: m.model_id, symbol: 'QAAPL', quantity: 30 })).toMatchObject({ status: 'filled', fill_price: open, commission: 3 });
    const sell = await ok(trade, 'sell', { model_id: m.model_id, symbol: 'QAAPL', quantity: 30 });
    expect(sell).toMatchObject({ status: 'filled', fill_price: open, commission: 3 });
    // same price both ways: the day's loss is the two commissions, 30 × 0.10 × 2 = 6.00
    const status = await ok(trade, 'get_trading_status', { model_id: m.model_id });
    expect(status.day_pnl).toBe(-6);
    expect(status.state).toBe('halted');
    expect(status.reason).toMatch(/\$6\.00/);
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'QAAPL', quantity: 1 })).status).toBe('rejected');

    expect((await ok(trade, 'resume_trading', { model_id: m.model_id })).state).toBe('active');
    const step = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(step.clock).toBe('2025-06-23T13:30:00.000Z');
    expect(step.halted_reason).toBeNull();
    const next = await ok(trade, 'get_trading_status', { model_id: m.model_id });
    expect(next).toMatchObject({ state: 'active', day_pnl: 0 });
    const buy = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'QAAPL', quantity: 1 });
    expect(buy).toMatchObject({ status: 'filled', fill_price: quoted(AAPL_DAY, '2025-06-23').o });
  });
});

describe('trades counted on their bar\'s New York day (imported AAPL rows)', () => {
  it('a stop touched inside the 2025-08-01 bar is an 08-01 trade: with max_trades_per_day 1 the first order on 08-04 is allowed', async () => {
    const { model: m, run } = await dayReplay('Trades per day', ['QAAPL'], '2025-07-31', '2025-08-04');
    await rule(m.model_id, 'One trade a day', 'risk', { max_trades_per_day: 1 });
    const d0731 = quoted(AAPL_DAY, '2025-07-31');
    const d0801 = quoted(AAPL_DAY, '2025-08-01');
    expect(await ok(trade, 'buy', { model_id: m.model_id, symbol: 'QAAPL', quantity: 10, stop_loss: 205 })).toMatchObject({ status: 'filled', fill_price: d0731.o });
    expect(d0731.l).toBeGreaterThan(205); // 07-31's low stays above the stop
    expect((await ok(runs, 'advance_run', { run_id: run.run_id })).exits_triggered).toEqual([]);
    expect(d0801.o).toBeGreaterThan(205); // 08-01 opens above it (no gap) and its low 201.50 crosses it
    expect(d0801.l).toBeLessThan(205);
    const step = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(step.clock).toBe('2025-08-04T13:30:00.000Z');
    expect(step.exits_triggered).toHaveLength(1);
    // touched inside the bar: at the stop, stamped at the bar's end, 16:00 New York time on 08-01
    expect(step.exits_triggered[0]).toMatchObject({ symbol: 'QAAPL', side: 'sell', quantity: 10, price: 205, trigger: 'stop_loss' });
    expect(step.exits_triggered[0].time).toBe(nyToUtc('2025-08-01', '16:00').toISOString());
    const first = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'QAAPL', quantity: 1 });
    expect(first).toMatchObject({ status: 'filled', fill_price: quoted(AAPL_DAY, '2025-08-04').o });
    const second = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'QAAPL', quantity: 1 });
    expect(second.rejections.map((r: any) => r.code)).toEqual(['MAX_TRADES_PER_DAY']);
  });
});

describe('a minute replay of 2025-10-15 on symbols with only daily and hourly bars (imported AAPL and MSFT rows)', () => {
  const START = '2025-10-15T13:30:00Z'; // 09:30 New York time
  async function minuteReplay(name: string, settings: Record<string, unknown> = {}) {
    const m = await model(name, { initial_cash: 20_000, ...settings });
    const run = await ok(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'minute', start: START, end: '2025-10-15T19:59:00Z', symbols: ['QAAPL', 'QMSFT'] });
    return { model: m, run };
  }

  it('a QAAPL stop at 249 exits at 249.00 when the 11:00 hourly bar closes; a QMSFT buy limit at 514 fills then too', async () => {
    const { model: m, run } = await minuteReplay('Hourly exits');
    const dayOpen = quoted(AAPL_DAY, '2025-10-15').o; // 249.485: the price at 09:30, no bar closed since
    expect(await ok(trade, 'buy', { model_id: m.model_id, symbol: 'QAAPL', quantity: 10, stop_loss: 249 })).toMatchObject({ status: 'filled', fill_price: dayOpen });
    const limit = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'QMSFT', quantity: 10, order_type: 'limit', limit_price: 514 });
    expect(limit.status).toBe('open'); // QMSFT is at its 514.955 open
    const h10 = { aapl: quoted(AAPL_HOUR, '2025-10-15 10:00:00'), msft: quoted(MSFT_HOUR, '2025-10-15 10:00:00') };
    const h11 = { aapl: quoted(AAPL_HOUR, '2025-10-15 11:00:00'), msft: quoted(MSFT_HOUR, '2025-10-15 11:00:00') };
    expect([h10.aapl.l > 249, h10.msft.l > 514, h11.aapl.l <= 249, h11.msft.l <= 514, h11.aapl.o > 249, h11.msft.o > 514]).toEqual([true, true, true, true, true, true]);
    // 09:30 → 11:59: the 10:00 bar closed at 11:00 above both levels; nothing yet
    const before = await ok(runs, 'advance_run', { run_id: run.run_id, steps: 149 });
    expect(before.clock).toBe(nyToUtc('2025-10-15', '11:59').toISOString());
    expect(before.exits_triggered).toEqual([]);
    // 12:00: the 11:00 bar closes, its low reached both: the stop at 249.00, the limit at 514
    const at12 = await ok(runs, 'advance_run', { run_id: run.run_id });
    const noon = nyToUtc('2025-10-15', '12:00').toISOString();
    const fills = Object.fromEntries(at12.exits_triggered.map((e: any) => [e.symbol, e]));
    expect(fills.QAAPL).toMatchObject({ side: 'sell', quantity: 10, price: 249, trigger: 'stop_loss', time: noon });
    expect(fills.QMSFT).toMatchObject({ order_id: limit.order_id, side: 'buy', quantity: 10, price: 514, trigger: 'limit', time: noon });
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    // cash 20,000 − 10 × 249.485 + 10 × 249 − 10 × 514; realized 10 × (249 − 249.485)
    expect(p.cash).toBe(dollars(cents(20_000) - notionalCents(10, dayOpen) + notionalCents(10, 249) - notionalCents(10, 514)));
    expect(p.realized_pnl).toBe(dollars(notionalCents(10, 249) - notionalCents(10, dayOpen)));
    expect(p.positions.map((x: any) => [x.symbol, x.quantity])).toEqual([['QMSFT', 10]]);
  });

  it('flatten_by 10:30 leaves the model flat at 10:30, at the open of the 10:00 hourly bar', async () => {
    const { model: m, run } = await minuteReplay('Hourly flatten');
    await rule(m.model_id, 'Flat by 10:30', 'timing', { flatten_by: '10:30' });
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'QAAPL', quantity: 10 })).status).toBe('filled');
    expect((await ok(runs, 'advance_run', { run_id: run.run_id, steps: 59 })).exits_triggered).toEqual([]); // to 10:29
    const step = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(step.clock).toBe(nyToUtc('2025-10-15', '10:30').toISOString());
    // the price at 10:30 is the 10:00 bar's open (no bar has closed since it started)
    expect(step.exits_triggered).toHaveLength(1);
    expect(step.exits_triggered[0]).toMatchObject({ symbol: 'QAAPL', side: 'sell', quantity: 10, price: quoted(AAPL_HOUR, '2025-10-15 10:00:00').o, trigger: 'Flat by 10:30' });
    expect((await ok(trade, 'get_portfolio', { run_id: run.run_id })).positions).toEqual([]);
  });
});
