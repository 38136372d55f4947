import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCommand } from '../../shared/admin/commands.js';
import { notionalCents, toCents } from '../../shared/domain/money.js';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { priceServer } from '../price/server.js';
import { rulesServer } from '../rules/server.js';
import { runsServer } from '../runs/server.js';
import { tradeServer } from './server.js';

let t: TestSuite;
let key: string;
let trade: Client;
let runs: Client;
let rules: Client;

// IBM is not a simulated symbol: these daily bars are its only prices (open $280 on the 10th).
const IBM_DAYS = [
  ['2025-06-10', 280, 283, 278, 282],
  ['2025-06-11', 282, 290, 281, 289],
  ['2025-06-12', 289, 291, 270, 271],
  ['2025-06-13', 271, 275, 268, 274],
];

beforeAll(async () => {
  t = await bootSuite({ specs: [tradeServer, runsServer, rulesServer, priceServer] });
  const csv = path.join(t.dataDir, 'ibm.csv');
  fs.writeFileSync(
    csv,
    ['symbol,timespan,t,open,high,low,close,volume', ...IBM_DAYS.map(([d, o, h, l, c]) => `IBM,day,${d},${o},${h},${l},${c},1000000`)].join('\n'),
  );
  await runAdminCommand(t.suite.deps, ['import-bars', csv, '--format', 'csv']);
  key = (await t.user()).key;
  trade = await t.client('trade', key);
  runs = await t.client('runs', key);
  rules = await t.client('rules', key);
});
afterAll(() => t?.close());

async function replayModel(name: string, settings: Record<string, unknown> = {}, symbols = ['IBM']) {
  const model = await ok(runs, 'create_model', { name, initial_cash: 10_000, max_orders_per_minute: 10_000, ...settings });
  const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-13', symbols });
  return { model, run };
}

async function orderCount(modelId: number): Promise<number> {
  const [r] = await t.suite.deps.sql`select count(*)::int as n from orders where model_id = ${modelId}`;
  return r!.n as number;
}

describe('the incident, replayed', () => {
  it('refuses 31 IBM at $280 under a 20% rule, fills what fits, refuses oversell and shorts; every refusal is listed', async () => {
    const { model, run } = await replayModel('Incident');
    await ok(rules, 'create_rule', {
      model_id: model.model_id,
      rule_name: 'Max 20% per position',
      rule_category: 'position_sizing',
      rule_description: 'No position above 20% of the portfolio',
      enforcement_params: { max_position_pct: 0.2 },
    });

    const big = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 31, reasoning: 'All in on IBM' });
    expect(big.status).toBe('rejected');
    expect(big.rejections).toHaveLength(1);
    expect(big.rejections[0]).toMatchObject({ source: 'rule', code: 'MAX_POSITION_PCT', rule_name: 'Max 20% per position' });
    expect(big.rejections[0].message).toContain('$8,680.00');
    expect(big.rejections[0].message).toContain('$2,000.00');
    expect(big.portfolio_after).toEqual({ cash: 10_000, position_quantity: 0, total_value: 10_000, buying_power: 10_000 });

    const fits = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 7 });
    expect(fits).toMatchObject({ status: 'filled', fill_price: 280, run_id: run.run_id, clock: '2025-06-10T13:30:00.000Z' });
    expect(fits.portfolio_after).toEqual({ cash: 8_040, position_quantity: 7, total_value: 10_000, buying_power: 8_040 });

    const oversell = await ok(trade, 'sell', { model_id: model.model_id, symbol: 'IBM', quantity: 50 });
    expect(oversell.status).toBe('rejected');
    // the gate comes first; the rules engine also sees the 43-share short the sell would make
    expect(oversell.rejections[0].code).toBe('OVERSELL');
    expect(oversell.rejections[0].message).toMatch(/50/);

    const short = await ok(trade, 'short', { model_id: model.model_id, symbol: 'IBM', quantity: 1 });
    expect(short.status).toBe('rejected');
    expect(short.rejections.map((r: any) => r.code)).toContain('SHORT_NOT_ALLOWED');

    const { orders } = await ok(trade, 'list_orders', { model_id: model.model_id });
    // oldest first, the list convention of shared/mcp/paging.ts
    expect(orders.map((o: any) => [o.side, o.quantity, o.status])).toEqual([
      ['buy', 31, 'rejected'],
      ['buy', 7, 'filled'],
      ['sell', 50, 'rejected'],
      ['short', 1, 'rejected'],
    ]);
    expect(orders.filter((o: any) => o.status === 'rejected').every((o: any) => o.rejections.length > 0 && o.rejections[0].message)).toBe(true);
    expect(orders[0].reasoning).toBe('All in on IBM');
    const { entries } = await ok(runs, 'get_reasoning', { run_id: run.run_id });
    expect(entries.map((e: any) => e.content)).toEqual(['All in on IBM']);

    const portfolio = await ok(trade, 'get_portfolio', { model_id: model.model_id });
    expect(portfolio.positions).toEqual([{ symbol: 'IBM', quantity: 7, avg_cost: 280, price: 280, market_value: 1960, unrealized_pnl: 0, weight: 0.196 }]);
    const metrics = await (await t.suite.hosts.trade!.app.request('/metrics')).text();
    expect(metrics).toMatch(/aibt_tool_calls_total\{server="trade",tool="buy",outcome="rejected"\} [1-9]/);
    expect(metrics).toMatch(/aibt_tool_calls_total\{server="trade",tool="sell",outcome="rejected"\} [1-9]/);
  });

  it('values the portfolio at the clock, and the clock fires stop losses', async () => {
    const { model, run } = await replayModel('Stops');
    const buy = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 10, stop_loss: 275 });
    expect(buy.status).toBe('filled');
    const step1 = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(step1.exits_triggered).toEqual([]);
    expect((await ok(trade, 'get_portfolio', { run_id: run.run_id })).positions[0].price).toBe(282); // June 11 open
    const step2 = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(step2.clock).toBe('2025-06-12T13:30:00.000Z');
    expect(step2.exits_triggered).toEqual([]); // June 11's low 281 stays above the stop
    const step3 = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(step3.exits_triggered).toHaveLength(1); // June 12's low 270 crossed 275
    expect(step3.exits_triggered[0]).toMatchObject({ symbol: 'IBM', side: 'sell', quantity: 10, price: 275, trigger: 'stop_loss' });
    const p = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    expect(p.positions).toEqual([]);
    expect(p.cash).toBe(10_000 - 2800 + 2750);
    expect(p.realized_pnl).toBe(-50);
  });
});

