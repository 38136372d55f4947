// A replay day driven tool call by tool call through MCP clients: the day trader's rules
// refuse what they should, the clock fires exits and flattens by 15:55, and the final
// portfolio reconciles to the cent with the orders.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCents } from '../shared/domain/money.js';
import { bootSuite, ok, type TestSuite } from './harness.js';

let t: TestSuite;
beforeAll(async () => {
  t = await bootSuite();
});
afterAll(() => t?.close());

describe('a simulated replay day under the day_trader template', () => {
  it('trades, gets refused by its rules, flattens, and reconciles to the cent', async () => {
    const { key } = await t.user();
    const [runs, rules, trade, price] = await Promise.all(['runs', 'rules', 'trade', 'price'].map((s) => t.client(s as any, key)));
    const model = await ok(runs, 'create_model', { name: 'Day trader', initial_cash: 100_000 });
    const applied = await ok(rules, 'apply_template', { model_id: model.model_id, template: 'day_trader' });
    expect(applied.rules.length).toBeGreaterThanOrEqual(7);
    const run = await ok(runs, 'start_run', {
      model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-06-10', end: '2025-06-10', symbols: ['JPM', 'XOM', 'KO', 'WMT'],
    });
    expect(run.clock).toBe('2025-06-10T13:30:00.000Z');

    const early = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'JPM', quantity: 10 });
    expect(early.status).toBe('rejected');
    expect(early.rejections.map((r: any) => r.code)).toContain('BLACKOUT_WINDOW');

    const step = await ok(runs, 'advance_run', { run_id: run.run_id, steps: 5 });
    expect(step.clock).toBe('2025-06-10T13:35:00.000Z');
    expect(step.symbols.JPM.bars_closed).toBe(5);

    const qtyFor = async (symbol: string, fraction: number) => {
      const p = await ok(price, 'get_price', { symbol, run_id: run.run_id });
      expect(p.source).toBe('simulated');
      return Math.floor((100_000 * fraction) / p.price);
    };
    expect((await ok(trade, 'buy', { model_id: model.model_id, symbol: 'JPM', quantity: await qtyFor('JPM', 0.19), reasoning: 'Opening drive' })).status).toBe('filled');
    const tooBig = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'XOM', quantity: await qtyFor('XOM', 0.3) });
    expect(tooBig.rejections.map((r: any) => r.code)).toEqual(['MAX_POSITION_PCT']);
    expect(tooBig.rejections[0].message).toMatch(/limit 20%/);
    expect((await ok(trade, 'buy', { model_id: model.model_id, symbol: 'XOM', quantity: await qtyFor('XOM', 0.1) })).status).toBe('filled');
    expect((await ok(trade, 'buy', { model_id: model.model_id, symbol: 'KO', quantity: await qtyFor('KO', 0.1) })).status).toBe('filled');
    const fourth = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'WMT', quantity: 10 });
    expect(fourth.rejections.map((r: any) => r.code)).toContain('MAX_POSITIONS');

    const exits: any[] = [];
    let done = false;
    while (!done) {
      const r = await ok(runs, 'advance_run', { run_id: run.run_id, steps: 60 });
      exits.push(...r.exits_triggered);
      done = r.done;
    }
    // Every position was closed by the clock: a stop, a target, or the 15:55 flatten.
    expect(exits.map((e) => e.symbol).sort()).toEqual(['JPM', 'KO', 'XOM']);
    for (const e of exits) expect(e.reason).toMatch(/Rule '|Stop|Take|Flatten/i);

    const portfolio = await ok(trade, 'get_portfolio', { run_id: run.run_id });
    expect(portfolio.positions).toEqual([]);
    const { orders } = await ok(trade, 'list_orders', { run_id: run.run_id });
    const filled = orders.filter((o: any) => o.status === 'filled');
    expect(filled).toHaveLength(6); // three entries, three exits
    const cashCents = toCents(100_000) + filled.reduce((s: number, o: any) => s + toCents(o.fill.cash_change), 0);
    const realizedCents = filled.reduce((s: number, o: any) => s + toCents(o.fill.realized_pnl), 0);
    expect(toCents(portfolio.cash)).toBe(cashCents);
    expect(toCents(portfolio.realized_pnl)).toBe(realizedCents);
    expect(toCents(portfolio.total_value)).toBe(cashCents);
    expect(cashCents - toCents(100_000)).toBe(realizedCents);
    expect(orders.filter((o: any) => o.status === 'rejected')).toHaveLength(3);

    const finished = await ok(runs, 'get_run', { run_id: run.run_id });
    expect(finished.status).toBe('completed');
    expect(toCents(finished.final_stats.final_value)).toBe(cashCents);
    expect(finished.counts).toMatchObject({ orders: 9, fills: 6, rejections: 3, reasoning: 1 });
  });
});
