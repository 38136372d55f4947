// Issue 18 items 5, 6 and 7 through real MCP clients, on both databases: size_position (the
// design's formula quantity = floor(equity × risk ÷ |entry − stop|), then the rules' caps and
// buying power, each named), a position_sizing rule's downsize: true on the order path, and the
// loss-streak cooldown and halt, approval with edits (approve_order and both eras' forms). Every
// expected figure is computed by hand below from the made-up bars (fills.ts / ledger.ts
// conventions; commission per share in cents).
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../shared/auth/keys.js';
import { importDayBars, type DayBars } from '../../test/csv-bars.js';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { expectReplayed as replayIdentity } from '../../test/replay-identity.js';

let t: TestSuite;
let trade: Client, runs: Client, rules: Client, analyst: Client, approver: Client;
let userId: number;
let userName: string;

// Made-up daily bars [date, open, high, low, close] of symbols no other test touches.
const CSV_BARS: DayBars = {
  SZLG: [
    ['2025-06-10', 100, 102, 99, 101],
    ['2025-06-11', 104, 106, 103, 105],
    ['2025-06-12', 107, 108, 106, 107],
  ],
  // falls every day: opens 100, 98, 96, 94, 92
  SZDN: [
    ['2025-06-10', 100, 101, 99, 99],
    ['2025-06-11', 98, 99, 97, 97],
    ['2025-06-12', 96, 97, 95, 95],
    ['2025-06-13', 94, 95, 93, 93],
    ['2025-06-16', 92, 93, 91, 91],
  ],
};

beforeAll(async () => {
  t = await bootSuite();
  await importDayBars(t, 'sizing.csv', CSV_BARS);
  const { key, name } = await t.user();
  const [u] = await t.suite.deps.sql`select id from users where name = ${name}`;
  userId = u!.id;
  userName = name;
  [trade, runs, rules, analyst] = await Promise.all(['trade', 'runs', 'rules', 'analyst'].map((s) => t.client(s as any, key)));
  approver = await t.client('trade', (await createKey(t.suite.deps.sql, name, ['read', 'approve'])).key);
}, 120_000);
afterAll(() => t?.close());

/** A model (its rules made before the run starts, so the run's frozen snapshot holds them) and a day replay. */
async function dayReplay(
  name: string,
  settings: Record<string, unknown> = {},
  symbols = ['SZLG'],
  end = '2025-06-12',
  rulesFirst: Array<[string, string, Record<string, unknown>]> = [],
) {
  const m = await ok(runs, 'create_model', { name, initial_cash: 10_000, allow_short: true, max_orders_per_minute: 10_000, ...settings });
  for (const [n, c, p] of rulesFirst) await rule(m.model_id, n, c, p);
  const run = await ok(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end, symbols });
  return { m, run };
}

const rule = (modelId: number, rule_name: string, rule_category: string, enforcement_params: Record<string, unknown>) =>
  ok(rules, 'create_rule', { model_id: modelId, rule_name, rule_category, rule_description: 'test', enforcement_params });

const expectReplayed = (runId: number, fills: number, withoutRules = 0) => replayIdentity(t, analyst, userId, runId, fills, withoutRules);