describe('gates and state', () => {
  it('halts, reduces, and only an approve key lifts an approver halt', async () => {
    const { model } = await replayModel('Halt');
    await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 5 });
    const traderKey = (await t.user(['read', 'trade'])).key;
    const other = await t.client('trade', traderKey);
    expect((await call(other, 'halt_trading', { model_id: model.model_id, reason: 'x' })).text).toBe(`Model ${model.model_id} was not found.`);

    await ok(trade, 'halt_trading', { model_id: model.model_id, reason: 'Risk review', mode: 'reducing' });
    const buy = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 1 });
    expect(buy.rejections.map((r: any) => r.code)).toEqual(['MODEL_REDUCING']);
    expect((await ok(trade, 'sell', { model_id: model.model_id, symbol: 'IBM', quantity: 2 })).status).toBe('filled');

    await ok(trade, 'halt_trading', { model_id: model.model_id, reason: 'Stop everything' });
    const sell = await ok(trade, 'sell', { model_id: model.model_id, symbol: 'IBM', quantity: 1 });
    expect(sell.rejections.map((r: any) => r.code)).toEqual(['MODEL_HALTED']);
    const status = await ok(trade, 'get_trading_status', { model_id: model.model_id });
    expect(status).toMatchObject({ state: 'halted', reason: 'Stop everything' });
  });

  it('refuses resume without approve, and accepts it with approve', async () => {
    const owner = await t.user(['read', 'trade', 'rules:write']);
    const ownerRuns = await t.client('runs', owner.key);
    const ownerTrade = await t.client('trade', owner.key);
    const model = await ok(ownerRuns, 'create_model', { name: 'Resume' });
    await ok(ownerTrade, 'halt_trading', { model_id: model.model_id, reason: 'pause' });
    const resume = await call(ownerTrade, 'resume_trading', { model_id: model.model_id });
    expect(resume.isError).toBe(true);
    expect(resume.text).toMatch(/resume_trading needs the 'approve' scope/);
    const loosen = await call(ownerTrade, 'halt_trading', { model_id: model.model_id, reason: 'loosen', mode: 'reducing' });
    expect(loosen.text).toMatch(/needs the 'approve' scope/);
    // same user, a key with approve
    const { createKey } = await import('../../shared/auth/keys.js');
    const approver = await t.client('trade', (await createKey(t.suite.deps.sql, owner.name, ['read', 'approve'])).key);
    expect((await ok(approver, 'resume_trading', { model_id: model.model_id })).state).toBe('active');
  });

  it('refuses bad input with one sentence and writes nothing', async () => {
    const { model } = await replayModel('BadInput');
    const before = await orderCount(model.model_id);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ quantity: 0 }, /quantity must be at least 1 share/],
      [{ quantity: -5 }, /quantity must be at least 1 share/],
      [{ quantity: 1.5 }, /quantity must be whole shares/],
      [{ quantity: 1e12 }, /quantity must be at most 10,000,000 shares/],
      [{ quantity: Number.NaN }, /quantity must be a number/],
      [{ symbol: 'A'.repeat(5000) }, /symbol must be at most 10 characters/],
      [{ symbol: "IBM'; DROP TABLE orders; --" }, /symbol must be/],
    ];
    for (const [patch, message] of cases) {
      const r = await call(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 1, ...patch });
      expect(r.isError, JSON.stringify(patch).slice(0, 50)).toBe(true);
      expect(r.text).toMatch(message);
    }
    const unknown = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'ZZZZ', quantity: 1 });
    expect(unknown.rejections.map((r: any) => r.code)).toEqual(['UNKNOWN_SYMBOL']);
    expect(await orderCount(model.model_id)).toBe(before + 1); // only the refused unknown-symbol order
  });
});

