// The incident, end to end through MCP clients: an agent with no rules puts 97% of the account
// into one stock in a daily replay on bars this test writes, and draws down 19.4%.
// suggest_rules proposes a position cap with the drawdown under it measured by replay;
// replay_with_rules with that rule gives the same numbers; a stop-loss counterfactual exits
// earlier than the agent did, with the P&L worked out by hand. Every figure below is computed
// by hand from the bars in BARS (commission and slippage are 0).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { upsertBars } from '../../shared/market/bars-store.js';
import { dayBarStart } from '../../shared/domain/calendar.js';
import { resultBytes } from '../../shared/mcp/paging.js';

const SYMBOL = 'CRSH';
// date, open, high, low, close
const BARS: [string, number, number, number, number][] = [
  ['2025-03-03', 100, 101, 99, 100],
  ['2025-03-04', 97.5, 99, 94, 95],
  ['2025-03-05', 95, 96, 89, 90],
  ['2025-03-06', 90, 91, 84, 85],
  ['2025-03-07', 85, 86, 79, 80],
  ['2025-03-10', 80, 84, 79, 83],
  ['2025-03-11', 83, 86, 82, 85],
];

let t: TestSuite;
let runs: Client, rules: Client, trade: Client, analyst: Client, readOnly: Client;
let modelId: number;
let runId: number;

beforeAll(async () => {
  t = await bootSuite();
  await upsertBars(t.suite.deps.sql, SYMBOL, 'day', 'imported', BARS.map(([d, o, h, l, c]) => ({ t: dayBarStart(d).toISOString(), o, h, l, c, v: 1_000_000 })));
  const { key } = await t.user();
  [runs, rules, trade, analyst] = await Promise.all(['runs', 'rules', 'trade', 'analyst'].map((s) => t.client(s as any, key)));
  readOnly = await t.client('analyst', (await t.user(['read'])).key);
});
afterAll(() => t?.close());

