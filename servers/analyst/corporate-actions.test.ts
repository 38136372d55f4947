// Issue 16 items 1–4 and its bad input, through real MCP clients on bars and actions the test
// imports itself (made-up tickers, so no other test's data meets them on a shared Postgres):
// round trips through a 2-for-1, a 3-for-2 and a 1-for-3 split and a dividend on a long and on
// a short, in every analyst tool, resource and prompt, each P&L worked out by hand below from
// the bars; day P&L and loss limits on the split date and the ex-date; MAE/MFE that bracket the
// P&L; a run whose records cannot be analysed ends all the same and is one sentence elsewhere.
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCommand } from '../../shared/admin/commands.js';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';

let t: TestSuite;
let runs: Client, trade: Client, rules: Client, analyst: Client;

// Daily bars: HSPA splits 2-for-1, HTRE 3-for-2, HREV 1-for-3 on 2025-06-06 (first session on
// the new basis); HDVD pays $0.26 with ex-date 2025-08-11.
const BARS = [
  'HSPA,day,2025-06-05,100,102,99,100,1000',
  'HSPA,day,2025-06-06,50,51,49.5,50.5,2000',
  'HSPA,day,2025-06-09,51,53,50,52,2000',
  'HTRE,day,2025-06-05,120,121,119,120,1000',
  'HTRE,day,2025-06-06,80,81,79,80,1000',
  'HTRE,day,2025-06-09,82,83,81,82,1000',
  'HREV,day,2025-06-05,10,10.6,9.9,10.5,1000',
  'HREV,day,2025-06-06,31.5,32,30.5,31,1000',
  'HREV,day,2025-06-09,31,31.2,30,30.5,1000',
  'HDVD,day,2025-08-08,40,41,39,40,1000',
  'HDVD,day,2025-08-11,39.74,40,39,39.8,1000',
  'HDVD,day,2025-08-12,39.8,40,39,39.9,1000',
  // a 2-for-1 on 2025-06-06 whose day before falls through a stop: the clock's exit, stamped at
  // 06-05's close, is booked in the step that applies the split (on the new basis)
  'HSTP,day,2025-06-05,100,101,80,82,1000',
  'HSTP,day,2025-06-06,41,42,40,41.5,1000',
  // hourly bars only (no minute bars) for a minute replay
  'HHRS,hour,2025-06-10T13:30:00Z,50,52,48,51,1000',
  'HHRS,hour,2025-06-10T14:30:00Z,51,55,50,54,1000',
  'HHRS,hour,2025-06-10T15:30:00Z,54,54.5,53,53.5,1000',
  // minute bars only, no daily close to price a split's fraction (3-for-2 on 2025-06-06)
  ...[0, 1, 2, 3, 4, 5].map((m) => `HNOD,minute,2025-06-05T13:3${m}:00Z,60,60.5,59.5,60,100`),
  ...[0, 1, 2, 3, 4, 5].map((m) => `HNOD,minute,2025-06-06T13:3${m}:00Z,41,41.5,40.5,41,100`),
];
const ACTIONS = ['HSTP,split,2025-06-06,1,2,', 'HNOD,split,2025-06-06,2,3,', 'HSPA,split,2025-06-06,1,2,', 'HTRE,split,2025-06-06,2,3,', 'HREV,split,2025-06-06,3,1,', 'HDVD,dividend,2025-08-11,,,0.26'];

beforeAll(async () => {
  t = await bootSuite();
  const bars = path.join(t.dataDir, 'bars.csv');
  fs.writeFileSync(bars, ['symbol,timespan,t,open,high,low,close,volume', ...BARS].join('\n'));
  await runAdminCommand(t.suite.deps, ['import-bars', bars]);
  const actions = path.join(t.dataDir, 'actions.csv');
  fs.writeFileSync(actions, ['symbol,kind,date,split_from,split_to,cash_amount', ...ACTIONS].join('\n'));
  await runAdminCommand(t.suite.deps, ['import-actions', actions]);
  const { key } = await t.user();
  [runs, trade, rules, analyst] = await Promise.all(['runs', 'trade', 'rules', 'analyst'].map((s) => t.client(s as any, key)));
}, 120_000);
afterAll(() => t?.close());