describe('concurrency', () => {
  it('fills exactly 10 of 50 simultaneous buys when cash covers 10, from several clients', async () => {
    const { model, run } = await replayModel('Race', { initial_cash: 2_800 });
    const clients = await Promise.all([1, 2, 3, 4, 5].map(() => t.client('trade', key)));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => ok(clients[i % 5]!, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 1 })),
    );
    expect(results.filter((r) => r.status === 'filled')).toHaveLength(10);
    expect(results.filter((r) => r.status === 'rejected').every((r) => r.rejections[0].code === 'INSUFFICIENT_BUYING_POWER')).toBe(true);
    const [acct] = await t.suite.deps.sql`select cash from runs where id = ${run.run_id}`;
    expect(Number(acct!.cash)).toBe(0);
    const [pos] = await t.suite.deps.sql`select quantity from positions where run_id = ${run.run_id}`;
    expect(pos!.quantity).toBe(10);
  });

  it('fills one order for ten racing calls with one client_order_id', async () => {
    const { model, run } = await replayModel('Idem');
    const clients = await Promise.all([1, 2].map(() => t.client('trade', key)));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => ok(clients[i % 2]!, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 3, client_order_id: 'abc-1' })),
    );
    expect(new Set(results.map((r) => r.order_id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    const [f] = await t.suite.deps.sql`select count(*)::int as n from fills where run_id = ${run.run_id}`;
    expect(f!.n).toBe(1);
  });
});

