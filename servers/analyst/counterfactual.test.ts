// replay_with_rules through real MCP clients on runs driven through the trade and runs servers:
// the identity (a run replayed under its own frozen rules reproduces its fills, cash,
// positions and equity curve to the cent), also as a fast-check property over random runs
// with every order kind (brackets with two targets, trailing stops, stop entries,
// modify_order, set_exits, close_position, approvals, halts), a stop-loss counterfactual
// checked by hand, bad input, and the bounds of the result.
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
  const SYMBOL = fc.constantFrom('WMT', 'NFLX', 'TSLA');
  const action = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('advance' as const), steps: fc.integer({ min: 1, max: 15 }) }) },
    {
      weight: 7,
      arbitrary: fc.record({
        kind: fc.constant('order' as const),
        // 'reduce': sell a long or cover a short held in the symbol (buy when flat)
        side: fc.constantFrom('buy', 'buy', 'buy', 'short', 'short', 'reduce', 'reduce', 'sell', 'cover'),
        symbol: SYMBOL,
        quantity: fc.integer({ min: 1, max: 120 }),
        type: fc.constantFrom('market', 'market', 'limit', 'stop', 'stop_limit'),
        // per mille of the price: a limit's distance (either side), a stop's distance on its far side, a stop-limit's limit from its stop
        offset: fc.integer({ min: -8, max: 8 }),
        stopOffset: fc.integer({ min: 1, max: 5 }),
        // exits attached to an opening order: a stop, two targets (with a fraction and breakeven), a trailing stop
        bracket: fc.constantFrom('none', 'none', 'stop', 'two', 'two_be', 'trail'),
        fraction: fc.constantFrom(0.25, 0.5, 0.75),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('modify' as const), offset: fc.integer({ min: -6, max: 6 }), smaller: fc.boolean() }) },
    // on a held position (the pick-th one), if any
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('exits' as const), pick: fc.nat(), what: fc.constantFrom('stop', 'target', 'trail', 'remove') }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), pick: fc.option(fc.nat(), { freq: 3 }) }) },
    { weight: 2, arbitrary: fc.constantFrom({ kind: 'cancel' as const }, { kind: 'approve' as const }, { kind: 'approve' as const }, { kind: 'halt' as const }, { kind: 'resume' as const }) },
  );
  const sample = fc.record({
    rules: fc.subarray(RULES),
    approval: fc.boolean(),
    commission: fc.constantFrom(0, 0.005),
    slippage: fc.constantFrom(0, 4),
    actions: fc.array(action, { minLength: 8, maxLength: 24 }),
  });
  /** A price `permille` per mille from `px`, in whole cents. */
  const off = (px: number, permille: number) => Math.round(px * (1 + permille / 1000) * 100) / 100;

  it('replaying under the frozen rules reproduces fills, cash, positions and the equity curve to the cent, across brackets with two targets, trailing stops, stop entries, modifications, set_exits and close_position', async () => {
    let n = 0;
    const seen = { fills: 0, exits: 0, stopEntries: 0, secondTargets: 0, trailing: 0, modified: 0, exitsSet: 0, closed: 0 };
    await fc.assert(
      fc.asyncProperty(sample, async (s) => {
        const model = await ok(runs, 'create_model', { name: `prop ${++n} ${Date.now()}`, initial_cash: 200_000, allow_short: true, require_approval: s.approval, commission_per_share: s.commission, slippage_bps: s.slippage });
        for (const r of s.rules) await ok(rules, 'create_rule', { model_id: model.model_id, ...r });
        const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-06-11', end: '2025-06-11', symbols: ['WMT', 'NFLX', 'TSLA'] });
        const priceOf = async (symbol: string) => (await ok(price, 'get_price', { symbol, run_id: run.run_id })).price as number;
        let lastOpen: { id: number; type: string; symbol: string } | null = null;
        let lastPending: number | null = null;
        for (const a of s.actions) {
          if (a.kind === 'advance') {
            const r = await ok(runs, 'advance_run', { run_id: run.run_id, steps: a.steps });
            if (r.done) break;
          } else if (a.kind === 'order') {
            const px = await priceOf(a.symbol);
            let side = a.side;
            if (side === 'reduce') {
              const held = (await ok(trade, 'get_portfolio', { run_id: run.run_id })).positions.find((p: any) => p.symbol === a.symbol)?.quantity ?? 0;
              side = held > 0 ? 'sell' : held < 0 ? 'cover' : 'buy';
            }
            const up = side === 'buy' || side === 'cover';
            const args: Record<string, unknown> = { model_id: model.model_id, symbol: a.symbol, quantity: a.quantity, order_type: a.type };
            // the price the order expects to fill near: a stop entry's stop, else the market
            let ref = px;
            if (a.type === 'limit') args.limit_price = off(px, a.offset);
            if (a.type === 'stop' || a.type === 'stop_limit') {
              ref = off(px, up ? a.stopOffset : -a.stopOffset);
              args.stop_price = ref;
              if (a.type === 'stop_limit') args.limit_price = off(ref, up ? a.offset : -a.offset);
            }
            if (side === 'buy' || side === 'short') {
              const dir = side === 'buy' ? 1 : -1;
              if (a.bracket === 'stop' || a.bracket === 'two_be') args.stop_loss = off(ref, -5 * dir);
              if (a.bracket === 'two' || a.bracket === 'two_be') Object.assign(args, { take_profit: off(ref, 2 * dir), take_profit_2: off(ref, 4 * dir), first_target_fraction: a.fraction });
              if (a.bracket === 'two_be') args.breakeven_after_first_target = true;
              if (a.bracket === 'trail') args.trailing_stop_pct = 0.003;
            }
            const r = await call(trade, side, args);
            if (!r.isError && r.data.status === 'open') lastOpen = { id: r.data.order_id, type: a.type, symbol: a.symbol };
            if (!r.isError && r.data.status === 'pending_approval') lastPending = r.data.order_id;
          } else if (a.kind === 'modify' && lastOpen !== null) {
            const px = await priceOf(lastOpen.symbol);
            const args: Record<string, unknown> = { order_id: lastOpen.id };
            if (lastOpen.type === 'stop') args.stop_price = off(px, a.offset);
            else args.limit_price = off(px, a.offset);
            if (a.smaller) args.quantity = 1;
            const r = await call(trade, 'modify_order', args);
            if (!r.isError && r.data.modified) seen.modified++;
          } else if (a.kind === 'exits') {
            const positions = (await ok(trade, 'get_portfolio', { run_id: run.run_id })).positions;
            const held = positions[a.pick % Math.max(1, positions.length)];
            if (!held) continue;
            const dir = held.quantity > 0 ? 1 : -1;
            const px = held.price as number;
            const changes =
              a.what === 'stop' ? { stop_loss: off(px, -3 * dir) } : a.what === 'target' ? { take_profit: off(px, 2 * dir) } : a.what === 'trail' ? { trailing_stop_pct: 0.002 } : { stop_loss: null, trailing_stop_pct: null };
            const r = await call(trade, 'set_exits', { model_id: model.model_id, symbol: held.symbol, ...changes });
            if (!r.isError) seen.exitsSet++;
          } else if (a.kind === 'close') {
            const positions = (await ok(trade, 'get_portfolio', { run_id: run.run_id })).positions;
            const one = a.pick === null ? null : positions[a.pick % Math.max(1, positions.length)];
            const r = await call(trade, 'close_position', one ? { model_id: model.model_id, symbol: one.symbol } : { model_id: model.model_id, all: true });
            if (!r.isError) seen.closed += r.data.orders.filter((o: any) => o.status === 'filled').length;
          } else if (a.kind === 'cancel' && lastOpen !== null) {
            await call(trade, 'cancel_order', { order_id: lastOpen.id });
            lastOpen = null;
          } else if (a.kind === 'approve' && lastPending !== null) {
            const r = await call(trade, 'approve_order', { order_id: lastPending });
            if (!r.isError && r.data.status === 'open') lastOpen = { id: r.data.order_id, type: r.data.order_type, symbol: r.data.symbol };
            lastPending = null;
          } else if (a.kind === 'halt') {
            await ok(trade, 'halt_trading', { model_id: model.model_id, reason: 'a person stepped in', mode: 'reducing' });
          } else if (a.kind === 'resume') {
            await call(trade, 'resume_trading', { model_id: model.model_id });
          }
        }
        await ok(runs, 'end_run', { run_id: run.run_id });
        const replay = await expectIdentity(run.run_id);
        const typeOf = new Map(replay.orders.map((o) => [o.order_id, o.order_type]));
        seen.fills += replay.fills.length;
        seen.exits += replay.fills.filter((f) => f.source !== 'agent').length;
        seen.stopEntries += replay.fills.filter((f) => f.source === 'agent' && /stop/.test(typeOf.get(f.order_id) ?? '')).length;
        seen.secondTargets += replay.fills.filter((f) => f.source === 'take_profit_2').length;
        seen.trailing += replay.fills.filter((f) => f.source === 'trailing_stop').length;
      }),
      { numRuns: 10, seed: 12, endOnFailure: true },
    );
    console.log('property samples saw', JSON.stringify(seen));
    // each new order kind traded in the samples: the property was not vacuous
    for (const [kind, count] of Object.entries(seen)) expect(count, kind).toBeGreaterThan(0);
  });
});