describe('the incident: 97% in one stock, no rules', () => {
  it('drives the daily replay: ten buys of 97 shares at $100, all sold at $80 five days later', async () => {
    const model = await ok(runs, 'create_model', { name: 'All in', initial_cash: 100_000 });
    modelId = model.model_id;
    const run = await ok(runs, 'start_run', { model_id: modelId, kind: 'replay', timespan: 'day', start: '2025-03-03', end: '2025-03-11', symbols: [SYMBOL] });
    runId = run.run_id;
    for (let i = 0; i < 10; i++) {
      const r = await ok(trade, 'buy', { model_id: modelId, symbol: SYMBOL, quantity: 97, reasoning: `tranche ${i + 1}` });
      expect(r.status).toBe('filled');
      expect(r.fill_price).toBe(100);
    }
    await ok(runs, 'advance_run', { run_id: runId, steps: 5 }); // to 03-10, open $80
    const sold = await ok(trade, 'sell', { model_id: modelId, symbol: SYMBOL, quantity: 970, reasoning: 'capitulate' });
    expect(sold.fill_price).toBe(80);
    await ok(runs, 'advance_run', { run_id: runId, steps: 1 });
    const end = await ok(runs, 'end_run', { run_id: runId });
    // cash after the buys: 100,000 − 970 × 100 = 3,000; after the sale 3,000 + 970 × 80 = 80,600
    expect(end.final_stats.final_value).toBe(80_600);
  });

  it('detect_threats (helper threats) flags the concentration as critical and the drawdown', async () => {
    const d = await ok(analyst, 'detect_threats', { model_id: modelId, run_id: runId });
    const types = d.events.map((e: any) => `${e.type}:${e.severity}`);
    expect(types).toContain('concentration:critical');
    expect(d.events.some((e: any) => e.type === 'drawdown')).toBe(true);
  });

  it('suggest_rules does not rank the position caps (they refuse 9, 8 or 7 of the 10 entries: "stops the agent trading"); the 2% stop is first, in-sample and out-of-sample', async () => {
    const s = await ok(analyst, 'suggest_rules', { run_id: runId });
    expect(s.nothing_to_suggest).toBeNull();
    const concentration = s.findings.find((f: any) => f.kind === 'concentration');
    // the highest weight at an equity point: 03-04 open, 970 × 97.5 / (3,000 + 970 × 97.5) = 94,575 / 97,575
    expect(concentration.text).toContain(`${((94_575 / 97_575) * 100).toFixed(1)}%`);
    // a 10% cap lets 1 of the 10 buys of $9,700 through (a second makes $19,400 > $10,000): 9 of 10 refused
    expect(concentration.suggested).toBe(false);
    expect(concentration.why_not).toContain('Max 10% per position: stops the agent trading: it refuses 9 of its 10 entries');
    expect(s.findings.map((f: any) => f.kind)).toContain('drawdown');
    expect(s.suggestions.every((x: any) => x.rule.rule_category !== 'position_sizing')).toBe(true);
    expect(s.candidates_tried).toBeGreaterThanOrEqual(6); // 3 caps, 3 drawdown halts, 3 stops at least
    expect(s.hindsight).toMatch(/^In-sample effects are hindsight/);

    const top = s.suggestions[0];
    expect(top.rule).toMatchObject({ model_id: modelId, rule_category: 'stop_loss', enforcement_params: { stop_loss_pct: 0.02 }, created_by: 'ai_suggested' });
    expect(top.effect_label).toMatch(/^in-sample \(hindsight\)/);
    // in-sample: the original's low point 80,600 at the 03-10 open → −19.4%; the 2% stop gaps out
    // at the 97.5 open on 03-04: 3,000 + 970 × 97.5 = 97,575 → −2.425%
    expect(top.effect.max_drawdown.before).toBeCloseTo(80_600 / 100_000 - 1, 12);
    expect(top.effect.max_drawdown.after).toBeCloseTo(97_575 / 100_000 - 1, 12);
    expect(top.effect.round_trips).toEqual({ before: 10, after: 10 });
    // walk-forward: 6 sessions after the start value; the first 4 (03-04…03-07) choose, the last 2 measure
    expect(s.walk_forward).toMatchObject({ first: { from: '2025-03-04', to: '2025-03-07', sessions: 4 }, rest: { from: '2025-03-10', to: '2025-03-11', sessions: 2 } });
    const oos = top.out_of_sample;
    expect(oos.enforcement_params).toEqual({ stop_loss_pct: 0.02 }); // the tightest stop also wins on the first part
    // the rest, from the 03-07 open (3,000 + 970 × 85 = 85,450): the original falls to 80,600 and stays; the stop is flat
    expect(oos.effect.total_return.before).toBeCloseTo(80_600 / 85_450 - 1, 12);
    expect(oos.effect.max_drawdown.before).toBeCloseTo(80_600 / 85_450 - 1, 12);
    expect(oos.effect.total_return.after).toBe(0);
    expect(oos.effect.max_drawdown.after).toBe(0);
    expect(oos.helped).toBe(true);
    expect(oos.other_runs).toEqual([]); // the model has no other finished run
    const r = await call(analyst, 'suggest_rules', { run_id: runId });
    expect(r.text).toContain(`in-sample: max drawdown -19.40% → ${((97_575 / 100_000 - 1) * 100).toFixed(2)}%`);
    expect(r.text).toContain('out-of-sample ({"stop_loss_pct":0.02} chosen on 4 session(s), measured on the last 2)');
    expect(r.text).toContain('In-sample effects are hindsight');
    expect(resultBytes({ structuredContent: s })).toBeLessThan(16 * 1024);
  });

  it('replay_with_rules with the 10% cap: 9 of the 10 buys refused, the sale cut to 97 shares (figures by hand)', async () => {
    const rule = { rule_name: 'Max 10% per position', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.1 } };
    const r = await ok(analyst, 'replay_with_rules', { run_id: runId, rules: [rule] });
    // original low 80,600 → −19.4%; under the cap the low point is 90,300 + 97 × 80 = 98,060 → −1.94%
    expect(r.metrics.original.max_drawdown).toBeCloseTo(80_600 / 100_000 - 1, 12);
    expect(r.metrics.counterfactual.max_drawdown).toBeCloseTo(98_060 / 100_000 - 1, 12);
    expect(r.final.counterfactual.value).toBe(98_060);
    const refused = r.changed_orders.filter((c: any) => c.side === 'buy');
    expect(refused).toHaveLength(9);
    expect(refused[0].counterfactual.reasons[0]).toContain("Rule 'Max 10% per position'");
    const sale = r.changed_orders.find((c: any) => c.side === 'sell');
    expect(sale.changes).toContain('quantity');
    expect(sale.original).toMatchObject({ status: 'filled', quantity: 970, fill_price: 80 });
    expect(sale.counterfactual).toMatchObject({ status: 'filled', quantity: 97, fill_price: 80 });
  });

  it("the walk-forward pick is also measured on the model's other finished runs, each under its own frozen rules", async () => {
    // a second run of the same model over the same bars, the same ten buys and the sale at $80
    const run2 = (await ok(runs, 'start_run', { model_id: modelId, kind: 'replay', timespan: 'day', start: '2025-03-03', end: '2025-03-11', symbols: [SYMBOL] })).run_id;
    for (let i = 0; i < 10; i++) expect((await ok(trade, 'buy', { model_id: modelId, symbol: SYMBOL, quantity: 97 })).status).toBe('filled');
    await ok(runs, 'advance_run', { run_id: run2, steps: 5 });
    await ok(trade, 'sell', { model_id: modelId, symbol: SYMBOL, quantity: 970 });
    await ok(runs, 'end_run', { run_id: run2 });
    const s = await ok(analyst, 'suggest_rules', { run_id: runId });
    // same prices, same orders: −19.4% → −2.425% there too (hand figures of the first test)
    expect(s.suggestions[0].out_of_sample.other_runs).toEqual([
      { run_id: run2, total_return: { before: expect.closeTo(-0.194, 12), after: expect.closeTo(-0.02425, 12) }, max_drawdown: { before: expect.closeTo(-0.194, 12), after: expect.closeTo(-0.02425, 12) }, helped: true },
    ]);
  });

  it('risk_score on the same run is high, with concentration the largest factor', async () => {
    const s = await ok(analyst, 'risk_score', { run_id: runId });
    expect(['high', 'extreme']).toContain(s.band);
    expect(s.top[0]).toBe('concentration');
    // the highest weight, as suggest_rules found it: 94,575 / 97,575 at the 03-04 open, at or over the extreme level
    const conc = s.factors.find((f: any) => f.name === 'concentration');
    expect(conc.normalized).toBe(1);
    expect(s.missing_protections).toContain('position cap');
  });

  it('the run report gains a suggestions section with the same measured figures', async () => {
    const [before] = await t.suite.deps.sql`select count(*)::int as n from rules where model_id = ${modelId}`;
    const res = await analyst.readResource({ uri: `aibt://runs/${runId}/report` });
    const text = (res.contents[0] as { text: string }).text;
    const section = text.slice(text.indexOf('## Suggested rules'));
    expect(text.indexOf('## Suggested rules')).toBeGreaterThan(text.indexOf('## Threats'));
    expect(section).toContain('In-sample effects are hindsight');
    expect(section).toContain('Here: chosen on 2025-03-04…2025-03-07 (4 session(s)), measured on 2025-03-10…2025-03-11 (2).');
    // rank 1: the 2% stop, in-sample −19.40% → −2.43% (97,575 / 100,000 − 1 = −2.425%, toFixed rounds the binary value)
    const stop = section.split('\n').find((l) => l.startsWith('| 1 |'))!;
    expect(stop).toContain(`'Stop loss 2%' (stop_loss {"stop_loss_pct":0.02})`);
    expect(stop).toContain(`| -19.40% → ${((97_575 / 100_000 - 1) * 100).toFixed(2)}% |`);
    // out of sample: 80,600 / 85,450 − 1 = −5.68% → 0.00%
    expect(stop).toContain(`| ${((80_600 / 85_450 - 1) * 100).toFixed(2)}% → 0.00% | ${((80_600 / 85_450 - 1) * 100).toFixed(2)}% → 0.00% |`);
    expect(section).not.toContain('position_sizing');
    const [after] = await t.suite.deps.sql`select count(*)::int as n from rules where model_id = ${modelId}`;
    expect(after!.n).toBe(before!.n); // reading the report creates no rule
  });

  it('a 5% stop-loss rule exits on 03-04 at $95, earlier than the agent, with the P&L by hand', async () => {
    const r = await ok(analyst, 'replay_with_rules', {
      run_id: runId,
      rules: [{ rule_name: 'Stop 5%', rule_category: 'stop_loss', enforcement_params: { stop_loss_pct: 0.05 } }],
    });
    // level 100 × 0.95 = 95: the 03-04 bar (open 97.5, low 94) touches it inside → exit at 95,
    // stamped at that bar's end, 16:00 New York = 21:00 UTC.
    expect(r.exits).toHaveLength(1);
    expect(r.exits[0]).toMatchObject({ symbol: SYMBOL, side: 'sell', quantity: 970, price: 95, trigger: 'Stop 5%', time: '2025-03-04T21:00:00.000Z', in_original: false });
    expect(r.exits[0].realized_pnl).toBe(970 * (95 - 100)); // −4,850 against the agent's 970 × (80 − 100) = −19,400
    expect(r.final.counterfactual.realized_pnl).toBe(-4_850);
    expect(r.final.counterfactual.value).toBe(3_000 + 970 * 95);
    const sale = r.changed_orders.find((c: any) => c.side === 'sell');
    expect(sale.counterfactual.status).toBe('rejected');
    expect(sale.counterfactual.reasons[0]).toContain('no CRSH is held');
    expect(r.metrics.counterfactual.max_drawdown).toBeCloseTo(95_150 / 100_000 - 1, 12);
  });

  it('apply: true needs rules:write, then creates the rules, shown in the rules history', async () => {
    const denied = await call(readOnly, 'suggest_rules', { run_id: runId, apply: true });
    expect(denied.isError).toBe(true);
    expect(denied.text).toContain("'rules:write'");
    const s = await ok(analyst, 'suggest_rules', { run_id: runId, max_suggestions: 1, apply: true });
    expect(s.suggestions).toHaveLength(1);
    expect(s.suggestions[0].created).toMatchObject({ model_id: modelId, rule_name: 'Stop loss 2%', created_by: 'ai_suggested' });
    const history = await ok(rules, 'get_rules_history', { model_id: modelId });
    expect(JSON.stringify(history)).toContain('suggest_rules');
    // the model now has that stop: asked again, the stops are skipped as already there (2% or tighter)
    const again = await ok(analyst, 'suggest_rules', { run_id: runId });
    expect(again.skipped.join(' ')).toContain('Stop loss 2%');
    expect(again.suggestions.every((x: any) => x.rule.rule_category !== 'stop_loss')).toBe(true);
  });
});