/** A day replay with commission 1 cent a share and no slippage, and a loss-limit rule. */
async function replay(name: string, symbol: string, start: string, end: string, limit: Record<string, number>, settings: Record<string, unknown> = {}) {
  const model = await ok(runs, 'create_model', { name, initial_cash: 10_000, commission_per_share: 0.01, slippage_bps: 0, ...settings });
  await ok(rules, 'create_rule', { model_id: model.model_id, rule_name: 'Loss limit', rule_category: 'risk', enforcement_params: limit });
  const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start, end, symbols: [symbol] });
  return { model_id: model.model_id as number, run_id: run.run_id as number };
}

const order = async (model_id: number, side: string, symbol: string, quantity: number) => {
  const r = await ok(trade, side, { model_id, symbol, quantity });
  expect(r.status, JSON.stringify(r.rejections)).toBe('filled');
  return r;
};

interface Case {
  name: string;
  run_id: number;
  model_id: number;
  /** The round trip's P&L in cents, by hand. */
  pnl: number;
  quantity: number;
  entry_price: number;
  exit_price: number;
  extra: Record<string, number>;
}
const cases: Case[] = [];

describe('splits and dividends on the books and in the day P&L (items 1 and 3)', () => {
  it('2-for-1: buy 90 @ 100, the split date is flat in real terms (no halt at a 5% daily loss limit), sell 180 @ 51', async () => {
    const r = await replay('h16 2:1', 'HSPA', '2025-06-05', '2025-06-09', { daily_loss_limit_pct: 0.05 });
    await order(r.model_id, 'buy', 'HSPA', 90); // 9,000.00 + $0.90
    await ok(runs, 'advance_run', { run_id: r.run_id }); // 06-06 09:30: 180 shares
    const p = await ok(trade, 'get_portfolio', { run_id: r.run_id });
    // by hand: the 06-05 close on the new basis: 180 × 50 + cash 999.10 = 9,999.10; at the
    // 06-06 open: 180 × 50 + 999.10 = 9,999.10, so the day P&L is 0 (it read −9,000 against
    // the old close: 90 × 100 taken as 180 × 100)
    expect(p).toMatchObject({ total_value: 9_999.1, day_pnl: 0, state: 'active' });
    const [mark] = await t.suite.deps.sql`select close_value from day_marks where run_id = ${r.run_id} and day = '2025-06-05'`;
    expect(Number(mark!.close_value)).toBe(9_999.1);
    await ok(runs, 'advance_run', { run_id: r.run_id }); // 06-09 09:30, open 51
    await order(r.model_id, 'sell', 'HSPA', 180); // 9,180.00 − $1.80
    await ok(runs, 'end_run', { run_id: r.run_id });
    // by hand: 180 × 51 − 90 × 100 − 0.90 − 1.80 = $177.30
    cases.push({ name: '2-for-1', ...r, pnl: 17_730, quantity: 180, entry_price: 50, exit_price: 51, extra: { split_factor: 2 } });
  });

  it('3-for-2 on 11 shares: 16 shares and $40.00 in lieu belong to the round trip', async () => {
    const r = await replay('h16 3:2', 'HTRE', '2025-06-05', '2025-06-09', { daily_loss_limit_pct: 0.05 });
    await order(r.model_id, 'buy', 'HTRE', 11); // 1,320.00 + $0.11
    await ok(runs, 'advance_run', { run_id: r.run_id, steps: 2 });
    expect((await ok(runs, 'get_model', { model_id: r.model_id })).state).toBe('active');
    await order(r.model_id, 'sell', 'HTRE', 16); // 16 × 82 = 1,312.00 − $0.16
    await ok(runs, 'end_run', { run_id: r.run_id });
    // by hand: half a new share = 1/3 old share at the $120 close = $40.00 in lieu;
    // 1,312.00 − 1,320.00 + 40.00 − 0.11 − 0.16 = $31.73; entry 120 × 2/3 = 80
    cases.push({ name: '3-for-2', ...r, pnl: 3_173, quantity: 16, entry_price: 80, exit_price: 82, extra: { split_factor: 1.5, cash_in_lieu: 40 } });
  });

  it('1-for-3 reverse on 100 shares: 33 shares and a third of a share in lieu, no phantom lot', async () => {
    const r = await replay('h16 1:3', 'HREV', '2025-06-05', '2025-06-09', { daily_loss_limit_pct: 0.05 });
    await order(r.model_id, 'buy', 'HREV', 100); // 1,000.00 + $1.00
    await ok(runs, 'advance_run', { run_id: r.run_id, steps: 2 });
    await order(r.model_id, 'sell', 'HREV', 33); // 33 × 31 = 1,023.00 − $0.33
    await ok(runs, 'end_run', { run_id: r.run_id });
    // by hand: 100 / 3 = 33 1/3: a third of a new share = 1 old share at the $10.50 close = $10.50;
    // 1,023.00 − 1,000.00 + 10.50 − 1.00 − 0.33 = $32.17; entry 10 × 3 = 30
    cases.push({ name: '1-for-3', ...r, pnl: 3_217, quantity: 33, entry_price: 30, exit_price: 31, extra: { split_factor: 1 / 3, cash_in_lieu: 10.5 } });
  });

  it('a dividend on a long counts in the ex-date P&L: a $15 daily loss limit does not halt a flat day', async () => {
    const r = await replay('h16 dividend long', 'HDVD', '2025-08-08', '2025-08-12', { daily_loss_limit_abs: 15 });
    await order(r.model_id, 'buy', 'HDVD', 100); // 4,000.00 + $1.00
    await ok(runs, 'advance_run', { run_id: r.run_id }); // ex-date 08-11: +$26.00, open 39.74
    const p = await ok(trade, 'get_portfolio', { run_id: r.run_id });
    // by hand: 08-08 close 5,999.00 + 100 × 40 = 9,999.00 (the dividend not paid yet); 08-11 open:
    // 5,999.00 + 26.00 + 100 × 39.74 = 9,999.00: day P&L 0 (it read −26.00 and halted)
    expect(p).toMatchObject({ total_value: 9_999, day_pnl: 0, realized_pnl: 25, state: 'active' }); // 26.00 − the $1.00 entry commission
    const status = await ok(trade, 'get_trading_status', { model_id: r.model_id });
    expect([status.day_pnl, status.loss_limit_left]).toEqual([0, 15]);
    // the order path reads the same day start: a buy is not refused by the loss limit on the ex-date
    expect((await ok(trade, 'preview_order', { model_id: r.model_id, side: 'buy', symbol: 'HDVD', quantity: 1 })).rejections).toEqual([]);
    await ok(runs, 'advance_run', { run_id: r.run_id }); // 08-12, open 39.8
    await order(r.model_id, 'sell', 'HDVD', 100); // 3,980.00 − $1.00
    await ok(runs, 'end_run', { run_id: r.run_id });
    // by hand: 3,980 − 4,000 + 26 − 1 − 1 = $4.00
    cases.push({ name: 'dividend long', ...r, pnl: 400, quantity: 100, entry_price: 40, exit_price: 39.8, extra: { dividends: 26 } });
  });

  it('a dividend on a short is paid and charged to its round trip', async () => {
    const r = await replay('h16 dividend short', 'HDVD', '2025-08-08', '2025-08-12', { daily_loss_limit_abs: 50 }, { allow_short: true });
    await order(r.model_id, 'short', 'HDVD', 50); // 2,000.00 − $0.50
    await ok(runs, 'advance_run', { run_id: r.run_id, steps: 2 });
    await order(r.model_id, 'cover', 'HDVD', 50); // 50 × 39.8 = 1,990.00 + $0.50
    await ok(runs, 'end_run', { run_id: r.run_id });
    // by hand: 2,000 − 1,990 − 50 × 0.26 − 0.50 − 0.50 = −$4.00
    cases.push({ name: 'dividend short', ...r, pnl: -400, quantity: 50, entry_price: 40, exit_price: 39.8, extra: { dividends: -13 } });
  });
});