describe('size_position: the risk quantity, then each cap named', () => {
  it('1% of $10,000 over $5 a share = 20 shares at the price now (100), risk $100', async () => {
    const { m } = await dayReplay('Size plain');
    const s = await ok(trade, 'size_position', { model_id: m.model_id, symbol: 'SZLG', stop: 95, risk_pct: 0.01 });
    // buying power $10,000 / $100 = 100 shares ≥ 20: only the risk binds
    expect(s).toMatchObject({ side: 'buy', entry: 100, stop: 95, risk_per_share: 5, risk_quantity: 20, quantity: 20, risk: 100, risk_fraction_of_equity: 0.01, equity: 10_000, bound_by: [] });
    expect(s.caps).toEqual([{ cap: 'buying_power', rule_name: null, max_quantity: 20 }]);
    // a stop above the entry sizes a short: 1% / $5 = 20 again
    expect(await ok(trade, 'size_position', { model_id: m.model_id, symbol: 'SZLG', stop: 105, risk_pct: 0.01 })).toMatchObject({ side: 'short', quantity: 20 });
    // 1% over $0.30 = floor(100 / 0.3) = 333 (not 333.33…), capped by buying power at 100 shares
    const wide = await ok(trade, 'size_position', { model_id: m.model_id, symbol: 'SZLG', stop: 99.7, risk_pct: 0.01 });
    expect(wide).toMatchObject({ risk_quantity: 333, quantity: 100, risk: 30, risk_fraction_of_equity: 0.003, bound_by: [{ cap: 'buying_power', rule_name: null, max_quantity: 100 }] });
  });

  it('caps by max_position_pct, max_order_value and buying power (commission counted), naming the one that binds', async () => {
    const { m } = await dayReplay('Size caps', { commission_per_share: 0.01 });
    await rule(m.model_id, 'Max 15%', 'position_sizing', { max_position_pct: 0.15 });
    await rule(m.model_id, 'Order cap', 'position_sizing', { max_order_value: 1_200 });
    // 10% over $0.50 = floor(1,000 / 0.5) = 2,000 shares. Caps at $100: 15% of $10,000 = $1,500 → 15;
    // $1,200 per order → 12; buying power: 100 × 100.01 = 10,001 > 10,000, 99 × 100.01 = 9,900.99 → 99
    const s = await ok(trade, 'size_position', { model_id: m.model_id, symbol: 'SZLG', stop: 99.5, risk_pct: 0.1 });
    expect(s.risk_quantity).toBe(2_000);
    expect(s.caps).toEqual([
      { cap: 'max_position_pct', rule_name: 'Max 15%', max_quantity: 15 },
      { cap: 'max_order_value', rule_name: 'Order cap', max_quantity: 12 },
      { cap: 'buying_power', rule_name: null, max_quantity: 99 },
    ]);
    expect(s).toMatchObject({ quantity: 12, risk: 6, bound_by: [{ cap: 'max_order_value', rule_name: 'Order cap', max_quantity: 12 }] });
    // at a given entry of $50 with a $2 stop: 1% → 50 shares; $1,500 / 50 = 30; $1,200 / 50 = 24
    const at50 = await ok(trade, 'size_position', { model_id: m.model_id, symbol: 'SZLG', entry: 50, stop: 48, risk_pct: 0.01 });
    expect(at50).toMatchObject({ entry: 50, risk_quantity: 50, quantity: 24, risk: 48, risk_fraction_of_equity: 0.0048 });
    expect(at50.caps.map((c: any) => c.max_quantity)).toEqual([30, 24, 50]);
  });

  it('bad input: risk_pct outside (0, 1] and entry equal to stop get one sentence', async () => {
    const { m } = await dayReplay('Size bad');
    for (const risk_pct of [0, -0.01, 1.5]) {
      const r = await call(trade, 'size_position', { model_id: m.model_id, symbol: 'SZLG', stop: 95, risk_pct });
      expect(r).toMatchObject({ isError: true });
      expect(r.text).toContain('risk_pct must be greater than 0 and at most 1 (a fraction of equity: 0.01 = 1%).');
    }
    const same = await call(trade, 'size_position', { model_id: m.model_id, symbol: 'SZLG', entry: 100, stop: 100, risk_pct: 0.01 });
    expect(same.text).toBe('stop must differ from entry (both $100.00): the risk per share is |entry − stop|; nothing was sized.');
    const now = await call(trade, 'size_position', { model_id: m.model_id, symbol: 'SZLG', stop: 100, risk_pct: 0.01 });
    expect(now.text).toBe('stop must differ from entry (both $100.00): the risk per share is |entry − stop|; nothing was sized.');
  });
});

