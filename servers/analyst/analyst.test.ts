// The analyst through real MCP clients: a minute replay with known trades (partial exits, a
// short, commission and slippage set), its metrics recomputed by hand from the same equity
// points, its FIFO round trips worked out by hand, the reconcile to the cent, and compare_runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';

let t: TestSuite;
let runs: Client, rules: Client, trade: Client, analyst: Client;
let modelId: number;
let run1: number;
let run2: number;
const fills: Record<string, { price: number; commission: number; slippage: number; quantity: number }> = {};

beforeAll(async () => {
  t = await bootSuite();
  const { key } = await t.user();
  [runs, rules, trade, analyst] = await Promise.all(['runs', 'rules', 'trade', 'analyst'].map((s) => t.client(s as any, key)));
});
afterAll(() => t?.close());

const ticks = (p: number) => Math.round(p * 10_000);
/** (exit − entry) × q in cents, exact for q a multiple of 100 (prices have 4 decimals). */
const moveCents = (entry: number, exit: number, q: number) => ((ticks(exit) - ticks(entry)) * q) / 100;

async function order(side: string, symbol: string, quantity: number, tag: string, reasoning: string) {
  const r = await ok(trade, side, { model_id: modelId, symbol, quantity, reasoning });
  expect(r.status, `${tag}: ${JSON.stringify(r.rejections)}`).toBe('filled');
  fills[tag] = { price: r.fill_price, commission: r.commission, slippage: r.slippage, quantity };
  return r;
}