describe('every analyst reader follows the books (item 1) with excursions that bracket the P&L (item 4)', () => {
  it('analyze_trades: one round trip each, on the new basis, Σ = the ledger to the cent', async () => {
    expect(cases).toHaveLength(5);
    for (const c of cases) {
      const a = await ok(analyst, 'analyze_trades', { run_id: c.run_id });
      expect(a.open_positions, c.name).toEqual([]);
      expect(a.round_trips, c.name).toHaveLength(1);
      const rt = a.round_trips[0];
      expect([rt.quantity, rt.entry_price, rt.exit_price, Math.round(rt.pnl * 100)], c.name).toEqual([c.quantity, c.entry_price, c.exit_price, c.pnl]);
      for (const [k, v] of Object.entries(c.extra)) expect(rt[k], `${c.name} ${k}`).toBeCloseTo(v, 9);
      expect(a.totals.closed_pnl, c.name).toBe(c.pnl / 100);
      expect(a.totals.ledger_realized_pnl, c.name).toBe(c.pnl / 100);
      // MAE ≤ min(0, P&L) ≤ max(0, P&L) ≤ MFE, from the fills and the daily bars seen
      expect(rt.mae, c.name).toBeLessThanOrEqual(Math.min(0, rt.pnl));
      expect(rt.mfe, c.name).toBeGreaterThanOrEqual(Math.max(0, rt.pnl));
      expect(rt.excursion_bars, c.name).toBe('day');
    }
    // by hand for the 2-for-1: the bars closed while open (06-05, 06-06 on the new basis: lows
    // 49.5, 49.5; highs 51, 51) with the fills 50 and 51: worst 177.30 + (49.5 − 51) × 180 = −92.70,
    // best at 51: 177.30
    const split = await ok(analyst, 'analyze_trades', { run_id: cases[0]!.run_id });
    expect([split.round_trips[0].mae, split.round_trips[0].mfe]).toEqual([-92.7, 177.3]);
  });

  it('calculate_metrics, risk_score, detect_threats, compare_runs and the chart read them without error', async () => {
    for (const c of cases) {
      const m = await ok(analyst, 'calculate_metrics', { run_id: c.run_id });
      const run = m.runs?.[0] ?? m;
      expect(run.round_trips, c.name).toBe(1);
      expect(run.win_rate, c.name).toBe(c.pnl > 0 ? 1 : 0);
      expect(run.exposure, c.name).toBe(1);
      expect(typeof (await ok(analyst, 'risk_score', { run_id: c.run_id })).score, c.name).toBe('number');
      expect((await call(analyst, 'detect_threats', { model_id: c.model_id, run_id: c.run_id })).isError, c.name).toBe(false);
    }
    expect((await call(analyst, 'compare_runs', { run_ids: cases.map((c) => c.run_id) })).isError).toBe(false);
    const chart = await analyst.callTool({ name: 'equity_chart', arguments: { run_id: cases[0]!.run_id } });
    expect((chart.content as any[]).some((x) => x.type === 'image')).toBe(true);
  });

  it('replay_with_rules and suggest_rules replay the actions in memory: the same round trips', async () => {
    for (const c of cases) {
      const r = await ok(analyst, 'replay_with_rules', { run_id: c.run_id, rules: [] });
      expect(r.metrics.counterfactual.round_trips, c.name).toBe(1);
      expect(r.metrics.counterfactual.total_return, c.name).toBe(r.metrics.original.total_return);
      expect(r.metrics.counterfactual.avg_win ?? r.metrics.counterfactual.avg_loss, c.name).toBeCloseTo(c.pnl / 100, 9);
    }
    expect((await call(analyst, 'suggest_rules', { run_id: cases[0]!.run_id })).isError).toBe(false);
  });

  it('the report resource and the prompts carry the round trip with its dividend', async () => {
    const short = cases.find((c) => c.name === 'dividend short')!;
    const report = await analyst.readResource({ uri: `aibt://runs/${short.run_id}/report` });
    expect((report.contents[0] as { text: string }).text).toContain('-$4.00');
    const text = (p: any) => p.messages.map((m: any) => m.content.text).join('\n');
    expect(text(await analyst.getPrompt({ name: 'why_did_i_lose', arguments: { run_id: String(short.run_id) } }))).toContain('-$4.00');
    for (const c of cases) {
      expect(text(await analyst.getPrompt({ name: 'review_run', arguments: { run_id: String(c.run_id) } })), c.name).toContain('1 round trip(s)');
      expect(text(await analyst.getPrompt({ name: 'build_strategy', arguments: { model_id: String(c.model_id) } })).length, c.name).toBeGreaterThan(0);
    }
    expect(text(await analyst.getPrompt({ name: 'compare_strategies', arguments: { run_ids: cases.map((c) => c.run_id).join(', ') } }))).toContain(String(cases[0]!.run_id));
    const png = await analyst.readResource({ uri: `aibt://runs/${cases[2]!.run_id}/equity.png` });
    expect((png.contents[0] as { mimeType?: string }).mimeType).toBe('image/png');
  });

  it("a stop that fires on the day before a split, in the step that applies it, pairs with the lot the ledger split", async () => {
    const model = await ok(runs, 'create_model', { name: 'h16 stop before split', initial_cash: 10_000 });
    const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-06-05', end: '2025-06-06', symbols: ['HSTP'] });
    await ok(trade, 'buy', { model_id: model.model_id, symbol: 'HSTP', quantity: 90, stop_loss: 95 }); // 9,000.00
    const step = await ok(runs, 'advance_run', { run_id: run.run_id });
    // by hand: the split makes 180 shares with the stop at 47.5; 06-05 on the new basis (low 40)
    // falls through it: 180 sold at 47.5 = 8,550.00, stamped at the 06-05 close
    expect(step.exits_triggered.map((e: any) => [e.quantity, e.price, e.time])).toEqual([[180, 47.5, '2025-06-05T20:00:00.000Z']]);
    await ok(runs, 'end_run', { run_id: run.run_id });
    const a = await ok(analyst, 'analyze_trades', { run_id: run.run_id });
    // 8,550 − 9,000 = −$450.00, as the ledger
    expect(a.round_trips.map((r: any) => [r.quantity, r.entry_price, r.exit_price, r.pnl, r.exit_cause])).toEqual([[180, 50, 47.5, -450, 'stop_loss']]);
    expect(a.totals.ledger_realized_pnl).toBe(-450);
  });

  it('MAE/MFE read the finest bars the run saw: hourly bars in a minute replay', async () => {
    const model = await ok(runs, 'create_model', { name: 'h16 hourly', initial_cash: 10_000 });
    const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-06-10', end: '2025-06-10', symbols: ['HHRS'] });
    await ok(runs, 'advance_run', { run_id: run.run_id, steps: 5 }); // 09:35
    const buy = await order(model.model_id, 'buy', 'HHRS', 100);
    await ok(runs, 'advance_run', { run_id: run.run_id, steps: 120 }); // 11:35: the 09:30 and 10:30 hours have closed
    const sell = await order(model.model_id, 'sell', 'HHRS', 100);
    const a = await ok(analyst, 'analyze_trades', { run_id: run.run_id });
    const rt = a.round_trips[0];
    expect([buy.fill_price, sell.fill_price]).toEqual([50, 54]);
    // by hand: P&L (54 − 50) × 100 = $400.00; the hours seen (lows 48, 50; highs 52, 55) and the
    // fills: worst at 48: 400 + (48 − 54) × 100 = −$200.00; best at 55: 400 + 100 = $500.00
    // (the minute bars it does not have gave null before)
    expect([rt.pnl, rt.mae, rt.mfe, rt.excursion_bars]).toEqual([400, -200, 500, 'hour']);
    expect([rt.mae_pct, rt.mfe_pct]).toEqual([-0.04, 0.1]);
  });
});