describe('downsize: true cuts an opening order to what the rule allows', () => {
  it('risk 1% with downsize: buy 50 with stop 95 becomes 20 (20 × $5 = $100), says so, keeps the asked quantity in its history, and replays', async () => {
    const { m, run } = await dayReplay('Downsize risk', {}, ['SZLG'], '2025-06-12', [['Risk 1%', 'position_sizing', { risk_per_trade_pct: 0.01, downsize: true }]]);
    const r = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZLG', quantity: 50, stop_loss: 95 });
    expect(r).toMatchObject({ status: 'filled', quantity: 20, fill_price: 100, portfolio_after: { cash: 8_000, position_quantity: 20 } });
    expect(r.downsized).toEqual({
      from: 50,
      to: 20,
      rule_names: ['Risk 1%'],
      message: "Downsized from 50 to 20 shares: the most that rule 'Risk 1%' (downsize: true) and buying power allow at $100.00.",
    });
    const { orders } = await ok(trade, 'list_orders', { run_id: run.run_id });
    expect(orders[0]).toMatchObject({ quantity: 20, changes: [{ kind: 'downsize', before: { quantity: 50 }, after: { quantity: 20 } }] });
    // preview says the same, and an order within the rule is not touched
    expect(await ok(trade, 'preview_order', { model_id: m.model_id, side: 'buy', symbol: 'SZLG', quantity: 1 })).toMatchObject({ quantity: 1, downsized: null });
    expect((await ok(trade, 'preview_order', { model_id: m.model_id, side: 'buy', symbol: 'SZLG', quantity: 9 })).rejections.map((x: any) => x.code)).toEqual(['RISK_PER_TRADE']);
    await ok(runs, 'end_run', { run_id: run.run_id });
    // under its own rules the replay cuts the asked 50 to 20 again; with no rules the 50 fill
    const bare = await expectReplayed(run.run_id, 1, 1);
    expect(bare.changed_orders[0]).toMatchObject({ changes: ['quantity'], original: { status: 'filled', quantity: 20 }, counterfactual: { status: 'filled', quantity: 50 } });
  });

  it('a cut order another rule refuses is stored refused at the cut quantity, and replays unchanged under the same rules', async () => {
    const rulesFirst: Array<[string, string, Record<string, unknown>]> = [
      ['Risk 1%', 'position_sizing', { risk_per_trade_pct: 0.01, downsize: true }],
      ['Max 10', 'position_sizing', { max_order_qty: 10 }],
    ];
    const { m, run } = await dayReplay('Downsize refused', {}, ['SZLG'], '2025-06-12', rulesFirst);
    // 50 → 20 by the risk rule (20 × $5 = $100), then 20 > 10 shares: refused
    const r = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZLG', quantity: 50, stop_loss: 95 });
    expect(r).toMatchObject({ status: 'rejected', quantity: 20, downsized: { from: 50, to: 20 } });
    expect(r.rejections.map((x: any) => x.message)).toEqual(["Rule 'Max 10': order is for 20 shares (limit 10 shares per order)"]);
    await ok(runs, 'end_run', { run_id: run.run_id });
    const same = await ok(analyst, 'replay_with_rules', {
      run_id: run.run_id,
      rules: rulesFirst.map(([rule_name, rule_category, enforcement_params]) => ({ rule_name, rule_category, enforcement_params })),
    });
    expect(same.orders_changed).toBe(0);
  });

  it('max_position_pct 15% with downsize: buy 30 at 100 on $10,000 becomes 15; without downsize it is refused; nothing fits: refused', async () => {
    const { m } = await dayReplay('Downsize position');
    const cap = await rule(m.model_id, 'Max 15%', 'position_sizing', { max_position_pct: 0.15, downsize: true });
    expect(await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZLG', quantity: 30 })).toMatchObject({ status: 'filled', quantity: 15, downsized: { from: 30, to: 15 } });
    // holding 15 ($1,500): not one more share fits, so the order is refused with the rule's sentence
    const full = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZLG', quantity: 5 });
    expect(full).toMatchObject({ status: 'rejected', quantity: 5, downsized: null });
    expect(full.rejections.map((x: any) => x.code)).toEqual(['MAX_POSITION_PCT']);
    await ok(rules, 'update_rule', { rule_id: cap.rule_id, enforcement_params: { max_position_pct: 0.2 } });
    // 20% = $2,000: 5 more would fit, 10 more ($2,500) is refused as before (no downsize)
    expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZLG', quantity: 10 })).rejections.map((x: any) => x.code)).toEqual(['MAX_POSITION_PCT']);
  });
});

describe('loss streaks: cooldown_after_losses and halt_after_losses', () => {
  const codes = (r: any) => r.rejections.map((x: any) => x.code);
  const step = (runId: number) => ok(runs, 'advance_run', { run_id: runId });

  it('two losing round trips (zero P&L counts) start a 2,000-minute cooldown; a clock stop-out is a loss too; exits stay allowed', async () => {
    const { m, run } = await dayReplay('Cooldown', {}, ['SZDN'], '2025-06-16', [['Cooldown 2', 'risk', { cooldown_after_losses: 2, cooldown_minutes: 2_000 }]]);
    const trip = async (q: number) => {
      expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZDN', quantity: q })).status).toBe('filled');
      expect((await ok(trade, 'sell', { model_id: m.model_id, symbol: 'SZDN', quantity: q })).status).toBe('filled');
    };
    // 06-10 09:30 ET: buy and sell at the 100 open, no commission: P&L $0.00, a loss; then another
    await trip(10);
    await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZDN', quantity: 5 }); // one loss so far: allowed
    expect((await ok(trade, 'sell', { model_id: m.model_id, symbol: 'SZDN', quantity: 3 })).status).toBe('filled'); // 3 of 5: a round trip of 3
    const cooled = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZDN', quantity: 1 });
    // 09:30 ET + 2,000 minutes = 06-11 18:50 ET
    expect(cooled.rejections.map((x: any) => x.message)).toEqual([
      "Rule 'Cooldown 2': cooldown after 2 losing round trips in a row (limit 2): no new risk for 2000 minutes of run clock after the last loss at 2025-06-10 09:30 ET, until 2025-06-11 18:50 ET (exits are still allowed)",
    ]);
    // the exit of the other 2 is allowed (a third loss); a short is new risk
    expect((await ok(trade, 'sell', { model_id: m.model_id, symbol: 'SZDN', quantity: 2 })).status).toBe('filled');
    expect(codes(await ok(trade, 'short', { model_id: m.model_id, symbol: 'SZDN', quantity: 1 }))).toEqual(['LOSS_COOLDOWN']);
    // 18:50 EDT = 22:50 UTC
    expect(await ok(trade, 'get_trading_status', { model_id: m.model_id })).toMatchObject({ state: 'active', loss_streak: 3, cooldown_until: '2025-06-11T22:50:00.000Z' });
    await step(run.run_id); // 06-11 09:30 ET: still cooling down
    expect(codes(await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZDN', quantity: 1 }))).toEqual(['LOSS_COOLDOWN']);
    await step(run.run_id); // 06-12 09:30 ET: over
    expect(await ok(trade, 'get_trading_status', { model_id: m.model_id })).toMatchObject({ loss_streak: 3, cooldown_until: null });
    // buy 10 at 96 with a stop at 95: the 06-12 low (95) touches it, the clock sells at 95 at the bar's end (16:00 ET)
    expect(await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZDN', quantity: 10, stop_loss: 95 })).toMatchObject({ status: 'filled', fill_price: 96 });
    const stopped = await step(run.run_id);
    expect(stopped.exits_triggered.map((e: any) => [e.side, e.quantity, e.price, e.trigger])).toEqual([['sell', 10, 95, 'stop_loss']]);
    // a fourth loss (−$10.00) in a row: a new cooldown from 06-12 16:00 ET to 06-14 01:20 ET
    const again = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZDN', quantity: 1 });
    expect(again.rejections[0].message).toContain('cooldown after 4 losing round trips in a row (limit 2): no new risk for 2000 minutes of run clock after the last loss at 2025-06-12 16:00 ET, until 2025-06-14 01:20 ET');
    const [row] = await t.suite.deps.sql`select loss_streak, last_loss_at from runs where id = ${run.run_id}`;
    expect([row!.loss_streak, new Date(row!.last_loss_at).toISOString()]).toEqual([4, '2025-06-12T20:00:00.000Z']);
    await ok(runs, 'end_run', { run_id: run.run_id });
    // fills: buy, sell, buy, sell 3, sell 2, the buy with the stop and the stop's sell; with no rules the 4 refused orders fill
    await expectReplayed(run.run_id, 7, 4);
  });

  it('three losses in a row halt the model with reason loss_streak at the fill; a win resets the count; resuming starts a new streak', async () => {
    const { m, run } = await dayReplay('Halt streak', {}, ['SZDN'], '2025-06-16', [['Halt 3', 'risk', { halt_after_losses: 3 }]]);
    const order = (side: string, quantity: number) => ok(trade, side, { model_id: m.model_id, symbol: 'SZDN', quantity });
    // a win first: short 10 at 100, cover at 98 on 06-11 (+$20.00)
    await order('short', 10);
    await step(run.run_id);
    expect(await order('cover', 10)).toMatchObject({ status: 'filled', fill_price: 98 });
    // loss 1: buy and sell at 98 ($0.00); loss 2: buy 10 at 98, sell at 96 on 06-12 (−$20.00)
    await order('buy', 10);
    await order('sell', 10);
    await order('buy', 10);
    await step(run.run_id);
    expect(await order('sell', 10)).toMatchObject({ status: 'filled', fill_price: 96, halted_reason: null });
    // loss 3: the sell's fill halts the model
    await order('buy', 5);
    const third = await order('sell', 5);
    const reason = "loss_streak: Rule 'Halt 3': 3 losing round trips in a row (halt_after_losses 3); trading is halted until a key with approve resumes it (resuming starts a new streak).";
    expect(third).toMatchObject({ status: 'filled', halted_reason: reason });
    expect(await ok(trade, 'get_trading_status', { model_id: m.model_id })).toMatchObject({ state: 'halted', reason });
    expect(codes(await order('buy', 1))).toEqual(['MODEL_HALTED']);
    const streak = async () => (await t.suite.deps.sql`select loss_streak from runs where id = ${run.run_id}`)[0]!.loss_streak;
    expect(await streak()).toBe(3); // the run's counter (migration 023's trigger) agrees
    await ok(approver, 'resume_trading', { model_id: m.model_id });
    expect(await streak()).toBe(0);
    expect(await order('buy', 1)).toMatchObject({ status: 'filled', halted_reason: null });
    await ok(runs, 'end_run', { run_id: run.run_id });
    // 8 fills and the buy after the resume; with no rules the buy refused while halted fills too
    await expectReplayed(run.run_id, 9, 1);
  });

  it('bad input: cooldown_after_losses without cooldown_minutes is refused in one sentence', async () => {
    const { m } = await dayReplay('Cooldown bad', {}, ['SZDN']);
    const r = await call(rules, 'create_rule', { model_id: m.model_id, rule_name: 'Half', rule_category: 'risk', rule_description: '', enforcement_params: { cooldown_after_losses: 2 } });
    expect(r).toMatchObject({ isError: true });
    expect(r.text).toContain('enforcement_params.cooldown_minutes is required with cooldown_after_losses (both or neither).');
  });
});

describe('approval with edits: a smaller quantity, a tighter stop or target, re-checked at approval', () => {
  const ELICIT = { elicitation: { form: {} } };
  const orderRow = async (id: number) =>
    (await t.suite.deps.sql`select status, quantity, stop_loss::float8 as stop_loss, take_profit::float8 as take_profit, changes from orders where id = ${id}`)[0]!;

  it('approve_order: bad edits get one sentence, a refused edit leaves it pending as it was, then 10 of 20 with stop 97 and target 108 fill and replay', async () => {
    const { m, run } = await dayReplay('Approve edits', { require_approval: true });
    const placed = await ok(trade, 'buy', { model_id: m.model_id, symbol: 'SZLG', quantity: 20, stop_loss: 95, take_profit: 110 });
    expect(placed).toMatchObject({ status: 'pending_approval', pending: { notional: 2_000, risk_to_stop: 100, risk_fraction_of_equity: 0.01 }, stop_loss: 95, take_profit: 110 });
    const id = placed.order_id;
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ quantity: 25 }, "quantity must be between 1 and 20 (down only from the order's 20 shares); nothing was changed."],
      [{ stop_loss: 90 }, "stop_loss must be at least the order's $95.00 (tighter only) and below the expected fill $100.00 for a long; nothing was changed."],
      [{ stop_loss: 100 }, "stop_loss must be at least the order's $95.00 (tighter only) and below the expected fill $100.00 for a long; nothing was changed."],
      [{ take_profit: 115 }, "take_profit must be at most the order's $110.00 (tighter only) and above the expected fill $100.00 for a long; nothing was changed."],
      [{ take_profit: 99 }, "take_profit must be at most the order's $110.00 (tighter only) and above the expected fill $100.00 for a long; nothing was changed."],
    ];
    for (const [edit, sentence] of bad) {
      const r = await call(approver, 'approve_order', { order_id: id, ...edit });
      expect(r, JSON.stringify(edit)).toMatchObject({ isError: true, text: sentence });
    }
    expect(await orderRow(id)).toMatchObject({ status: 'pending_approval', quantity: 20, stop_loss: 95, take_profit: 110, changes: [] });
    // a rule made while it waits: at most 10 shares an order. 15 is refused by it: still pending, unchanged
    await rule(m.model_id, 'Max 10', 'position_sizing', { max_order_qty: 10 });
    const refused = await ok(approver, 'approve_order', { order_id: id, quantity: 15 });
    expect(refused).toMatchObject({ status: 'pending_approval', quantity: 20, stop_loss: 95, take_profit: 110 });
    expect(refused.rejections.map((x: any) => x.message)).toEqual(["Rule 'Max 10': order is for 15 shares (limit 10 shares per order)"]);
    expect(await orderRow(id)).toMatchObject({ status: 'pending_approval', quantity: 20, changes: [] });
    const approved = await call(approver, 'approve_order', { order_id: id, quantity: 10, stop_loss: 97, take_profit: 108, note: 'half, tighter' });
    const done = approved.data;
    // 10 × 100 = $1,000: cash 9,000; the answer echoes the edited bracket
    expect(done).toMatchObject({ order_id: id, status: 'filled', quantity: 10, fill_price: 100, portfolio_after: { cash: 9_000, position_quantity: 10 }, stop_loss: 97, take_profit: 108 });
    expect(approved.text).toContain('Attached: stop_loss $97, take_profit $108.');
    const row = await orderRow(id);
    expect(row).toMatchObject({ status: 'filled', quantity: 10, stop_loss: 97, take_profit: 108 });
    expect(row.changes).toEqual([
      expect.objectContaining({ kind: 'approval', before: { limit_price: null, stop_price: null, quantity: 20, stop_loss: 95, take_profit: 110 }, after: { limit_price: null, stop_price: null, quantity: 10, stop_loss: 97, take_profit: 108 }, reasoning: 'half, tighter' }),
    ]);
    const held = (await ok(trade, 'get_portfolio', { run_id: run.run_id })).positions[0];
    expect([held.quantity, held.exits.stop_loss.price, held.exits.take_profit.price]).toEqual([10, 97, 108]);
    await ok(runs, 'end_run', { run_id: run.run_id });
    // the replay places 20 pending and approves 10 with the edits, as live
    await expectReplayed(run.run_id, 1, 0);
  });

  for (const era of ['modern', 'legacy'] as const) {
    it(`the ${era === 'modern' ? '2026-07-28 input_required' : '2025 elicitation'} form offers the edits and states notional and risk; the answer's edits apply to the same order`, async () => {
      const { m } = await dayReplay(`Form edits ${era}`, { require_approval: true });
      // one key that trades and approves: the person answers the agent's own client
      const client = await t.client('trade', (await createKey(t.suite.deps.sql, userName, ['read', 'trade', 'approve'])).key, ELICIT, era);
      const asked: Array<{ message: string; fields: string[] }> = [];
      let content: Record<string, string | number> = { decision: 'approve', quantity: 30 };
      client.setRequestHandler('elicitation/create', async (req) => {
        asked.push({ message: req.params.message, fields: Object.keys((req.params as { requestedSchema: { properties: object } }).requestedSchema.properties) });
        return { action: 'accept' as const, content };
      });
      // buy 20 at 100 with stop 95: notional $2,000, risk 20 × $5 = $100 = 1% of $10,000
      const tooMany = await call(client, 'buy', { model_id: m.model_id, symbol: 'SZLG', quantity: 20, stop_loss: 95 });
      expect(tooMany).toMatchObject({ isError: true, text: "quantity must be between 1 and 20 (down only from the order's 20 shares); nothing was changed." });
      expect(asked[0]!.message).toBe(
        `Approve order ${(await t.suite.deps.sql`select max(id) as id from orders where model_id = ${m.model_id}`)[0]!.id}: buy 20 SZLG at market? Notional $2,000.00; risk to the stop $100.00 = 1.00% of equity. ` +
          'You may lower the quantity or tighten stop_loss / take_profit. Checks run again at current prices.',
      );
      expect(asked[0]!.fields).toEqual(['decision', 'note', 'quantity', 'stop_loss', 'take_profit']);
      const [pending] = await t.suite.deps.sql`select id, status, quantity from orders where model_id = ${m.model_id}`;
      expect(pending).toMatchObject({ status: 'pending_approval', quantity: 20 });
      // the agent tries again (the same intent: the same pending order); this time the person halves it with a tighter stop and a target
      content = { decision: 'approve', quantity: 10, stop_loss: 96, take_profit: 104 };
      const r = await ok(client, 'buy', { model_id: m.model_id, symbol: 'SZLG', quantity: 20, stop_loss: 95 });
      expect(r).toMatchObject({ order_id: pending!.id, status: 'filled', quantity: 10, fill_price: 100 });
      expect(await orderRow(pending!.id)).toMatchObject({ quantity: 10, stop_loss: 96, take_profit: 104 });
      const rows = await t.suite.deps.sql`select status from orders where model_id = ${m.model_id} and status <> 'cancelled'`;
      expect(rows.map((x) => x.status)).toEqual(['filled']);
    });
  }
});
