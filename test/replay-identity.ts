// The identity property of the counterfactual replay, as the trade tests assert it on a run
// they made through MCP: replayed under its frozen rules, the run gives the same fills (to the
// tick and cent), cash, realized P&L and order outcomes; replay_with_rules under no rules then
// changes `withoutRules` orders (0 for a run no rule acted on).
import type { Client } from '@modelcontextprotocol/client';
import { expect } from 'vitest';
import { toCents } from '../shared/domain/money.js';
import { loadRunFills } from '../shared/store/analyst.js';
import { getOwnedRun } from '../shared/store/runs.js';
import { replayRun } from '../shared/trading/counterfactual.js';
import { ok, type TestSuite } from './harness.js';

export async function expectReplayed(t: TestSuite, analyst: Client, userId: number, runId: number, fills: number, withoutRules = 0) {
  const deps = t.suite.deps;
  const done = await getOwnedRun(deps.sql, userId, runId);
  const replay = await replayRun(deps, done, null);
  const strip = (f: { symbol: string; side: string; quantity: number; price: number; commission_cents: number; clock: string; source: string }) =>
    `${f.clock} ${f.source} ${f.side} ${f.quantity} ${f.symbol} @${f.price} fee ${f.commission_cents}`;
  const recorded = await loadRunFills(deps.sql, runId);
  expect(recorded).toHaveLength(fills);
  expect(replay.fills.map(strip).sort()).toEqual(recorded.map(strip).sort());
  expect(replay.book.cashCents).toBe(toCents(done.cash));
  expect(replay.book.realizedPnlCents).toBe(toCents(done.realized_pnl));
  for (const o of replay.orders) expect(`${o.order_id} ${replay.book.outcomes.get(o.order_id)!.status}`).toBe(`${o.order_id} ${o.status}`);
  const bare = await ok(analyst, 'replay_with_rules', { run_id: runId, rules: [] });
  expect(bare.orders_changed).toBe(withoutRules);
  return bare;
}
