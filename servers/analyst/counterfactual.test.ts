// replay_with_rules through real MCP clients on runs driven through the trade and runs servers:
// the identity (a run replayed under its own frozen rules reproduces its fills, cash,
// positions and equity curve to the cent), a stop-loss counterfactual checked by hand, bad
// input, and the bounds of the result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Client } from '@modelcontextprotocol/client';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { loadRunFills } from '../../shared/store/analyst.js';
import { getOwnedRun } from '../../shared/store/runs.js';
import { loadPositions } from '../../shared/store/accounts.js';
import { replayRun } from '../../shared/trading/counterfactual.js';
import { toCents } from '../../shared/domain/money.js';
import { resultBytes } from '../../shared/mcp/paging.js';

let t: TestSuite;
let userId: number;
let runs: Client, rules: Client, trade: Client, analyst: Client, price: Client;

beforeAll(async () => {
  t = await bootSuite();
  const { key, name } = await t.user();
  const [u] = await t.suite.deps.sql`select id from users where name = ${name}`;
  userId = u!.id;
  [runs, rules, trade, analyst, price] = await Promise.all(['runs', 'rules', 'trade', 'analyst', 'price'].map((s) => t.client(s as any, key)));
});
afterAll(() => t?.close());

/** The frozen rule set of a model's rules as replay_with_rules takes them. */
async function ruleSetOf(modelId: number) {
  const listed = await ok(rules, 'list_rules', { model_id: modelId });
  return listed.rules.map((r: any) => ({
    rule_name: r.rule_name,
    rule_description: r.rule_description,
    rule_category: r.rule_category,
    enforcement_params: r.enforcement_params,
    ...(r.applies_to_symbols ? { applies_to_symbols: r.applies_to_symbols } : {}),
    ...(r.exclude_symbols ? { exclude_symbols: r.exclude_symbols } : {}),
    priority: r.priority,
  }));
}

/** The replay of a run under its frozen rules against the run's own books, to the cent. */
async function expectIdentity(runId: number) {
  const deps = t.suite.deps;
  const run = await getOwnedRun(deps.sql, userId, runId);
  const replay = await replayRun(deps, run, null);
  const recorded = await loadRunFills(deps.sql, runId);
  const strip = (f: { symbol: string; side: string; quantity: number; price: number; commission_cents: number; notional_cents: number; clock: string; source: string }) =>
    `${f.clock} ${f.source} ${f.side} ${f.quantity} ${f.symbol} @${f.price} fee ${f.commission_cents} notional ${f.notional_cents}`;
  // Same fills, field by field; two fills stamped with the same instant may be listed in either order.
  expect(replay.fills.map(strip).sort()).toEqual(recorded.map(strip).sort());
  expect(toCents(replay.book.cashCents / 100)).toBe(toCents(run.cash));
  expect(replay.book.realizedPnlCents).toBe(toCents(run.realized_pnl));
  const positions = await loadPositions(deps.sql, runId);
  expect([...replay.book.positions.values()].map((p) => [p.symbol, p.quantity, p.costCents]).sort()).toEqual(positions.map((p) => [p.symbol, p.quantity, p.costCents]).sort());
  expect(replay.points.map((p) => `${p.clock} ${toCents(p.value)}`)).toEqual(replay.originalPoints.map((p) => `${p.clock} ${toCents(p.value)}`));
  for (const o of replay.orders) {
    const cf = replay.book.outcomes.get(o.order_id)!;
    expect(`${o.order_id} ${cf.status} ${cf.fill_price}`).toBe(`${o.order_id} ${o.status} ${o.fill?.price ?? null}`);
  }
  return replay;
}

