// Splits and cash dividends on run accounts (issue 8 item 2), through real MCP clients on
// bars and actions the test imports itself (import-bars, import-actions).
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCommand } from '../../shared/admin/commands.js';
import { toCents } from '../../shared/domain/money.js';
import { loadPositions } from '../../shared/store/accounts.js';
import { loadRunFills } from '../../shared/store/analyst.js';
import { getOwnedRun } from '../../shared/store/runs.js';
import { replayRun } from '../../shared/trading/counterfactual.js';
import { bootSuite, ok, type TestSuite } from '../../test/harness.js';
import { priceServer } from '../price/server.js';
import { runsServer } from '../runs/server.js';
import { tradeServer } from './server.js';

let t: TestSuite;
let trade: Client;
let runs: Client;
let price: Client;
let userId: number;

// SPLT splits 2-for-1 on 2025-06-06 (it opens at half the previous close); the symbols are
// made up so no other test's bars or actions meet them on a shared Postgres.
const BARS = [
  'SPLT,day,2025-06-04,99,101,98,100,1000',
  'SPLT,day,2025-06-05,100,102,99,100,1000',
  'SPLT,day,2025-06-06,50,51,49.5,50.5,2000',
  'SPLT,day,2025-06-09,50.5,52,50,51,2000',
  'TRIS,day,2025-06-05,120,121,119,120,1000',
  'TRIS,day,2025-06-06,80,81,79,80,1000',
  'TRIS,day,2025-06-09,80,81,79,80,1000',
  'DIVX,day,2025-08-08,40,41,39,40,1000',
  'DIVX,day,2025-08-11,39.74,40,39,39.8,1000',
  'DIVX,day,2025-08-12,39.8,40,39,39.9,1000',
];
const ACTIONS = ['SPLT,split,2025-06-06,1,2,', 'TRIS,split,2025-06-06,2,3,', 'DIVX,dividend,2025-08-11,,,0.26'];

beforeAll(async () => {
  t = await bootSuite({ specs: [tradeServer, runsServer, priceServer] });
  const bars = path.join(t.dataDir, 'bars.csv');
  fs.writeFileSync(bars, ['symbol,timespan,t,open,high,low,close,volume', ...BARS].join('\n'));
  await runAdminCommand(t.suite.deps, ['import-bars', bars]);
  const actions = path.join(t.dataDir, 'actions.csv');
  fs.writeFileSync(actions, ['symbol,kind,date,split_from,split_to,cash_amount', ...ACTIONS].join('\n'));
  const lines = await runAdminCommand(t.suite.deps, ['import-actions', actions]);
  expect(lines[0]).toMatch(/^Imported 2 split\(s\) and 1 dividend\(s\) from .*actions\.csv for 3 symbol\(s\): DIVX, SPLT, TRIS\.$/);
  const { key, name } = await t.user();
  userId = (await t.suite.deps.sql`select id from users where name = ${name}`)[0]!.id;
  trade = await t.client('trade', key);
  runs = await t.client('runs', key);
  price = await t.client('price', key);
}, 120_000);
afterAll(() => t?.close());

async function replay(name: string, symbols: string[], start: string, end: string, settings: Record<string, unknown> = {}) {
  const model = await ok(runs, 'create_model', { name, initial_cash: 10_000, ...settings });
  const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start, end, symbols });
  return { model, run };
}

describe('import-actions', () => {
  it('refuses a bad line in one sentence and stores nothing from the file', async () => {
    const file = path.join(t.dataDir, 'bad.csv');
    fs.writeFileSync(file, ['symbol,kind,date,split_from,split_to,cash_amount', 'BADX,dividend,2025-08-11,,,0.5', 'BADX,split,2025-06-06,0,2,'].join('\n'));
    await expect(runAdminCommand(t.suite.deps, ['import-actions', file])).rejects.toThrow('Actions CSV line 3: split_from "0" must be a positive number.');
    expect(await t.suite.deps.sql`select 1 from price_dividends where symbol = 'BADX'`).toHaveLength(0);
    fs.writeFileSync(file, ['symbol,kind,date,split_from,split_to,cash_amount', 'BADX,merger,2025-06-06,,,'].join('\n'));
    await expect(runAdminCommand(t.suite.deps, ['import-actions', file])).rejects.toThrow('Actions CSV line 2: kind must be split or dividend, not "merger".');
    await expect(runAdminCommand(t.suite.deps, ['import-actions'])).rejects.toThrow(/^Usage: import-actions FILE/);
  });
});