describe('bad input', () => {
  it('a run with no orders: the identity result, and nothing to suggest with the reason', async () => {
    const model = await ok(runs, 'create_model', { name: 'Idle' });
    const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-03-03', end: '2025-03-11', symbols: [SYMBOL] });
    await ok(runs, 'advance_run', { run_id: run.run_id, steps: 3 });
    const r = await ok(analyst, 'replay_with_rules', { run_id: run.run_id, rules: [{ rule_name: 'Cap', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.1 } }] });
    expect(r.partial).toBe(true); // still running: replayed up to its clock
    expect(r.orders_replayed).toBe(0);
    expect(r.equity_curve.map((p: any) => p.value)).toEqual(r.equity_curve.map((p: any) => p.original_value));
    const s = await ok(analyst, 'suggest_rules', { run_id: run.run_id });
    expect(s.suggestions).toEqual([]);
    expect(s.nothing_to_suggest).toContain('has no orders');
  });

  it('alternative rules failing the schema get create_rule\'s sentence with the rule index; another user\'s run is not found', async () => {
    const bad = await call(analyst, 'replay_with_rules', {
      run_id: runId,
      rules: [
        { rule_name: 'Fine', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.2 } },
        { rule_name: 'Typo', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 1.5 } },
      ],
    });
    expect(bad.isError).toBe(true);
    const direct = await call(rules, 'create_rule', { model_id: modelId, rule_name: 'Typo', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 1.5 } });
    expect(bad.text).toBe(`rules[1] ('Typo'): ${direct.text}`);
    const missing = await call(readOnly, 'replay_with_rules', { run_id: runId, rules: [] });
    expect(missing.isError).toBe(true);
    expect(missing.text).toBe(`Run ${runId} was not found.`);
    const missing2 = await call(readOnly, 'suggest_rules', { run_id: runId });
    expect(missing2.text).toBe(`Run ${runId} was not found.`);
  });
});