describe('replay_with_rules: identity on a driven minute replay', () => {
  let modelId: number;
  let runId: number;

  it('drives a minute replay with rules, exits, limits, refusals, commission and slippage', async () => {
    const model = await ok(runs, 'create_model', { name: 'Identity subject', initial_cash: 1_000_000, allow_short: true, commission_per_share: 0.005, slippage_bps: 3 });
    modelId = model.model_id;
    await ok(rules, 'create_rule', { model_id: modelId, rule_name: 'Cap 40%', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.4 } });
    await ok(rules, 'create_rule', { model_id: modelId, rule_name: 'Stop 0.3%', rule_category: 'stop_loss', enforcement_params: { stop_loss_pct: 0.003 }, applies_to_symbols: ['NFLX'] });
    await ok(rules, 'create_rule', { model_id: modelId, rule_name: 'Flat by 15:30', rule_category: 'timing', enforcement_params: { flatten_by: '15:30' } });
    const run = await ok(runs, 'start_run', { model_id: modelId, kind: 'replay', timespan: 'minute', start: '2025-06-10', end: '2025-06-10', symbols: ['WMT', 'NFLX', 'TSLA'] });
    runId = run.run_id;
    const step = (steps: number) => ok(runs, 'advance_run', { run_id: runId, steps });
    const place = (side: string, args: Record<string, unknown>) => ok(trade, side, { model_id: modelId, ...args });
    await step(3);
    const status = async (side: string, args: Record<string, unknown>, want: string) => {
      const r = await place(side, args);
      expect(r.status, JSON.stringify(r.rejections)).toBe(want);
      return r;
    };
    await status('buy', { symbol: 'WMT', quantity: 50 }, 'filled');
    await status('buy', { symbol: 'TSLA', quantity: 2000 }, 'rejected'); // over the cap
    await status('buy', { symbol: 'NFLX', quantity: 300, reasoning: 'NFLX long' }, 'filled');
    const px = await ok(trade, 'get_portfolio', { model_id: modelId });
    const jpm = px.positions.find((p: any) => p.symbol === 'WMT').price;
    const resting = await place('buy', { symbol: 'WMT', quantity: 10, order_type: 'limit', limit_price: Math.round(jpm * 0.998 * 100) / 100 });
    expect(resting.status).toBe('open');
    const cancelled = await place('buy', { symbol: 'TSLA', quantity: 5, order_type: 'limit', limit_price: 1 });
    expect(cancelled.status).toBe('open');
    await step(30);
    await ok(trade, 'cancel_order', { order_id: cancelled.order_id });
    await place('sell', { symbol: 'WMT', quantity: 30 });
    const aapl = (await ok(price, 'get_price', { symbol: 'TSLA', run_id: runId })).price;
    await status('short', { symbol: 'TSLA', quantity: 30, stop_loss: Math.round(aapl * 1.004 * 100) / 100, take_profit: Math.round(aapl * 0.5 * 100) / 100 }, 'filled');
    await place('sell', { symbol: 'NFLX', quantity: 1000 }); // more than held: refused
    await step(60);
    await place('cover', { symbol: 'TSLA', quantity: 10 });
    await step(200);
    await place('buy', { symbol: 'NFLX', quantity: 50 });
    await step(120); // through 15:30: the rest is flattened
    await ok(runs, 'end_run', { run_id: runId });
    const orders = await ok(trade, 'list_orders', { run_id: runId, limit: 100 });
    expect(orders.orders.some((o: any) => o.source !== 'agent')).toBe(true); // the clock made exits
  });

  it('reproduces fills, cash, positions and the equity curve to the cent', async () => {
    await expectIdentity(runId);
  });

  it('through MCP: the frozen rule set changes no order, and the metrics are the same', async () => {
    const r = await ok(analyst, 'replay_with_rules', { run_id: runId, rules: await ruleSetOf(modelId) });
    expect(r.partial).toBe(false);
    expect(r.orders_changed).toBe(0);
    expect(r.changed_orders).toEqual([]);
    expect(r.exits_removed).toBe(0);
    expect(r.exits.every((e: any) => e.in_original)).toBe(true);
    for (const [f, d] of Object.entries(r.metrics.difference)) if (d !== null) expect(Math.abs(d as number), f).toBeLessThan(1e-12);
    const m = await ok(analyst, 'calculate_metrics', { run_id: runId });
    expect(r.metrics.counterfactual.total_return).toBe(m.runs?.[0]?.total_return ?? m.total_return ?? r.metrics.original.total_return);
  });

  it('same input, same output; without rules, the refused orders fill and the exits go', async () => {
    const a = await call(analyst, 'replay_with_rules', { run_id: runId, rules: [] });
    const b = await call(analyst, 'replay_with_rules', { run_id: runId, rules: [] });
    expect(a.isError).toBe(false);
    expect(JSON.stringify(a.data)).toBe(JSON.stringify(b.data));
    expect(a.text).toBe(b.text);
    const aapl = a.data.changed_orders.find((c: any) => c.symbol === 'TSLA' && c.original.status === 'rejected');
    expect(aapl.counterfactual.status).toBe('filled');
    expect(aapl.original.reasons.join(' ')).toContain("Rule 'Cap 40%'");
    expect(a.data.exits_removed).toBeGreaterThan(0);
    expect(resultBytes({ content: [{ type: 'text', text: a.text }], structuredContent: a.data })).toBeLessThan(16 * 1024);
  });
});