/** replay_with_rules' replay under the frozen rules reproduces the run's fills, cash, realized P&L, positions and curve to the cent, the actions applied in memory. */
async function expectReplayIdentity(runId: number) {
  const deps = t.suite.deps;
  const run = await getOwnedRun(deps.sql, userId, runId);
  const r = await replayRun(deps, run, null);
  const fill = (f: { clock: string; source: string; side: string; quantity: number; symbol: string; price: number; notional_cents: number }) =>
    `${f.clock} ${f.source} ${f.side} ${f.quantity} ${f.symbol} @${f.price} ${f.notional_cents}`;
  expect(r.fills.map(fill).sort()).toEqual((await loadRunFills(deps.sql, runId)).map(fill).sort());
  expect([r.book.cashCents, r.book.realizedPnlCents]).toEqual([toCents(run.cash), toCents(run.realized_pnl)]);
  const positions = await loadPositions(deps.sql, runId);
  expect([...r.book.positions.values()].map((p) => [p.symbol, p.quantity, p.costCents])).toEqual(positions.map((p) => [p.symbol, p.quantity, p.costCents]));
  expect(r.points.map((p) => `${p.clock} ${toCents(p.value)}`)).toEqual(r.originalPoints.map((p) => `${p.clock} ${toCents(p.value)}`));
  return r;
}

describe('splits', () => {
  it('2-for-1: 90 @ 100 become 180 @ 50, equity 10,000, no halt, total return 0; orders and exits follow', async () => {
    const { model, run } = await replay('split 2:1', ['SPLT'], '2025-06-05', '2025-06-09', { max_drawdown_halt_pct: 0.1 });
    expect(await ok(trade, 'buy', { model_id: model.model_id, symbol: 'SPLT', quantity: 90, stop_loss: 95, take_profit: 120 })).toMatchObject({ status: 'filled', fill_price: 100 });
    const resting = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'SPLT', quantity: 5, order_type: 'limit', limit_price: 98 });
    expect(resting.status).toBe('open');

    const step = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(step.clock).toBe('2025-06-06T13:30:00.000Z');
    expect(step.exits_triggered).toEqual([]);
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    // by hand: 90 × 2 = 180 shares; basis $9,000 kept, so average cost 9,000 / 180 = 50;
    // equity = cash 1,000 + 180 × the $50 open = 10,000, as before the split (90 × 100)
    // the attached exits follow the split too: stop 95 → 47.50, target 120 → 60 (get_portfolio's live levels)
    const exits = expect.objectContaining({ stop_loss: { price: 47.5, distance: -2.5, distance_pct: -0.05 }, take_profit: { price: 60, distance: 10, distance_pct: 0.2 } });
    expect(p.positions).toEqual([{ symbol: 'SPLT', quantity: 180, avg_cost: 50, price: 50, market_value: 9_000, unrealized_pnl: 0, weight: 0.9, exits }]);
    expect(p).toMatchObject({ cash: 1_000, total_value: 10_000, realized_pnl: 0, state: 'active' });
    const [pos] = await t.suite.deps.sql`select stop_price, target_price, cost_basis from positions where run_id = ${run.run_id}`;
    expect([Number(pos!.stop_price), Number(pos!.target_price), toCents(pos!.cost_basis)]).toEqual([47.5, 60, 900_000]);
    const { orders } = await ok(trade, 'list_orders', { run_id: run.run_id, status: 'open' });
    expect(orders.map((o: any) => [o.quantity, o.limit_price])).toEqual([[10, 49]]);

    const [event] = await t.suite.deps.sql`select kind, action_date::text as d, ratio, quantity_before, quantity_after, cash_change from corporate_action_events where run_id = ${run.run_id}`;
    expect(event).toMatchObject({ kind: 'split', d: '2025-06-06', quantity_before: 90, quantity_after: 180 });
    expect(Number(event!.ratio)).toBe(2);
    expect(Number(event!.cash_change)).toBe(0);
    const { entries } = await ok(runs, 'get_reasoning', { run_id: run.run_id });
    expect(entries.map((e: any) => [e.reasoning_type, e.content])).toEqual([
      ['event', '2-for-1 split of SPLT on 2025-06-06: 90 shares became 180, average cost 100 → 50, cost basis kept.'],
    ]);
    // history before the split is shown on the new basis once the clock knows the split
    const bars = await ok(price, 'get_bars', { symbol: 'SPLT', timespan: 'day', run_id: run.run_id });
    expect(bars.bars.map((b: any) => b.c)).toEqual([50, 50]);

    const ended = await ok(runs, 'end_run', { run_id: run.run_id });
    expect(ended.final_stats).toMatchObject({ final_value: 10_000, total_return: 0, max_drawdown: 0 });
    expect((await ok(runs, 'get_model', { model_id: model.model_id })).state).toBe('active');
    // replayed under its frozen rules, the split applies in memory as it did on the books; the resting limit 5 @ 98 became 10 @ 49
    const r = await expectReplayIdentity(run.run_id);
    expect([...r.book.positions.values()].map((x) => [x.quantity, x.avgCost, x.stop, x.target])).toEqual([[180, 50, 47.5, 60]]);
  });

  it('3-for-2 on 11 shares: 16 shares and half a new share paid in lieu at the previous close', async () => {
    const { model, run } = await replay('split 3:2', ['TRIS'], '2025-06-05', '2025-06-09');
    await ok(trade, 'buy', { model_id: model.model_id, symbol: 'TRIS', quantity: 11 }); // 11 @ 120 = 1,320
    await ok(runs, 'advance_run', { run_id: run.run_id });
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    // by hand: 11 × 1.5 = 16.5 → 16 shares; the half new share is 1/3 old share: paid
    // 1/3 × the $120 close = $40.00 in lieu; it carried 1/3 × $120 = $40.00 of basis: P&L 0
    expect(p.positions[0]).toMatchObject({ symbol: 'TRIS', quantity: 16, avg_cost: 80, price: 80 });
    expect(p).toMatchObject({ cash: 10_000 - 1_320 + 40, realized_pnl: 0, total_value: 10_000 });
    const [event] = await t.suite.deps.sql`select cash_in_lieu from corporate_action_events where run_id = ${run.run_id}`;
    expect(Number(event!.cash_in_lieu)).toBe(40);
    await expectReplayIdentity(run.run_id); // the $40.00 in lieu included
  });
});