describe('ledger invariant', () => {
  it('reconciles cash, positions, fills and orders after 1,000 random orders', async () => {
    const { model, run } = await replayModel('Ledger', { initial_cash: 100_000, allow_short: true, commission_per_share: 0.005, slippage_bps: 3 }, ['IBM']);
    const orders = fc.sample(
      fc.record({ side: fc.constantFrom('buy', 'sell', 'short', 'cover'), quantity: fc.integer({ min: 1, max: 40 }) }),
      { numRuns: 1000, seed: 42 },
    );
    let i = 0;
    for (const o of orders) {
      await ok(trade, o.side, { model_id: model.model_id, symbol: 'IBM', quantity: o.quantity });
      if (++i % 250 === 0) await ok(runs, 'advance_run', { run_id: run.run_id }); // new prices
    }
    const sql = t.suite.deps.sql;
    const [acct] = await sql`select cash, initial_cash, realized_pnl from runs where id = ${run.run_id}`;
    const fills = await sql`select f.*, o.status from fills f join orders o on o.id = f.order_id where f.run_id = ${run.run_id}`;
    let cash = toCents(acct!.initial_cash);
    let realized = 0;
    const held = new Map<string, number>();
    for (const f of fills) {
      expect(f.status).toBe('filled');
      const notional = notionalCents(f.quantity, f.price);
      const fee = toCents(f.commission);
      const sign = f.side === 'buy' || f.side === 'cover' ? -1 : 1;
      expect(toCents(f.cash_change)).toBe(sign * notional - fee);
      cash += sign * notional - fee;
      realized += toCents(f.realized_pnl);
      held.set(f.symbol, (held.get(f.symbol) ?? 0) + (f.side === 'buy' || f.side === 'cover' ? f.quantity : -f.quantity));
    }
    expect(toCents(acct!.cash)).toBe(cash);
    expect(toCents(acct!.realized_pnl)).toBe(realized);
    const positions = await sql`select symbol, quantity from positions where run_id = ${run.run_id}`;
    expect(Object.fromEntries(positions.map((p) => [p.symbol, p.quantity]))).toEqual(Object.fromEntries([...held].filter(([, q]) => q !== 0)));
    const [counts] = await sql`
      select (select count(*)::int from orders where run_id = ${run.run_id} and status = 'filled') as filled,
             (select count(*)::int from fills where run_id = ${run.run_id}) as fills,
             (select count(*)::int from orders where run_id = ${run.run_id}) as orders`;
    expect(counts!.filled).toBe(counts!.fills);
    expect(counts!.orders).toBe(1000);
    expect(fills.length).toBeGreaterThan(100);
  }, 300_000);
});

describe('approval', () => {
  it('asks a person through elicitation; accept fills', async () => {
    const { model } = await replayModel('Ask', { require_approval: true });
    const client = await t.client('trade', key, { elicitation: { form: {} } }, 'legacy');
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', async (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: { note: 'looks fine' } };
    });
    const r = await ok(client, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 2 });
    expect(asked[0]).toMatch(/buy 2 IBM/);
    expect(r.status).toBe('filled');
    const declined = await t.client('trade', key, { elicitation: { form: {} } }, 'legacy');
    declined.setRequestHandler('elicitation/create', async () => ({ action: 'decline' }));
    expect((await ok(declined, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 1 })).status).toBe('rejected');
  });

  it('leaves the order pending without elicitation; approve_order re-checks at the current price; pending orders expire', async () => {
    const { model, run } = await replayModel('Pending', { require_approval: true });
    const pending = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 3 });
    expect(pending.status).toBe('pending_approval');
    expect((await ok(trade, 'get_trading_status', { model_id: model.model_id })).pending_approvals).toBe(1);
    await ok(runs, 'advance_run', { run_id: run.run_id }); // the price moves from 280 to 282
    const approved = await ok(trade, 'approve_order', { order_id: pending.order_id, note: 'ok' });
    expect(approved).toMatchObject({ status: 'filled', fill_price: 282 });

    const late = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 1 });
    await t.suite.deps.sql`update orders set expires_at = now() - interval '1 second' where id = ${late.order_id}`;
    const expired = await call(trade, 'approve_order', { order_id: late.order_id });
    expect(expired.text).toBe(`Order ${late.order_id} is expired, not pending approval; nothing was changed.`);

    const rejectMe = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 1 });
    expect((await ok(trade, 'reject_order', { order_id: rejectMe.order_id, note: 'no' })).status).toBe('rejected');
    const traderOnly = await t.client('trade', (await t.user(['read', 'trade'])).key);
    expect((await call(traderOnly, 'approve_order', { order_id: rejectMe.order_id })).text).toMatch(/needs the 'approve' scope/);
  });
});