describe('ending a run never depends on analytics (item 2, bad input)', () => {
  /** A 2-for-1 run whose ledger record of the split is then lost: its fills no longer pair up. */
  async function brokenRun(name: string) {
    const r = await replay(name, 'HSPA', '2025-06-05', '2025-06-09', { daily_loss_limit_pct: 0.5 });
    await order(r.model_id, 'buy', 'HSPA', 90);
    await ok(runs, 'advance_run', { run_id: r.run_id, steps: 2 });
    const sell = await order(r.model_id, 'sell', 'HSPA', 180);
    // the forced reader failure: the ledger's split event is gone (as for a run recorded before
    // the books kept them), so the round trips see 180 sold of 90 bought
    await t.suite.deps.sql`delete from corporate_action_events where run_id = ${r.run_id}`;
    const [fill] = await t.suite.deps.sql`select id from fills where order_id = ${sell.order_id}`;
    return { ...r, sentence: `Run ${r.run_id} cannot be analysed: Fill ${fill!.id} sells 180 HSPA on 2025-06-09 beyond the 90 share(s) the fills and the recorded splits leave open.` };
  }

  it('end_run ends it with final stats from the ledger and a note; the readers give one sentence naming symbol and date', async () => {
    const r = await brokenRun('h16 broken end');
    const ended = await call(runs, 'end_run', { run_id: r.run_id });
    expect(ended.isError, ended.text).toBe(false);
    // by hand: 180 × 51 − 9,000 − 0.90 − 1.80 = 177.30 on 10,000
    expect(ended.data).toMatchObject({ status: 'completed', final_stats: { final_value: 10_177.3, total_return: 0.01773, total_trades: 2 } });
    expect(ended.data.notes).toEqual([
      `Run ${r.run_id} is ended and its final stats come from the ledger; its threats were not recorded at the end: ${r.sentence} detect_threats can record them once the data can be analysed.`,
    ]);
    expect(ended.text).toContain(r.sentence);
    for (const [tool, args] of [
      ['analyze_trades', { run_id: r.run_id }],
      ['calculate_metrics', { run_id: r.run_id }],
      ['risk_score', { run_id: r.run_id }],
      ['detect_threats', { model_id: r.model_id, run_id: r.run_id }],
    ] as const) {
      const res = await call(analyst, tool, args);
      expect(res.isError, tool).toBe(true);
      expect(res.text, tool).toBe(r.sentence);
    }
    await expect(analyst.readResource({ uri: `aibt://runs/${r.run_id}/report` })).rejects.toThrow(r.sentence);
    await expect(analyst.getPrompt({ name: 'review_run', arguments: { run_id: String(r.run_id) } })).rejects.toThrow(r.sentence);
    // the model is not locked out: it starts another run
    expect((await call(runs, 'start_run', { model_id: r.model_id, kind: 'replay', timespan: 'day', start: '2025-06-05', end: '2025-06-06' })).isError).toBe(false);
  });

  it('a split without the bars to price its fraction: the books pay it at its basis, the analysis and the end go through', async () => {
    const model = await ok(runs, 'create_model', { name: 'h16 unpriced split', initial_cash: 10_000 });
    const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-06-05', end: '2025-06-06', symbols: ['HNOD'] });
    await ok(runs, 'advance_run', { run_id: run.run_id, steps: 5 }); // 06-05 09:35
    await order(model.model_id, 'buy', 'HNOD', 11); // 11 × 60 = 660.00
    let clock = '';
    for (let steps = 380; clock < '2025-06-06T13:35:00.000Z'; steps = 1) clock = (await ok(runs, 'advance_run', { run_id: run.run_id, steps })).clock;
    expect(clock).toBe('2025-06-06T13:35:00.000Z');
    await order(model.model_id, 'sell', 'HNOD', 16); // 16 × 41 = 656.00
    const ended = await ok(runs, 'end_run', { run_id: run.run_id });
    expect(ended.notes).toEqual([]);
    // by hand: 11 × 3/2 = 16.5: half a new share = 1 of 33 parts of the $660.00 basis = $20.00,
    // paid at that basis (no daily close known): 656 − 660 + 20 = $16.00, and so the ledger
    const a = await ok(analyst, 'analyze_trades', { run_id: run.run_id });
    expect([a.round_trips.length, a.round_trips[0].cash_in_lieu, a.totals.closed_pnl, a.totals.ledger_realized_pnl]).toEqual([1, 20, 16, 16]);
  });

  it('the completing advance_run completes it too, with the note', async () => {
    const r = await brokenRun('h16 broken advance');
    const done = await ok(runs, 'advance_run', { run_id: r.run_id });
    expect(done).toMatchObject({ done: true, status: 'completed', final_stats: { final_value: 10_177.3 } });
    expect(done.notes).toHaveLength(1);
    expect(done.notes[0]).toContain(r.sentence);
    expect((await ok(runs, 'get_run', { run_id: r.run_id })).status).toBe('completed');
  });
});