describe('cash dividends', () => {
  it('on the ex-date a long receives dividend × shares; the price is not adjusted', async () => {
    const { model, run } = await replay('dividend long', ['DIVX'], '2025-08-08', '2025-08-12');
    await ok(trade, 'buy', { model_id: model.model_id, symbol: 'DIVX', quantity: 100 }); // 100 @ 40
    await ok(runs, 'advance_run', { run_id: run.run_id });
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    // by hand: 100 × $0.26 = $26.00; cash 10,000 − 4,000 + 26 = 6,026; the ex-date open 39.74
    expect(p).toMatchObject({ cash: 6_026, realized_pnl: 26, total_value: 6_026 + 3_974 });
    expect(p.positions[0]).toMatchObject({ quantity: 100, avg_cost: 40, price: 39.74 });
    const { entries } = await ok(runs, 'get_reasoning', { run_id: run.run_id });
    expect(entries.at(-1).content).toBe('Dividend of $0.26 per share of DIVX, ex-date 2025-08-11: received $26.00 on 100 shares held.');
    // a second step passes no new ex-date: nothing more is paid
    await ok(runs, 'advance_run', { run_id: run.run_id });
    expect((await ok(trade, 'get_portfolio', { run_id: run.run_id })).realized_pnl).toBe(26);
    expect((await expectReplayIdentity(run.run_id)).book.realizedPnlCents).toBe(2_600); // paid once in the replay too
  });

  it('a short pays it', async () => {
    const { model, run } = await replay('dividend short', ['DIVX'], '2025-08-08', '2025-08-12', { allow_short: true });
    await ok(trade, 'short', { model_id: model.model_id, symbol: 'DIVX', quantity: 50 }); // 50 @ 40
    await ok(runs, 'advance_run', { run_id: run.run_id });
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    // by hand: 50 × $0.26 = $13.00 paid
    expect(p).toMatchObject({ realized_pnl: -13 });
    const [acct] = await t.suite.deps.sql`select cash, realized_pnl, initial_cash from runs where id = ${run.run_id}`;
    const [pos] = await t.suite.deps.sql`select cost_basis from positions where run_id = ${run.run_id}`;
    // the ledger invariant: cash − short basis = initial cash + realized P&L
    expect(toCents(acct!.cash) - toCents(pos!.cost_basis)).toBe(toCents(acct!.initial_cash) + toCents(acct!.realized_pnl));
    await expectReplayIdentity(run.run_id);
  });
});