describe('circuit breakers, expiry, throttle and ownership', () => {
  // IBM opens 280, 282, 289, 271: 30 shares bought at 280 take the value 10,000 → 10,060 →
  // 10,270 → 9,730, a 540 (5.26%) fall from the peak and from the day-start value.
  async function fallingReplay(name: string, settings: Record<string, unknown> = {}) {
    const owner = await t.user();
    const [ownerRuns, ownerTrade, ownerRules] = await Promise.all([t.client('runs', owner.key), t.client('trade', owner.key), t.client('rules', owner.key)]);
    const model = await ok(ownerRuns, 'create_model', { name, initial_cash: 10_000, ...settings });
    const run = await ok(ownerRuns, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-13', symbols: ['IBM'] });
    expect((await ok(ownerTrade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 30 })).status).toBe('filled');
    return { owner, ownerRuns, ownerTrade, ownerRules, model, run };
  }

  it('halts the model at the clock step where max_drawdown_halt_pct is reached; a trade-only key can neither lift nor rewrite that halt', async () => {
    const { owner, ownerRuns, ownerTrade, model, run } = await fallingReplay('Drawdown breaker', { max_drawdown_halt_pct: 0.05 });
    await ok(ownerRuns, 'advance_run', { run_id: run.run_id, steps: 2 });
    expect((await ok(ownerTrade, 'get_trading_status', { model_id: model.model_id })).state).toBe('active');
    await ok(ownerRuns, 'advance_run', { run_id: run.run_id });
    const status = await ok(ownerTrade, 'get_trading_status', { model_id: model.model_id });
    expect(status.state).toBe('halted');
    expect(status.reason).toMatch(/^Circuit breaker: Max drawdown halt: value \$9,730\.00 is \$540\.00/);

    const { createKey } = await import('../../shared/auth/keys.js');
    const traderOnly = await t.client('trade', (await createKey(t.suite.deps.sql, owner.name, ['read', 'trade'])).key);
    expect((await call(traderOnly, 'halt_trading', { model_id: model.model_id, reason: 'let me trade', mode: 'reducing' })).isError).toBe(true);
    await call(traderOnly, 'halt_trading', { model_id: model.model_id, reason: 'overwritten', mode: 'halted' });
    const after = await ok(ownerTrade, 'get_trading_status', { model_id: model.model_id });
    expect(after).toMatchObject({ state: 'halted', reason: status.reason });
    expect((await ok(traderOnly, 'sell', { model_id: model.model_id, symbol: 'IBM', quantity: 30 })).rejections.map((r: any) => r.code)).toEqual(['MODEL_HALTED']);
    expect((await ok(ownerTrade, 'resume_trading', { model_id: model.model_id })).state).toBe('active');
  });

  it('halts the model at the clock step where a daily loss limit rule is reached, naming the rule', async () => {
    const { ownerRuns, ownerTrade, ownerRules, model, run } = await fallingReplay('Daily loss breaker');
    await ok(ownerRules, 'create_rule', {
      model_id: model.model_id,
      rule_name: 'Lose at most 5% a day',
      rule_category: 'risk',
      rule_description: 'Daily loss limit',
      enforcement_params: { daily_loss_limit_pct: 0.05 },
    });
    await ok(ownerRuns, 'advance_run', { run_id: run.run_id, steps: 3 });
    // June 12 falls from the June 11 close (30 × 289 + 1,600 = 10,270) to its close at 271
    // (9,730): a 540 day loss, judged at that close. At June 13's open (271) the day P&L
    // counts from the June 12 close: 0.
    const status = await ok(ownerTrade, 'get_trading_status', { model_id: model.model_id });
    expect(status).toMatchObject({ state: 'halted', day_pnl: 0 });
    expect(status.reason).toMatch(/^Circuit breaker: Rule 'Lose at most 5% a day': day loss is \$540\.00 = 5\.26% of the \$10,270\.00 day-start value/);
  });

  it('trips the breaker before an order when the account is already past it, so nothing fills', async () => {
    const { ownerRuns, ownerTrade, model, run } = await fallingReplay('Breaker before order');
    await ok(ownerRuns, 'advance_run', { run_id: run.run_id, steps: 3 }); // 5.26% down: under the default 25%
    await ok(ownerRuns, 'update_model', { model_id: model.model_id, max_drawdown_halt_pct: 0.05 });
    const buy = await ok(ownerTrade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 1 });
    expect(buy.status).toBe('rejected');
    expect(buy.rejections.map((r: any) => r.code)).toEqual(['MODEL_HALTED']);
    expect(buy.halted_reason).toMatch(/Max drawdown halt/);
    expect(buy.portfolio_after.position_quantity).toBe(30);
    expect((await ok(ownerTrade, 'get_trading_status', { model_id: model.model_id })).state).toBe('halted');
  });

  it('reports the same day P&L in get_trading_status as in get_portfolio once the run has ended', async () => {
    const { ownerRuns, ownerTrade, model, run } = await fallingReplay('Ended day pnl');
    await ok(ownerRuns, 'advance_run', { run_id: run.run_id, steps: 3 });
    await ok(ownerRuns, 'end_run', { run_id: run.run_id });
    const portfolio = await ok(ownerTrade, 'get_portfolio', { model_id: model.model_id });
    const status = await ok(ownerTrade, 'get_trading_status', { model_id: model.model_id });
    // June 13 open 271 against the June 12 close 271: the day P&L counts from the previous close
    expect(portfolio.day_pnl).toBe(0);
    expect(portfolio.total_value).toBe(9_730);
    expect(status.day_pnl).toBe(portfolio.day_pnl);
  });

  it('shows a pending order past its 15 minutes as expired on list_orders and in the pending count, and keeps it expired', async () => {
    const { model } = await replayModel('Expiry shown', { require_approval: true });
    const pending = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 1 });
    expect(Date.parse((await ok(trade, 'list_orders', { model_id: model.model_id })).orders[0].expires_at) - Date.now()).toBeGreaterThan(14 * 60_000);
    await t.suite.deps.sql`update orders set expires_at = now() - interval '1 second' where id = ${pending.order_id}`;
    const { orders } = await ok(trade, 'list_orders', { model_id: model.model_id });
    expect(orders[0]).toMatchObject({ order_id: pending.order_id, status: 'expired' });
    expect((await ok(trade, 'list_orders', { model_id: model.model_id, status: 'pending_approval' })).orders).toEqual([]);
    expect((await ok(trade, 'list_orders', { model_id: model.model_id, status: 'expired' })).orders).toHaveLength(1);
    expect((await ok(trade, 'get_trading_status', { model_id: model.model_id })).pending_approvals).toBe(0);
    expect((await call(trade, 'approve_order', { order_id: pending.order_id })).text).toMatch(/is expired, not pending approval/);
    expect((await call(trade, 'cancel_order', { order_id: pending.order_id })).text).toMatch(/is expired/);
    const [row] = await t.suite.deps.sql`select status from orders where id = ${pending.order_id}`;
    expect(row!.status).toBe('expired');
  });

  it('counts orders, not its own refusals, against max_orders_per_minute', async () => {
    const { model } = await replayModel('Throttle', { max_orders_per_minute: 2 });
    const buy = () => ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 1 });
    expect((await buy()).status).toBe('filled');
    expect((await buy()).status).toBe('filled');
    for (let i = 0; i < 3; i++) expect((await buy()).rejections.map((r: any) => r.code)).toEqual(['RATE_LIMITED']);
    // a minute later for the two orders that counted; the refusals stay inside the window
    await t.suite.deps.sql`update orders set created_at = created_at - interval '2 minutes' where model_id = ${model.model_id} and status = 'filled'`;
    expect((await buy()).status).toBe('filled');
  });

  it('returns the first result for a client_order_id reused with another side and symbol, and never fills it again', async () => {
    const { model, run } = await replayModel('Idem other side', { allow_short: true });
    const first = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 3, client_order_id: 'same' });
    const again = await ok(trade, 'short', { model_id: model.model_id, symbol: 'AAPL', quantity: 9, client_order_id: 'same' });
    expect(again).toMatchObject({ order_id: first.order_id, replayed: true, side: 'buy', symbol: 'IBM', quantity: 3, status: 'filled' });
    expect(await orderCount(model.model_id)).toBe(1);
    const [f] = await t.suite.deps.sql`select count(*)::int as n from fills where run_id = ${run.run_id}`;
    expect(f!.n).toBe(1);
  });

  it('measures a trailing stop from the entry on the first bar, never from that bar\'s close', async () => {
    const { model, run } = await replayModel('Trailing');
    await ok(rules, 'create_rule', {
      model_id: model.model_id,
      rule_name: 'Trail 1%',
      rule_category: 'stop_loss',
      rule_description: 'Trailing stop 1%',
      enforcement_params: { trailing_stop_pct: 0.01 },
    });
    expect((await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 10 })).fill_price).toBe(280);
    // June 10: open 280, low 278, close 282. From the 280 entry the stop is 277.20: untouched.
    expect((await ok(runs, 'advance_run', { run_id: run.run_id })).exits_triggered).toEqual([]);
    // June 11: high 290 sets the mark; June 12 opens 289 and falls to 270: the stop (287.10) fires.
    await ok(runs, 'advance_run', { run_id: run.run_id });
    const exit = await ok(runs, 'advance_run', { run_id: run.run_id });
    expect(exit.exits_triggered).toMatchObject([{ symbol: 'IBM', side: 'sell', quantity: 10, price: 287.1, trigger: 'Trail 1%' }]);
  });

  it("reports another user's order, model and run exactly like missing ones on every trade tool", async () => {
    const { model, run } = await replayModel('Mine', { require_approval: true });
    const order = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'IBM', quantity: 1 });
    const stranger = await t.client('trade', (await t.user()).key);
    const missing = 99_999_999;
    const cases: [string, (id: number) => Record<string, unknown>, number][] = [
      ['buy', (id) => ({ model_id: id, symbol: 'IBM', quantity: 1 }), model.model_id],
      ['sell', (id) => ({ model_id: id, symbol: 'IBM', quantity: 1 }), model.model_id],
      ['preview_order', (id) => ({ model_id: id, side: 'buy', symbol: 'IBM', quantity: 1 }), model.model_id],
      ['get_portfolio', (id) => ({ model_id: id }), model.model_id],
      ['get_portfolio', (id) => ({ run_id: id }), run.run_id],
      ['get_trading_status', (id) => ({ model_id: id }), model.model_id],
      ['halt_trading', (id) => ({ model_id: id, reason: 'x' }), model.model_id],
      ['resume_trading', (id) => ({ model_id: id }), model.model_id],
      ['list_orders', (id) => ({ model_id: id }), model.model_id],
      ['list_orders', (id) => ({ run_id: id }), run.run_id],
      ['cancel_order', (id) => ({ order_id: id }), order.order_id],
      ['approve_order', (id) => ({ order_id: id }), order.order_id],
      ['reject_order', (id) => ({ order_id: id }), order.order_id],
    ];
    for (const [tool, args, id] of cases) {
      const theirs = await call(stranger, tool, args(id));
      const none = await call(stranger, tool, args(missing));
      expect(theirs.isError, tool).toBe(true);
      expect(theirs.text.replace(String(id), 'N'), tool).toBe(none.text.replace(String(missing), 'N'));
    }
    expect((await ok(trade, 'list_orders', { model_id: model.model_id })).orders[0].status).toBe('pending_approval');
  });
});