describe('replay_with_rules: identity as a property over random order sequences (simulated market)', () => {
  const RULES = [
    { rule_name: 'Cap 30%', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.3 } },
    { rule_name: 'Stop 0.4%', rule_category: 'stop_loss', enforcement_params: { stop_loss_pct: 0.004 } },
    { rule_name: 'Trail 0.5%', rule_category: 'stop_loss', enforcement_params: { trailing_stop_pct: 0.005 } },
    { rule_name: 'Eight a day', rule_category: 'risk', enforcement_params: { max_trades_per_day: 8 } },
  ];
  const action = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), steps: fc.integer({ min: 1, max: 15 }) }) },
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('order' as const),
        side: fc.constantFrom('buy', 'buy', 'buy', 'sell', 'sell', 'short', 'cover'),
        symbol: fc.constantFrom('WMT', 'NFLX', 'TSLA'),
        quantity: fc.integer({ min: 1, max: 120 }),
        limit: fc.option(fc.integer({ min: -8, max: 8 }), { freq: 3 }),
        stop: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom({ kind: 'cancel' as const }, { kind: 'approve' as const }, { kind: 'halt' as const }, { kind: 'resume' as const }) },
  );
  const sample = fc.record({
    rules: fc.subarray(RULES),
    approval: fc.boolean(),
    commission: fc.constantFrom(0, 0.005),
    slippage: fc.constantFrom(0, 4),
    actions: fc.array(action, { minLength: 4, maxLength: 16 }),
  });

  it('replaying under the frozen rules reproduces fills, cash, positions and the equity curve to the cent', async () => {
    let n = 0;
    let fills = 0;
    let exits = 0;
    await fc.assert(
      fc.asyncProperty(sample, async (s) => {
        const model = await ok(runs, 'create_model', { name: `prop ${++n} ${Date.now()}`, initial_cash: 200_000, allow_short: true, require_approval: s.approval, commission_per_share: s.commission, slippage_bps: s.slippage });
        for (const r of s.rules) await ok(rules, 'create_rule', { model_id: model.model_id, ...r });
        const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-06-11', end: '2025-06-11', symbols: ['WMT', 'NFLX', 'TSLA'] });
        let lastOpen: number | null = null;
        let lastPending: number | null = null;
        for (const a of s.actions) {
          if (a.kind === 'advance') {
            const r = await ok(runs, 'advance_run', { run_id: run.run_id, steps: a.steps });
            if (r.done) break;
          } else if (a.kind === 'order') {
            const px = (await ok(price, 'get_price', { symbol: a.symbol, run_id: run.run_id })).price as number;
            const args: Record<string, unknown> = { model_id: model.model_id, symbol: a.symbol, quantity: a.quantity };
            if (a.limit !== null) Object.assign(args, { order_type: 'limit', limit_price: Math.round(px * (1 + a.limit / 1000) * 100) / 100 });
            if (a.stop && a.side === 'buy') args.stop_loss = Math.round(px * 0.995 * 100) / 100;
            const r = await call(trade, a.side, args);
            if (!r.isError && r.data.status === 'open') lastOpen = r.data.order_id;
            if (!r.isError && r.data.status === 'pending_approval') lastPending = r.data.order_id;
          } else if (a.kind === 'cancel' && lastOpen !== null) {
            await call(trade, 'cancel_order', { order_id: lastOpen });
            lastOpen = null;
          } else if (a.kind === 'approve' && lastPending !== null) {
            const r = await call(trade, 'approve_order', { order_id: lastPending });
            if (!r.isError && r.data.status === 'open') lastOpen = r.data.order_id;
            lastPending = null;
          } else if (a.kind === 'halt') {
            await ok(trade, 'halt_trading', { model_id: model.model_id, reason: 'a person stepped in', mode: 'reducing' });
          } else if (a.kind === 'resume') {
            await call(trade, 'resume_trading', { model_id: model.model_id });
          }
        }
        await ok(runs, 'end_run', { run_id: run.run_id });
        const replay = await expectIdentity(run.run_id);
        fills += replay.fills.length;
        exits += replay.fills.filter((f) => f.source !== 'agent').length;
      }),
      { numRuns: 6, seed: 12, endOnFailure: true },
    );
    // the samples traded and the clock made exits: the property was not vacuous
    expect(fills).toBeGreaterThan(5);
    expect(exits).toBeGreaterThan(0);
  });
});
