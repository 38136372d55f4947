import type { Client } from '@modelcontextprotocol/client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TEMPLATES } from '../../shared/domain/rules/templates.js';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { runsServer } from '../runs/server.js';
import { rulesServer } from './server.js';

let t: TestSuite;
let rules: Client;
let runs: Client;
let ownerPrefix: string;

beforeAll(async () => {
  t = await bootSuite({ specs: [rulesServer, runsServer] });
  const { key } = await t.user();
  ownerPrefix = key.split('_').slice(0, 2).join('_');
  rules = await t.client('rules', key);
  runs = await t.client('runs', key);
});
afterAll(() => t?.close());
afterEach(() => vi.restoreAllMocks());

let modelCount = 0;
async function newModel(extra: Record<string, unknown> = {}): Promise<number> {
  return (await ok(runs, 'create_model', { name: `Model ${++modelCount}`, ...extra })).model_id;
}

const MAX_20 = {
  rule_name: 'Max 20% per position',
  rule_description: 'No single position above 20% of the portfolio.',
  rule_category: 'position_sizing',
  enforcement_params: { max_position_pct: 0.2 },
};

async function ruleNames(modelId: number, includeInactive = true): Promise<string[]> {
  return (await ok(rules, 'list_rules', { model_id: modelId, include_inactive: includeInactive })).rules.map((r: any) => r.rule_name);
}

async function historyCount(modelId: number): Promise<number> {
  return (await ok(rules, 'get_rules_history', { model_id: modelId })).entries.length;
}