describe('live runs', () => {
  it('tick on the wall clock: attached stops fire on the minutes since the last tick, with an equity point', async () => {
    const { tickLiveRuns } = await import('../../shared/trading/ticker.js');
    const model = await ok(runs, 'create_model', { name: 'Live stop', initial_cash: 10_000 });
    const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'live' });
    const sql = t.suite.deps.sql;
    // A held JPM long whose stop sits above the market, set up as if bought earlier.
    const lastTickAt = new Date('2025-06-10T14:55:00Z');
    const now = new Date('2025-06-10T15:00:00Z');
    const price = (await t.suite.deps.market.priceAt('JPM', lastTickAt))!.price;
    const cost = notionalCents(10, price);
    await sql`insert into positions (run_id, symbol, quantity, avg_cost, cost_basis, opened_at, stop_price)
              values (${run.run_id}, 'JPM', 10, ${price}, ${cost / 100}, ${lastTickAt}, ${price * 2})`;
    await sql`update runs set cash = cash - ${cost / 100}, clock = ${lastTickAt} where id = ${run.run_id}`;

    expect(await tickLiveRuns(t.suite.deps, new Date(lastTickAt.getTime() + 30_000))).toEqual([]); // under a minute: nothing
    const events = await tickLiveRuns(t.suite.deps, now);
    const mine = events.filter((e) => e.symbol === 'JPM' && e.trigger === 'stop_loss');
    expect(mine).toHaveLength(1);
    const firstBar = (await t.suite.deps.market.barsClosedBetween('JPM', 'minute', lastTickAt, now))[0]!;
    expect(mine[0]).toMatchObject({ side: 'sell', quantity: 10, price: firstBar.o });

    const [acct] = await sql`select cash, realized_pnl, clock from runs where id = ${run.run_id}`;
    expect(new Date(acct!.clock).toISOString()).toBe(now.toISOString());
    expect(toCents(acct!.cash)).toBe(toCents(10_000) - cost + notionalCents(10, firstBar.o));
    expect(toCents(acct!.realized_pnl)).toBe(notionalCents(10, firstBar.o) - cost);
    expect(await sql`select * from positions where run_id = ${run.run_id}`).toHaveLength(0);
    const [point] = await sql`select total_value from equity_snapshots where run_id = ${run.run_id} and clock = ${now}`;
    expect(toCents(point!.total_value)).toBe(toCents(acct!.cash));
  });
});