describe('analyst on a minute replay with known trades', () => {
  it('drives the run', async () => {
    const model = await ok(runs, 'create_model', {
      name: 'Analyst subject',
      initial_cash: 1_000_000,
      allow_short: true,
      commission_per_share: 0.01,
      slippage_bps: 5,
      instructions: 'Trade the open.',
    });
    modelId = model.model_id;
    await ok(rules, 'create_rule', { model_id: modelId, rule_name: 'Max half', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.5 } });
    const run = await ok(runs, 'start_run', { model_id: modelId, kind: 'replay', timespan: 'minute', start: '2025-06-10', end: '2025-06-10', symbols: ['JPM', 'KO'] });
    run1 = run.run_id;
    const step = (steps: number) => ok(runs, 'advance_run', { run_id: run1, steps });
    await step(5);
    await ok(runs, 'log_reasoning', { run_id: run1, reasoning_type: 'decision', content: 'Decision: JPM opening strength, buy 200.' });
    await order('buy', 'JPM', 200, 'b1', 'JPM lot one');
    await step(10);
    await order('buy', 'JPM', 200, 'b2', 'JPM lot two');
    await ok(runs, 'log_reasoning', { run_id: run1, reasoning_type: 'decision', content: 'Decision: KO looks weak, short 200.' });
    await order('short', 'KO', 200, 's1', 'KO short');
    await step(15);
    await ok(runs, 'log_reasoning', { run_id: run1, reasoning_type: 'decision', content: 'Decision: take most of JPM off.' });
    await order('sell', 'JPM', 300, 'x1', 'JPM partial exit');
    await order('cover', 'KO', 100, 'c1', 'KO half cover');
    await step(20);
    await order('sell', 'JPM', 100, 'x2', 'JPM rest');
    await order('cover', 'KO', 100, 'c2', 'KO rest');
    await step(5);
    await ok(runs, 'end_run', { run_id: run1 });
  });

  it('analyze_trades gives the hand-computed FIFO lots, and reconciles to the cent', async () => {
    const a = await ok(analyst, 'analyze_trades', { run_id: run1, limit: 100 });
    const f = fills;
    const c = (tag: string, q: number) => Math.round((f[tag]!.commission * 100 * q) / f[tag]!.quantity);
    // FIFO by hand: JPM 200@b1 + 200@b2; sell 300 closes b1 (200) and 100 of b2; sell 100 closes the rest of b2.
    const expected = [
      { symbol: 'JPM', direction: 'long', quantity: 200, entry: 'b1', exit: 'x1', cents: moveCents(f.b1!.price, f.x1!.price, 200) - c('b1', 200) - c('x1', 200) },
      { symbol: 'JPM', direction: 'long', quantity: 100, entry: 'b2', exit: 'x1', cents: moveCents(f.b2!.price, f.x1!.price, 100) - c('b2', 100) - c('x1', 100) },
      { symbol: 'KO', direction: 'short', quantity: 100, entry: 's1', exit: 'c1', cents: -moveCents(f.s1!.price, f.c1!.price, 100) - c('s1', 100) - c('c1', 100) },
      { symbol: 'JPM', direction: 'long', quantity: 100, entry: 'b2', exit: 'x2', cents: moveCents(f.b2!.price, f.x2!.price, 100) - c('b2', 100) - c('x2', 100) },
      { symbol: 'KO', direction: 'short', quantity: 100, entry: 's1', exit: 'c2', cents: -moveCents(f.s1!.price, f.c2!.price, 100) - c('s1', 100) - c('c2', 100) },
    ];
    const got = [...a.round_trips].sort((x: any, y: any) => x.exit_time.localeCompare(y.exit_time) || x.symbol.localeCompare(y.symbol) || x.entry_time.localeCompare(y.entry_time));
    expect(got.map((r: any) => [r.symbol, r.direction, r.quantity, r.entry_price, r.exit_price, Math.round(r.pnl * 100)])).toEqual(
      expected.map((e) => [e.symbol, e.direction, e.quantity, f[e.entry]!.price, f[e.exit]!.price, e.cents]),
    );
    // commission 1 cent a share on both sides; slippage 5 bps is in the prices and reported beside
    expect(got[0].commission).toBe(4);
    expect(got[0].slippage).toBeCloseTo(200 * (f.b1!.slippage + f.x1!.slippage), 6);
    expect(got.every((r: any) => r.exit_cause === 'agent')).toBe(true);
    expect(got[0].entry_reasoning).toBe('JPM lot one');
    expect(got[0].exit_reasoning).toBe('JPM partial exit');
    expect(got[0].entry_decision.content).toBe('Decision: JPM opening strength, buy 200.');
    expect(got[0].exit_decision.content).toBe('Decision: take most of JPM off.');
    expect(got[2].entry_decision.content).toBe('Decision: KO looks weak, short 200.');
    // the copies of order reasoning in the log are not taken for the decision before an order
    expect(got[3].entry_decision.content).toBe('Decision: JPM opening strength, buy 200.');
    expect(got[3].exit_decision.content).toBe('Decision: take most of JPM off.');
    // MAE/MFE by hand: the worst and best P&L the round trip would have shown closed at its
    // entry or exit fill price or at the lowest low / highest high of the minute bars that
    // closed while it was open (pyfolio's round-trip excursions; costs included), so they
    // bracket its P&L
    const price = await t.client('price', (await t.user()).key);
    for (const r of got) {
      const { bars } = await ok(price, 'get_bars', { symbol: r.symbol, timespan: 'minute', from: new Date(Date.parse(r.entry_time) - 60_000).toISOString(), to: r.exit_time, limit: 1000 });
      const seen = bars.filter((b: any) => Date.parse(b.t) + 60_000 > Date.parse(r.entry_time));
      const sign = r.direction === 'long' ? 1 : -1;
      const pnlAt = (p: number) => r.pnl + sign * (p - r.exit_price) * r.quantity;
      const values = [r.entry_price, r.exit_price, ...seen.map((b: any) => b.l), ...seen.map((b: any) => b.h)].map(pnlAt);
      expect(r.mae).toBeCloseTo(Math.min(0, ...values), 2);
      expect(r.mfe).toBeCloseTo(Math.max(0, ...values), 2);
      expect(r.mae).toBeLessThanOrEqual(Math.min(0, r.pnl));
      expect(r.mfe).toBeGreaterThanOrEqual(Math.max(0, r.pnl));
      expect(r.mae_pct).toBeCloseTo(r.mae / (r.entry_price * r.quantity), 6);
      expect(r.excursion_bars).toBe('minute');
    }

    // The reconcile: Σ closed round trips = the run's realized P&L, to the cent.
    const run = await ok(trade, 'get_portfolio', { run_id: run1 });
    expect(run.positions).toEqual([]);
    const total = expected.reduce((s, e) => s + e.cents, 0);
    expect(Math.round(a.totals.closed_pnl * 100)).toBe(total);
    expect(Math.round(a.totals.ledger_realized_pnl * 100)).toBe(Math.round(run.realized_pnl * 100));
    expect(Math.round(a.totals.closed_pnl * 100)).toBe(Math.round(run.realized_pnl * 100));
    expect(a.open_positions).toEqual([]);
    expect(a.findings.length).toBeGreaterThan(0);
    for (const s of a.findings) expect(s).toMatch(/\d/);
    expect(a.groups.map((g: any) => g.key)).toEqual(['JPM', 'KO']);
    expect(a.groups[0].count).toBe(3);

    const byHour = await ok(analyst, 'analyze_trades', { run_id: run1, group_by: 'hour', filter: 'losing' });
    expect(byHour.round_trips.every((r: any) => r.pnl <= 0)).toBe(true);
    expect(byHour.matched).toBe(expected.filter((e) => e.cents <= 0).length);
    const page = await ok(analyst, 'analyze_trades', { run_id: run1, limit: 2 });
    expect(page).toMatchObject({ truncated: true, next_cursor: expect.any(String), matched: 5 });
    expect(page.round_trips).toEqual(a.round_trips.slice(0, 2));
    const next = await ok(analyst, 'analyze_trades', { run_id: run1, limit: 2, cursor: page.next_cursor });
    expect(next.round_trips[0]).toEqual(a.round_trips[2]);
  });

  it('calculate_metrics equals the hand computation from the same equity points (1e-9)', async () => {
    const rows = await t.suite.deps.sql`select total_value from equity_snapshots where run_id = ${run1} order by clock`;
    const v = rows.map((r) => Number(r.total_value));
    const r: number[] = [];
    for (let i = 1; i < v.length; i++) r.push(v[i]! / v[i - 1]! - 1);
    const n = r.length;
    const ppy = 252 * 390;
    const mean = r.reduce((s, x) => s + x, 0) / n;
    const sd = Math.sqrt(r.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
    const dd = Math.sqrt(r.reduce((s, x) => s + Math.min(x, 0) ** 2, 0) / n);
    let peak = v[0]!;
    let mdd = 0;
    for (const x of v) {
      peak = Math.max(peak, x);
      mdd = Math.min(mdd, x / peak - 1);
    }
    const total = v[n]! / v[0]! - 1;
    const annual = Math.pow(1 + total, ppy / n) - 1;

    // one session: by default one daily return (start value → the session's close), Sharpe undefined
    const daily = (await ok(analyst, 'calculate_metrics', { run_id: run1 })).runs[0];
    expect(daily).toMatchObject({ returns_basis: 'session_close', periods: 1, periods_per_year: 252, sharpe: null, volatility: null });
    expect(Math.abs(daily.total_return - total)).toBeLessThan(1e-9);
    expect(Math.abs(daily.annualized_return - (Math.pow(1 + total, 252) - 1))).toBeLessThan(1e-9);
    expect(Math.abs(daily.max_drawdown - mdd)).toBeLessThan(1e-9); // the drawdown reads every step
    expect(daily.notes.join(' ')).toMatch(/sharpe is null: sharpe needs at least 2 returns/);

    const m = (await ok(analyst, 'calculate_metrics', { run_id: run1, returns: 'per_step' })).runs[0];
    expect(m.returns_basis).toBe('per_step');
    expect(m.periods).toBe(n);
    expect(m.periods_per_year).toBe(ppy);
    expect(m.start_value).toBe(1_000_000);
    expect(m.end_value).toBe(v[n]);
    expect(Math.abs(m.total_return - total)).toBeLessThan(1e-9);
    expect(Math.abs(m.volatility - sd * Math.sqrt(ppy))).toBeLessThan(1e-9);
    expect(Math.abs(m.sharpe - (mean / sd) * Math.sqrt(ppy))).toBeLessThan(1e-9);
    expect(Math.abs(m.sortino - (mean / dd) * Math.sqrt(ppy))).toBeLessThan(1e-9);
    expect(Math.abs(m.max_drawdown - mdd)).toBeLessThan(1e-9);
    expect(Math.abs(m.annualized_return - annual) / Math.max(1, Math.abs(annual))).toBeLessThan(1e-9);
    expect(Math.abs(m.best_period.return - Math.max(...r))).toBeLessThan(1e-12);
    expect(Math.abs(m.worst_period.return - Math.min(...r))).toBeLessThan(1e-12);

    const a = await ok(analyst, 'analyze_trades', { run_id: run1, limit: 100 });
    const pnls = a.round_trips.map((x: any) => Math.round(x.pnl * 100));
    const wins = pnls.filter((p: number) => p > 0);
    const losses = pnls.filter((p: number) => p <= 0);
    expect(m.round_trips).toBe(5);
    expect(m.win_rate).toBe(wins.length / 5);
    const gw = wins.reduce((s: number, p: number) => s + p, 0);
    const gl = -losses.reduce((s: number, p: number) => s + p, 0);
    if (gl > 0) expect(m.profit_factor).toBeCloseTo(gw / gl, 12);
    // commission: 1 cent × (200 + 200 + 200 + 300 + 100 + 100 + 100) shares
    expect(m.commission_paid).toBeCloseTo(12, 9);
    const slip = Object.values(fills).reduce((s, x) => s + x.slippage * x.quantity, 0);
    expect(m.slippage_paid).toBeCloseTo(slip, 6);
    const traded = Object.values(fills).reduce((s, x) => s + Math.round(x.price * x.quantity * 100), 0) / 100;
    expect(m.turnover).toBeCloseTo(traded / (v.reduce((s, x) => s + x, 0) / v.length), 9);
    expect(m.exposure).toBeGreaterThan(0);
    expect(m.exposure).toBeLessThan(1);
    expect(JSON.stringify(m)).not.toMatch(/NaN|Infinity/);
  });

  it('a buy-and-hold benchmark: its return, the excess return, bounded correlation; an unknown symbol is one sentence', async () => {
    // per step: a one-session run has one session-close return, too few for a correlation
    const m = (await ok(analyst, 'calculate_metrics', { run_id: run1, benchmark: 'JPM', returns: 'per_step' })).runs[0];
    expect(m.benchmark.symbol).toBe('JPM');
    expect(typeof m.benchmark.benchmark_return).toBe('number');
    expect(m.benchmark.excess_return).toBeCloseTo(m.total_return - m.benchmark.benchmark_return, 12);
    // buy-and-hold by hand: the as-of price at the last step over the one at the first step
    const clocks = await t.suite.deps.sql`select clock from equity_snapshots where run_id = ${run1} order by clock`;
    const price = await t.client('price', (await t.user()).key);
    const first = await ok(price, 'get_price', { symbol: 'JPM', at: clocks[0]!.clock.toISOString() });
    const last = await ok(price, 'get_price', { symbol: 'JPM', at: clocks[clocks.length - 1]!.clock.toISOString() });
    expect(Math.abs(m.benchmark.benchmark_return - (last.price / first.price - 1))).toBeLessThan(1e-12);
    expect(m.benchmark.correlation).toBeGreaterThanOrEqual(-1);
    expect(m.benchmark.correlation).toBeLessThanOrEqual(1);
    const bad = await call(analyst, 'calculate_metrics', { run_id: run1, benchmark: 'NOPE' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/Unknown benchmark symbol NOPE/);
  });

  it('compare_runs lists the rule difference of two runs of one model', async () => {
    const { rules: list } = await ok(rules, 'list_rules', { model_id: modelId });
    // renamed with a new level: paired by rule id, one rule_changed with the parameter diff
    await ok(rules, 'update_rule', { rule_id: list[0].rule_id, rule_name: 'Max 60%', enforcement_params: { max_position_pct: 0.6 } });
    await ok(rules, 'create_rule', { model_id: modelId, rule_name: 'Wide stop', rule_category: 'stop_loss', enforcement_params: { stop_loss_pct: 0.5 } });
    await ok(runs, 'update_model', { model_id: modelId, slippage_bps: 2 });
    const run = await ok(runs, 'start_run', { model_id: modelId, kind: 'replay', timespan: 'minute', start: '2025-06-10', end: '2025-06-10', symbols: ['JPM'] });
    run2 = run.run_id;
    await ok(runs, 'advance_run', { run_id: run2, steps: 3 });
    await order('buy', 'JPM', 100, 'o1', 'Left open');
    await ok(runs, 'advance_run', { run_id: run2, steps: 3 });
    await ok(runs, 'end_run', { run_id: run2 });

    const cmp = await ok(analyst, 'compare_runs', { run_ids: [run1, run2] });
    const texts = cmp.differences.map((d: any) => d.text);
    expect(texts).toContain('rule <untrusted>Max half</untrusted> → <untrusted>Max 60%</untrusted>: max_position_pct 0.5 → 0.6');
    expect(cmp.differences.filter((d: any) => d.kind === 'rule_removed')).toEqual([]);
    expect(cmp.differences.find((d: any) => d.kind === 'rule_changed')).toMatchObject({ name: 'Max 60%', before: { rule_name: 'Max half', enforcement_params: { max_position_pct: 0.5 } }, after: { rule_name: 'Max 60%', enforcement_params: { max_position_pct: 0.6 } } });
    expect(texts).toContain(`rule <untrusted>Wide stop</untrusted> (stop_loss) added: {"stop_loss_pct":0.5}`);
    expect(texts).toContain('slippage_bps 5 → 2');
    expect(cmp.differences.every((d: any) => d.run_id === run2)).toBe(true);
    expect(cmp.warnings.some((w: string) => /different symbol lists/.test(w))).toBe(true);
    expect(cmp.runs.map((r: any) => r.run_id)).toEqual([run1, run2]);
    const returns = cmp.runs.map((r: any) => r.metrics.total_return);
    expect(cmp.best.total_return.run_id).toBe(returns[0] >= returns[1] ? run1 : run2);
    expect(cmp.worst.total_return.run_id).toBe(returns[0] >= returns[1] ? run2 : run1);

    // the position left open is listed apart, marked at the last price
    const a = await ok(analyst, 'analyze_trades', { run_id: run2 });
    expect(a.round_trips).toEqual([]);
    expect(a.open_positions).toHaveLength(1);
    const lot = a.open_positions[0];
    expect(lot).toMatchObject({ symbol: 'JPM', direction: 'long', quantity: 100, entry_price: fills.o1!.price });
    expect(Math.round(lot.unrealized_pnl * 100)).toBe(moveCents(fills.o1!.price, lot.last_price, 100) - 100);
  });

  it('model_id covers its runs newest first, with limit and truncated', async () => {
    const m = await ok(analyst, 'calculate_metrics', { model_id: modelId, limit: 1 });
    expect(m.runs.map((r: any) => r.run_id)).toEqual([run2]);
    expect(m.truncated).toBe(true);
    const both = await ok(analyst, 'analyze_trades', { model_id: modelId });
    expect(both.run_ids).toEqual([run2, run1]);
    expect(both.totals.closed_round_trips).toBe(5);
  });

  it('names the exit cause of a clock exit: flatten_by from a timing rule', async () => {
    await ok(rules, 'create_rule', { model_id: modelId, rule_name: 'Flat by close', rule_category: 'timing', enforcement_params: { flatten_by: '15:55' } });
    const run = await ok(runs, 'start_run', { model_id: modelId, kind: 'replay', timespan: 'minute', start: '2025-06-12T19:50:00Z', end: '2025-06-12T19:59:00Z', symbols: ['KO'] });
    await order('buy', 'KO', 100, 'f1', 'Late entry');
    await ok(runs, 'advance_run', { run_id: run.run_id, steps: 9 });
    const a = await ok(analyst, 'analyze_trades', { run_id: run.run_id });
    expect(a.round_trips).toHaveLength(1);
    expect(a.round_trips[0]).toMatchObject({ symbol: 'KO', quantity: 100, exit_cause: 'flatten_by', exit_time: '2025-06-12T19:55:00.000Z' });
    expect(a.round_trips[0].exit_reasoning).toMatch(/^Rule 'Flat by close': flatten by 15:55/);
    expect(a.findings.some((f: string) => /closed by flatten_by/.test(f))).toBe(a.round_trips[0].pnl <= 0);
    await ok(runs, 'end_run', { run_id: run.run_id });
  });

  it('bad input: one sentence, and another user sees "not found" like a missing run', async () => {
    const other = await t.client('analyst', (await t.user()).key);
    const theirs = await call(other, 'calculate_metrics', { run_id: run1 });
    const missing = await call(other, 'calculate_metrics', { run_id: 999_999 });
    expect(theirs).toMatchObject({ isError: true, text: `Run ${run1} was not found.` });
    expect(missing).toMatchObject({ isError: true, text: 'Run 999999 was not found.' });
    expect((await call(other, 'analyze_trades', { model_id: modelId })).text).toBe(`Model ${modelId} was not found.`);
    expect((await call(other, 'compare_runs', { run_ids: [run1, run2] })).text).toBe(`Run ${run1} was not found.`);
    expect((await call(analyst, 'compare_runs', { run_ids: [run1, run1] })).text).toBe(`run_ids lists run ${run1} more than once; give each run once.`);
    expect((await call(analyst, 'compare_runs', { run_ids: Array.from({ length: 11 }, (_, i) => i + 1) })).text).toBe('compare_runs compares at most 10 runs; got 11.');
    expect((await call(analyst, 'compare_runs', { run_ids: [run1] })).text).toBe('compare_runs needs 2 to 10 run ids; got 1.');
    expect((await call(analyst, 'calculate_metrics', {})).text).toBe('Give either run_id or model_id, not both and not neither.');
  });

  it('a run with no trades and a single equity point gives nulls and notes, not an error', async () => {
    const run = await ok(runs, 'start_run', { model_id: modelId, kind: 'replay', timespan: 'minute', start: '2025-06-11', end: '2025-06-11', symbols: ['JPM'] });
    const m = (await ok(analyst, 'calculate_metrics', { run_id: run.run_id })).runs[0];
    expect(m).toMatchObject({ periods: 0, total_return: 0, sharpe: null, volatility: null, win_rate: null, profit_factor: null, round_trips: 0, exposure: null });
    expect(m.notes.join(' ')).toMatch(/no closed round trip/);
    expect(m.notes.join(' ')).toMatch(/at least 2 returns/);
    const a = await ok(analyst, 'analyze_trades', { run_id: run.run_id });
    expect(a).toMatchObject({ round_trips: [], open_positions: [], findings: [], totals: { closed_round_trips: 0, closed_pnl: 0 } });
    await ok(runs, 'end_run', { run_id: run.run_id });
  });
});