describe('rules server', () => {
  it('done when: a $2,450 IBM buy breaks "Max 20% per position" on a $10,000 portfolio, $1,990 passes', async () => {
    const model = await newModel({ initial_cash: 10_000 });
    const rule = await ok(rules, 'create_rule', { model_id: model, ...MAX_20 });

    const refused = await ok(rules, 'check_order', { model_id: model, side: 'buy', symbol: 'IBM', quantity: 10, price: 245 });
    expect(refused.allowed).toBe(false);
    expect(refused.violations).toHaveLength(1);
    const [v] = refused.violations;
    expect(v).toMatchObject({ rule_id: rule.rule_id, rule_name: 'Max 20% per position', code: 'MAX_POSITION_PCT' });
    expect(v.message).toContain('Max 20% per position');
    expect(v.message).toContain('$2,450.00');
    expect(v.message).toContain('$2,000.00');
    expect(refused.rules_checked).toEqual([{ rule_id: rule.rule_id, rule_name: 'Max 20% per position', rule_category: 'position_sizing' }]);
    expect(refused).toMatchObject({ price: 245, run_id: null, portfolio_value: 10_000 });

    const passes = await ok(rules, 'check_order', { model_id: model, side: 'buy', symbol: 'IBM', quantity: 10, price: 199 });
    expect(passes).toMatchObject({ allowed: true, violations: [] });
    expect(passes.rules_checked).toHaveLength(1);
  });

  it('creates, reads, lists, updates, deactivates, activates and deletes a rule, with a history row for each change', async () => {
    const model = await newModel();
    const created = await ok(rules, 'create_rule', { model_id: model, ...MAX_20, applies_to_symbols: ['IBM', 'AAPL'], priority: 8 });
    expect(created).toMatchObject({
      model_id: model,
      rule_name: 'Max 20% per position',
      rule_category: 'position_sizing',
      enforcement_params: { max_position_pct: 0.2 },
      applies_to_symbols: ['IBM', 'AAPL'],
      exclude_symbols: null,
      priority: 8,
      is_active: true,
      created_by: 'user',
      version: 1,
    });
    expect(Date.parse(created.created_at)).not.toBeNaN();
    const low = await ok(rules, 'create_rule', {
      model_id: model,
      rule_name: 'Only big names',
      rule_category: 'screening',
      rule_description: '',
      enforcement_params: { allowed_symbols: ['IBM', 'AAPL', 'MSFT'] },
      priority: 3,
      created_by: 'ai_suggested',
    });
    expect(await ok(rules, 'get_rule', { rule_id: created.rule_id })).toEqual({ ...created, untrusted_content: expect.stringContaining('Untrusted content:') });

    const updated = await ok(rules, 'update_rule', { rule_id: created.rule_id, enforcement_params: { max_position_pct: 0.25 }, rule_name: 'Max 25% per position' });
    expect(updated).toMatchObject({ version: 2, rule_name: 'Max 25% per position', enforcement_params: { max_position_pct: 0.25 }, priority: 8 });
    // the same values again change nothing: no version, no history row
    const same = await ok(rules, 'update_rule', { rule_id: created.rule_id, enforcement_params: { max_position_pct: 0.25 } });
    expect(same.version).toBe(2);
    const cleared = await ok(rules, 'update_rule', { rule_id: created.rule_id, applies_to_symbols: null });
    expect(cleared).toMatchObject({ version: 3, applies_to_symbols: null });

    const off = await ok(rules, 'set_rule_active', { rule_id: created.rule_id, is_active: false });
    expect(off).toMatchObject({ is_active: false, version: 4 });
    expect(await ruleNames(model, false)).toEqual(['Only big names']);
    // by priority, highest first
    expect(await ruleNames(model)).toEqual(['Max 25% per position', 'Only big names']);
    const on = await ok(rules, 'set_rule_active', { rule_id: created.rule_id, is_active: true });
    expect(on).toMatchObject({ is_active: true, version: 5 });

    const deleted = await ok(rules, 'delete_rule', { rule_id: created.rule_id });
    expect(deleted).toEqual({ deleted_rule_id: created.rule_id });
    expect((await call(rules, 'get_rule', { rule_id: created.rule_id })).text).toBe(`Rule ${created.rule_id} was not found.`);
    expect(await ruleNames(model)).toEqual(['Only big names']);

    const { entries } = await ok(rules, 'get_rules_history', { model_id: model });
    expect(entries.map((e: any) => [e.action, e.rule_id])).toEqual([
      ['delete', created.rule_id],
      ['activate', created.rule_id],
      ['deactivate', created.rule_id],
      ['update', created.rule_id],
      ['update', created.rule_id],
      ['create', low.rule_id],
      ['create', created.rule_id],
    ]);
    for (const e of entries) {
      expect(e.key_prefix).toBe(ownerPrefix);
      expect(Date.parse(e.changed_at)).not.toBeNaN();
    }
    const [del, act, deact, clear, upd, , create] = entries;
    expect(create).toMatchObject({ tool: 'create_rule', before: null, after: { rule_name: 'Max 20% per position', version: 1 } });
    expect(upd).toMatchObject({
      tool: 'update_rule',
      before: { rule_name: 'Max 20% per position', enforcement_params: { max_position_pct: 0.2 }, version: 1 },
      after: { rule_name: 'Max 25% per position', enforcement_params: { max_position_pct: 0.25 }, version: 2 },
    });
    expect(clear).toMatchObject({ before: { applies_to_symbols: ['IBM', 'AAPL'], version: 2 }, after: { applies_to_symbols: null, version: 3 } });
    expect(deact).toMatchObject({ tool: 'set_rule_active', before: { is_active: true }, after: { is_active: false, version: 4 } });
    expect(act).toMatchObject({ before: { is_active: false }, after: { is_active: true, version: 5 } });
    expect(del).toMatchObject({ tool: 'delete_rule', rule_name: 'Max 25% per position', before: { version: 5 }, after: null });
    expect((await ok(rules, 'get_rules_history', { model_id: model, limit: 2 })).entries.map((e: any) => e.action)).toEqual(['delete', 'activate']);

    // the model's active rule count follows
    expect((await ok(runs, 'get_model', { model_id: model })).active_rule_count).toBe(1);
  });

  it('lists the four templates and applies day_trader, refusing a clash without replace and replacing with it', async () => {
    const { templates } = await ok(rules, 'list_templates');
    expect(templates.map((x: any) => x.template)).toEqual(['day_trader', 'swing_trader', 'scalper', 'investor']);
    expect(templates[0].rules.map((r: any) => r.rule_name)).toEqual(TEMPLATES.day_trader.rules.map((r) => r.rule_name));

    const model = await newModel();
    const applied = await ok(rules, 'apply_template', { model_id: model, template: 'day_trader' });
    const dayNames = TEMPLATES.day_trader.rules.map((r) => r.rule_name);
    expect(applied.rules).toHaveLength(7);
    expect(applied.rules.map((r: any) => r.rule_name)).toEqual(dayNames);
    expect(applied.rules.every((r: any) => r.created_by === 'template' && r.is_active && r.version === 1)).toBe(true);
    expect(applied.deleted_rule_ids).toEqual([]);
    expect((await ruleNames(model)).sort()).toEqual([...dayNames].sort());
    const afterApply = await ok(rules, 'get_rules_history', { model_id: model });
    expect(afterApply.entries).toHaveLength(7);
    expect(afterApply.entries.every((e: any) => e.action === 'create' && e.tool === 'apply_template' && e.after.created_by === 'template' && e.key_prefix === ownerPrefix)).toBe(true);

    // applied again without replace: one sentence naming the clash, nothing written
    const again = await call(rules, 'apply_template', { model_id: model, template: 'day_trader' });
    expect(again.isError).toBe(true);
    expect(again.text).toMatch(/^Model \d+ already has rule\(s\) named 'Daily loss limit 3%', .*pass replace: true/);
    expect(await ruleNames(model)).toHaveLength(7);
    expect(await historyCount(model)).toBe(7);

    // a single custom rule named like a template rule also blocks the whole template
    const other = await newModel();
    await ok(rules, 'create_rule', { model_id: other, ...MAX_20 });
    const clash = await call(rules, 'apply_template', { model_id: other, template: 'day_trader' });
    expect(clash.text).toBe(
      `Model ${other} already has rule(s) named 'Max 20% per position'; nothing was applied: pass replace: true to replace the model's rules, or rename or delete those first.`,
    );
    expect(await ruleNames(other)).toEqual(['Max 20% per position']);

    // replace: every existing rule deleted (with history), the new template's rules created
    const replaced = await ok(rules, 'apply_template', { model_id: model, template: 'swing_trader', replace: true });
    expect(replaced.deleted_rule_ids.sort()).toEqual(applied.rules.map((r: any) => r.rule_id).sort());
    expect(replaced.rules.map((r: any) => r.rule_name)).toEqual(TEMPLATES.swing_trader.rules.map((r) => r.rule_name));
    expect((await ruleNames(model)).sort()).toEqual(TEMPLATES.swing_trader.rules.map((r) => r.rule_name).sort());
    const { entries } = await ok(rules, 'get_rules_history', { model_id: model });
    expect(entries).toHaveLength(7 + 7 + 5);
    expect(entries.slice(0, 5).every((e: any) => e.action === 'create')).toBe(true);
    expect(entries.slice(5, 12).every((e: any) => e.action === 'delete' && e.after === null && e.before.created_by === 'template')).toBe(true);

    const bad = await call(rules, 'apply_template', { model_id: model, template: 'yolo' });
    expect(bad.isError).toBe(true);
    expect(await historyCount(model)).toBe(19);
  });

  it('refuses bad enforcement_params with the sentence naming the field, and writes nothing', async () => {
    const model = await newModel();
    const base = { model_id: model, rule_name: 'Bad', rule_description: '' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ rule_category: 'position_sizing', enforcement_params: { max_position_pct: 1.5 } }, /^enforcement_params\.max_position_pct must be at most 1 \(a fraction: 0\.2 means 20%\), got 1\.5\.$/],
      [{ rule_category: 'risk', enforcement_params: { max_positions: -2 } }, /^enforcement_params\.max_positions must be a positive whole number of positions, got -2\.$/],
      [
        { rule_category: 'timing', enforcement_params: { blackout_windows: [{ start: '14:00', end: '12:00' }] } },
        /^enforcement_params\.blackout_windows\[0\]\.end \(12:00\) must be after start \(14:00\)\.$/,
      ],
      [{ rule_category: 'timing', enforcement_params: { flatten_by: '4pm' } }, /^enforcement_params\.flatten_by must be a 24-hour time "HH:MM"/],
      [{ rule_category: 'timing', enforcement_params: { no_new_positions_after: '24:00' } }, /^enforcement_params\.no_new_positions_after must be a 24-hour time/],
      [{ rule_category: 'position_sizing', enforcement_params: { max_pos_pct: 0.2 } }, /^enforcement_params has an unknown field 'max_pos_pct' for category position_sizing/],
      [{ rule_category: 'risk', enforcement_params: {} }, /^enforcement_params for category risk needs at least one of: max_positions/],
    ];
    for (const [args, message] of cases) {
      const r = await call(rules, 'create_rule', { ...base, ...args });
      expect(r.isError, JSON.stringify(args)).toBe(true);
      expect(r.text).toMatch(message);
    }
    // caught by the argument schema before anything runs
    for (const args of [
      { ...base, rule_category: 'risk', enforcement_params: { max_positions: 2 }, leverage: 3 },
      { ...base, rule_category: 'risk', enforcement_params: { max_positions: 2 }, priority: 11 },
      { ...base, rule_category: 'gambling', enforcement_params: { max_positions: 2 } },
      { ...base, rule_category: 'risk', enforcement_params: { max_positions: 2 }, applies_to_symbols: ['not a ticker'] },
    ]) {
      expect((await call(rules, 'create_rule', args)).isError, JSON.stringify(args)).toBe(true);
    }
    expect(await ruleNames(model)).toEqual([]);
    expect(await historyCount(model)).toBe(0);

    // updates are checked the same way, against the new category when it changes
    const rule = await ok(rules, 'create_rule', { model_id: model, ...MAX_20 });
    const badUpdate = await call(rules, 'update_rule', { rule_id: rule.rule_id, enforcement_params: { max_position_pct: 1.5 } });
    expect(badUpdate.text).toMatch(/^enforcement_params\.max_position_pct must be at most 1/);
    const badCategory = await call(rules, 'update_rule', { rule_id: rule.rule_id, rule_category: 'risk' });
    expect(badCategory.text).toMatch(/^enforcement_params has an unknown field 'max_position_pct' for category risk/);
    const nothing = await call(rules, 'update_rule', { rule_id: rule.rule_id });
    expect(nothing.text).toBe('Give at least one field to change.');
    const dup = await call(rules, 'create_rule', { model_id: model, ...MAX_20 });
    expect(dup.text).toBe(`Model ${model} already has a rule named 'Max 20% per position'; pick another name.`);
    expect(await ok(rules, 'get_rule', { rule_id: rule.rule_id })).toEqual({ ...rule, untrusted_content: expect.stringContaining('Untrusted content:') });
    expect(await historyCount(model)).toBe(1);
  });

  it("refuses every write to a trade-only key, naming 'rules:write', and writes nothing", async () => {
    const model = await newModel({ allow_short: false });
    const rule = await ok(rules, 'create_rule', { model_id: model, ...MAX_20 });
    // the scope is checked before anything is read, so even the owner's model is safe
    const traderKey = (await t.user(['read', 'trade'])).key;
    const trader = await t.client('rules', traderKey);
    const traderRuns = await t.client('runs', traderKey);
    const writes: [Client, string, Record<string, unknown>][] = [
      [trader, 'create_rule', { model_id: model, ...MAX_20, rule_name: 'Loosened' }],
      [trader, 'update_rule', { rule_id: rule.rule_id, enforcement_params: { max_position_pct: 1 } }],
      [trader, 'delete_rule', { rule_id: rule.rule_id }],
      [trader, 'set_rule_active', { rule_id: rule.rule_id, is_active: false }],
      [trader, 'apply_template', { model_id: model, template: 'scalper', replace: true }],
      [traderRuns, 'update_model', { model_id: model, allow_short: true, initial_cash: 1_000_000 }],
    ];
    for (const [client, tool, args] of writes) {
      const r = await call(client, tool, args);
      expect(r.isError, tool).toBe(true);
      expect(r.text).toMatch(new RegExp(`^${tool} needs the 'rules:write' scope`));
    }
    expect(await ok(rules, 'get_rule', { rule_id: rule.rule_id })).toEqual({ ...rule, untrusted_content: expect.stringContaining('Untrusted content:') });
    expect(await ruleNames(model)).toEqual(['Max 20% per position']);
    expect(await historyCount(model)).toBe(1);
    expect(await ok(runs, 'get_model', { model_id: model })).toMatchObject({ allow_short: false, initial_cash: 10_000 });
    // reads stay open to it (its own models only)
    expect((await ok(trader, 'list_templates')).templates).toHaveLength(4);
  });

  it("reports another user's model and rule exactly like missing ones", async () => {
    const model = await newModel();
    const rule = await ok(rules, 'create_rule', { model_id: model, ...MAX_20 });
    const other = await t.client('rules', (await t.user()).key);
    const notRule = `Rule ${rule.rule_id} was not found.`;
    const notModel = `Model ${model} was not found.`;
    const cases: [string, Record<string, unknown>, string][] = [
      ['get_rule', { rule_id: rule.rule_id }, notRule],
      ['update_rule', { rule_id: rule.rule_id, priority: 1 }, notRule],
      ['set_rule_active', { rule_id: rule.rule_id, is_active: false }, notRule],
      ['delete_rule', { rule_id: rule.rule_id }, notRule],
      ['list_rules', { model_id: model }, notModel],
      ['create_rule', { model_id: model, ...MAX_20, rule_name: 'Sneaky' }, notModel],
      ['apply_template', { model_id: model, template: 'investor', replace: true }, notModel],
      ['check_order', { model_id: model, side: 'buy', symbol: 'IBM', quantity: 1, price: 100 }, notModel],
      ['get_rules_history', { model_id: model }, notModel],
    ];
    for (const [tool, args, text] of cases) {
      expect(await call(other, tool, args), tool).toMatchObject({ isError: true, text });
    }
    expect((await call(other, 'get_rule', { rule_id: 999_999 })).text).toBe('Rule 999999 was not found.');
    expect((await call(other, 'list_rules', { model_id: 999_999 })).text).toBe('Model 999999 was not found.');
    expect(await ok(rules, 'get_rule', { rule_id: rule.rule_id })).toEqual({ ...rule, untrusted_content: expect.stringContaining('Untrusted content:') });
    expect(await historyCount(model)).toBe(1);
  });

  it('checks an order against a running run: its cash, positions at the clock and trade counts', async () => {
    const model = await newModel({ initial_cash: 10_000 });
    await ok(rules, 'create_rule', { model_id: model, ...MAX_20 });
    await ok(rules, 'create_rule', { model_id: model, rule_name: 'One position', rule_category: 'risk', rule_description: '', enforcement_params: { max_positions: 1 } });
    await ok(rules, 'create_rule', { model_id: model, rule_name: 'Two trades a run', rule_category: 'risk', rule_description: '', enforcement_params: { max_trades_per_run: 2 }, priority: 2 });
    await ok(rules, 'create_rule', { model_id: model, rule_name: 'Be patient', rule_category: 'strategy', rule_description: '', enforcement_params: { guidance: 'Wait for setups.' } });
    const run = await ok(runs, 'start_run', { model_id: model, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-20' });
    const clock = new Date(run.clock);

    // Set up a held AAPL position (a simulated symbol) worth about 30% of the portfolio, bought at the clock's price.
    const sql = t.suite.deps.sql;
    const mark = (await t.suite.deps.market.priceAt('AAPL', clock))!.price;
    const qty = Math.floor(3000 / mark);
    const cost = Math.round(qty * mark * 100) / 100;
    await sql`insert into positions (run_id, symbol, quantity, avg_cost, cost_basis, opened_at) values (${run.run_id}, 'AAPL', ${qty}, ${mark}, ${cost}, ${clock})`;
    await sql`update runs set cash = cash - ${cost} where id = ${run.run_id}`;
    const [order] = await sql`insert into orders (run_id, model_id, side, symbol, quantity, status, clock)
                              values (${run.run_id}, ${model}, 'buy', 'AAPL', ${qty}, 'filled', ${clock}) returning id`;
    await sql`insert into fills (order_id, run_id, symbol, side, quantity, price, cash_change, clock)
              values (${order!.id}, ${run.run_id}, 'AAPL', 'buy', ${qty}, ${mark}, ${-cost}, ${clock})`;

    const more = await ok(rules, 'check_order', { model_id: model, side: 'buy', symbol: 'AAPL', quantity: 1 });
    expect(more).toMatchObject({ allowed: false, run_id: run.run_id, clock: run.clock, price: mark });
    expect(more.portfolio_value).toBeCloseTo(10_000, 1);
    expect(more.violations.map((v: any) => v.code)).toEqual(['MAX_POSITION_PCT']);
    expect(more.rules_checked.map((r: any) => r.rule_name)).toEqual(['Max 20% per position', 'One position', 'Two trades a run']);

    // a second symbol breaks the one-position cap, but the trade count (1 fill + 1) is fine
    const second = await ok(rules, 'check_order', { model_id: model, side: 'buy', symbol: 'MSFT', quantity: 1, price: 10 });
    expect(second.violations.map((v: any) => [v.rule_name, v.code])).toEqual([['One position', 'MAX_POSITIONS']]);

    // selling what is held only reduces risk: never blocked by a rule
    expect(await ok(rules, 'check_order', { model_id: model, side: 'sell', symbol: 'AAPL', quantity: qty })).toMatchObject({ allowed: true, violations: [] });

    // a second fill reaches the per-run trade cap
    const [order2] = await sql`insert into orders (run_id, model_id, side, symbol, quantity, status, clock)
                               values (${run.run_id}, ${model}, 'sell', 'AAPL', 1, 'filled', ${clock}) returning id`;
    await sql`insert into fills (order_id, run_id, symbol, side, quantity, price, cash_change, clock)
              values (${order2!.id}, ${run.run_id}, 'AAPL', 'sell', 1, ${mark}, ${mark}, ${clock})`;
    const capped = await ok(rules, 'check_order', { model_id: model, side: 'buy', symbol: 'MSFT', quantity: 1, price: 10 });
    expect(capped.violations.map((v: any) => v.code)).toEqual(['MAX_POSITIONS', 'MAX_TRADES_PER_RUN']);

    // no price at the clock: one sentence asking for one
    vi.spyOn(t.suite.deps.market, 'priceAt').mockResolvedValueOnce(null);
    const unpriced = await call(rules, 'check_order', { model_id: model, side: 'buy', symbol: 'ZZZZ', quantity: 1 });
    expect(unpriced).toMatchObject({ isError: true, text: `No price for ZZZZ at ${run.clock}; pass price.` });
  });

  it('checks against initial cash when no run is running, pricing from the market when no price is given', async () => {
    const model = await newModel({ initial_cash: 5_000 });
    await ok(rules, 'create_rule', { model_id: model, rule_name: 'Max order $100', rule_category: 'position_sizing', rule_description: '', enforcement_params: { max_order_value: 100 } });
    const spy = vi.spyOn(t.suite.deps.market, 'priceAt').mockResolvedValueOnce({ symbol: 'AAPL', price: 150, time: new Date().toISOString(), source: 'simulated' });
    const r = await ok(rules, 'check_order', { model_id: model, side: 'buy', symbol: 'aapl', quantity: 1 });
    expect(spy).toHaveBeenCalledWith('AAPL', expect.any(Date));
    expect(r).toMatchObject({ allowed: false, run_id: null, portfolio_value: 5_000, price: 150 });
    expect(r.violations).toEqual([
      { rule_id: expect.any(Number), rule_name: 'Max order $100', code: 'MAX_ORDER_VALUE', message: "Rule 'Max order $100': order value would be 1 × $150.00 = $150.00 (limit $100.00 per order)" },
    ]);
    const bad = await call(rules, 'check_order', { model_id: model, side: 'buy', symbol: 'AAPL', quantity: 0, price: 1 });
    expect(bad.text).toMatch(/quantity must be at least 1 share/);
  });
});
