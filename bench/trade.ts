// buy/sell round trips on a model with 5 active rules against a no-op tool on the same
// stack, in one process and one run: sequential p50/p99 latency, then throughput with 16
// concurrent clients. Embedded PGlite by default; DATABASE_URL for Postgres 15.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { bootSuite, ok, type TestSuite } from '../test/harness.js';
import { runsServer } from '../servers/runs/server.js';
import { rulesServer } from '../servers/rules/server.js';
import { tradeServer } from '../servers/trade/server.js';
import { withNoop } from './noop.js';

const SEQUENTIAL = 300;
const CLIENTS = 16;
const PER_CLIENT = 40;
const SYMBOL = 'JPM';

const FIVE_RULES = [
  { rule_name: 'Max 20% per position', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.2 } },
  { rule_name: 'At most 5 positions', rule_category: 'risk', enforcement_params: { max_positions: 5, daily_loss_limit_pct: 0.5 } },
  { rule_name: 'Lunch blackout', rule_category: 'timing', enforcement_params: { blackout_windows: [{ start: '12:00', end: '13:00' }] } },
  { rule_name: 'Universe', rule_category: 'screening', enforcement_params: { allowed_symbols: ['JPM', 'XOM', 'KO'] } },
  { rule_name: 'Stop 5%', rule_category: 'stop_loss', enforcement_params: { stop_loss_pct: 0.05 } },
];

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(n: number, f: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

async function tradingModel(t: TestSuite, runs: Client, rules: Client, name: string): Promise<number> {
  const model = await ok(runs, 'create_model', { name, initial_cash: 1_000_000, max_orders_per_minute: 10_000 });
  for (const r of FIVE_RULES) await ok(rules, 'create_rule', { model_id: model.model_id, rule_description: '', ...r });
  // A replay clock inside the session, outside the blackout: every order is checked, none refused.
  await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-03-12T14:00:00Z', end: '2025-03-12T20:00:00Z', symbols: [SYMBOL] });
  return model.model_id as number;
}

export async function main(): Promise<void> {
  // On disk, like npm start (DATABASE_URL, when set, wins).
  const t = await bootSuite({ specs: [withNoop(tradeServer), runsServer, rulesServer], onDisk: true });
  try {
    const { key } = await t.user();
    const [trade, runs, rules] = await Promise.all([t.client('trade', key), t.client('runs', key), t.client('rules', key)]);
    const modelId = await tradingModel(t, runs, rules, 'bench-seq');
    const roundTrip = async (c: Client, m: number) => {
      const b = await ok(c, 'buy', { model_id: m, symbol: SYMBOL, quantity: 1 });
      const s = await ok(c, 'sell', { model_id: m, symbol: SYMBOL, quantity: 1 });
      if (b.status !== 'filled' || s.status !== 'filled') throw new Error(`bench order not filled: ${b.status}/${s.status}`);
    };
    for (let i = 0; i < 30; i++) {
      await ok(trade, 'noop');
      await roundTrip(trade, modelId);
    }

    const noop = await timed(SEQUENTIAL * 2, () => ok(trade, 'noop'));
    const orders: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      let t0 = performance.now();
      const b = await ok(trade, 'buy', { model_id: modelId, symbol: SYMBOL, quantity: 1 });
      orders.push(performance.now() - t0);
      t0 = performance.now();
      const s = await ok(trade, 'sell', { model_id: modelId, symbol: SYMBOL, quantity: 1 });
      orders.push(performance.now() - t0);
      if (b.status !== 'filled' || s.status !== 'filled') throw new Error('bench order not filled');
    }
    orders.sort((a, b) => a - b);

    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => t.client('trade', key)));
    const models: number[] = [];
    for (let i = 0; i < CLIENTS; i++) models.push(await tradingModel(t, runs, rules, `bench-c${i}`));
    let t0 = performance.now();
    await Promise.all(clients.map(async (c) => { for (let i = 0; i < PER_CLIENT * 2; i++) await ok(c, 'noop'); }));
    const noopPerSec = (CLIENTS * PER_CLIENT * 2) / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    await Promise.all(clients.map(async (c, i) => { for (let k = 0; k < PER_CLIENT; k++) await roundTrip(c, models[i]!); }));
    const ordersPerSec = (CLIENTS * PER_CLIENT * 2) / ((performance.now() - t0) / 1000);

    const db = t.suite.deps.db.where;
    const line = (k: string, v: string) => process.stdout.write(`${k.padEnd(40)} ${v}\n`);
    line('database', db);
    line('rules on the model', `${FIVE_RULES.length} active`);
    line('sequential no-op p50 / p99', `${pct(noop, 50).toFixed(2)} / ${pct(noop, 99).toFixed(2)} ms`);
    line('sequential order p50 / p99', `${pct(orders, 50).toFixed(2)} / ${pct(orders, 99).toFixed(2)} ms (${orders.length} orders)`);
    line('ratio order / no-op p50', `${(pct(orders, 50) / pct(noop, 50)).toFixed(2)}x`);
    line('ratio order / no-op p99', `${(pct(orders, 99) / pct(noop, 99)).toFixed(2)}x`);
    line(`${CLIENTS} clients: no-op calls/s`, noopPerSec.toFixed(0));
    line(`${CLIENTS} clients: orders/s`, `${ordersPerSec.toFixed(0)} (${CLIENTS * PER_CLIENT * 2} orders on ${CLIENTS} models)`);
    line('ratio no-op / orders throughput', `${(noopPerSec / ordersPerSec).toFixed(2)}x`);
  } finally {
    await t.close();
  }
}
