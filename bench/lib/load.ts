// The load of a benchmark, in its own process (forked by bench/lib/server.ts): real MCP
// clients over HTTP. A warm-up of a few thousand calls first; then tools A and B measured in
// alternation (call by call for latency, phase by phase for throughput, CPU and round trips).
import type { Client } from '@modelcontextprotocol/client';
import { connect, listen, mark, send } from './child.js';

type Urls = Partial<Record<'trade' | 'runs' | 'rules' | 'bare', string>>;

async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const res = (await client.callTool({ name, arguments: args })) as { structuredContent?: any; content?: { text?: string }[]; isError?: boolean };
  if (res.isError) throw new Error(`${name} failed: ${(res.content ?? []).map((c) => c.text).join(' ')}`);
  return res.structuredContent;
}

async function timed(out: number[], f: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  await f();
  out.push(performance.now() - t0);
}

/** A measured phase: `clients` run `perClient` calls each, concurrently. */
async function phase(tool: string, clients: number, perClient: number, call: (i: number) => Promise<unknown>, callsPerIteration = 1): Promise<void> {
  await mark({ type: 'start', tool });
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let k = 0; k < perClient; k++) await timed(latencies, () => call(c));
    }),
  );
  await mark({ type: 'end', tool, calls: clients * perClient * callsPerIteration, latencies: callsPerIteration === 1 ? latencies : [] });
}

// ---- trade: orders against the no-op, on a model with 5 active rules --------------------------

const SYMBOL = 'JPM';
const FIVE_RULES = [
  { rule_name: 'Max 20% per position', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.2 } },
  { rule_name: 'At most 5 positions', rule_category: 'risk', enforcement_params: { max_positions: 5, daily_loss_limit_pct: 0.5 } },
  { rule_name: 'Lunch blackout', rule_category: 'timing', enforcement_params: { blackout_windows: [{ start: '12:00', end: '13:00' }] } },
  { rule_name: 'Universe', rule_category: 'screening', enforcement_params: { allowed_symbols: ['JPM', 'XOM', 'KO'] } },
  { rule_name: 'Stop 5%', rule_category: 'stop_loss', enforcement_params: { stop_loss_pct: 0.05 } },
];
export const CLIENTS = 16;

async function tradingModel(runs: Client, rules: Client, name: string): Promise<number> {
  const model = await ok(runs, 'create_model', { name, initial_cash: 1_000_000, max_orders_per_minute: 10_000 });
  for (const r of FIVE_RULES) await ok(rules, 'create_rule', { model_id: model.model_id, rule_description: '', ...r });
  // A replay clock inside the session, outside the blackout: every order is checked, none refused.
  await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-03-12T14:00:00Z', end: '2025-03-12T20:00:00Z', symbols: [SYMBOL] });
  return model.model_id as number;
}

async function order(c: Client, model: number, side: 'buy' | 'sell'): Promise<void> {
  const r = await ok(c, side, { model_id: model, symbol: SYMBOL, quantity: 1 });
  if (r.status !== 'filled') throw new Error(`bench order not filled: ${r.status} ${JSON.stringify(r.rejections)}`);
}

async function trade(urls: Urls, keys: string[]): Promise<void> {
  // setup on the last key; each of the 16 clients on its own
  const [runs, rules] = await Promise.all([connect(urls.runs!, keys[CLIENTS]!), connect(urls.rules!, keys[CLIENTS]!)]);
  const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, c) => connect(urls.trade!, keys[c]!)));
  const bare = await Promise.all(Array.from({ length: CLIENTS }, () => connect(urls.bare!)));
  const models: number[] = [];
  for (let i = 0; i < CLIENTS; i++) models.push(await tradingModel(runs, rules, `bench-${i}`));
  const held = models.map(() => 0);
  // Alternate buy and sell per model so positions stay at 0 or 1 share.
  const nextOrder = (c: number) => order(clients[c]!, models[c]!, held[c]++ % 2 === 0 ? 'buy' : 'sell');
  const seq = clients[0]!;

  // Warm-up: ~2,700 calls, every path hot (JIT, statement cache, key cache, market blocks).
  for (let i = 0; i < 150; i++) {
    await ok(seq, 'noop');
    await nextOrder(0);
    await ok(seq, 'get_portfolio', { model_id: models[0] });
    await ok(seq, 'noop');
    await nextOrder(0);
    await ok(bare[0]!, 'noop');
  }
  await Promise.all(clients.map(async (c, i) => {
    for (let k = 0; k < 60; k++) {
      await ok(c, 'noop');
      await nextOrder(i);
      await ok(bare[i]!, 'noop');
    }
  }));

  // Sequential latency, tools interleaved call by call.
  const lat: Record<string, number[]> = { noop: [], order: [], get_portfolio: [], bare: [] };
  for (let i = 0; i < 250; i++) {
    await timed(lat.bare!, () => ok(bare[0]!, 'noop'));
    await timed(lat.noop!, () => ok(seq, 'noop'));
    await timed(lat.order!, () => nextOrder(0));
    await timed(lat.get_portfolio!, () => ok(seq, 'get_portfolio', { model_id: models[0] }));
    await timed(lat.noop!, () => ok(seq, 'noop'));
    await timed(lat.order!, () => nextOrder(0));
  }
  for (const [tool, latencies] of Object.entries(lat)) send({ type: 'latencies', tool: `${tool}@1`, latencies });

  // Throughput with 16 clients, phases interleaved A B C A B C ...
  for (let round = 0; round < 2; round++) {
    await phase(`bare@${CLIENTS}`, CLIENTS, 40, (c) => ok(bare[c]!, 'noop'));
    await phase(`noop@${CLIENTS}`, CLIENTS, 40, (c) => ok(clients[c]!, 'noop'));
    await phase(`order@${CLIENTS}`, CLIENTS, 40, (c) => nextOrder(c));
    await phase(`get_portfolio@${CLIENTS}`, CLIENTS, 20, (c) => ok(clients[c]!, 'get_portfolio', { model_id: models[c] }));
  }
}

// ---- replay: advance_run steps of 10 symbols on minute bars against the no-op ----------------

export const REPLAY_SESSION = '2025-03-12';
// Simulated symbols that no test file imports, so a shared Postgres serves them simulated too.
export const REPLAY_SYMBOLS = ['JPM', 'V', 'UNH', 'XOM', 'JNJ', 'WMT', 'PG', 'MA', 'HD', 'KO'];

async function replay(urls: Urls, keys: string[]): Promise<void> {
  const runs = await connect(urls.runs!, keys[0]!);
  const bare = await connect(urls.bare!);
  const model = await ok(runs, 'create_model', { name: 'bench-replay' });
  const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: REPLAY_SESSION, end: REPLAY_SESSION, symbols: REPLAY_SYMBOLS });
  const step = async () => {
    const r = await ok(runs, 'advance_run', { run_id: run.run_id });
    if (r.done || r.steps_taken !== 1) throw new Error('bench replay ran out of steps');
  };
  // Warm-up: 2,000 no-op calls and 40 steps (the first one stores 10 sessions of bars).
  for (let i = 0; i < 2000; i++) {
    await ok(runs, 'noop');
    if (i % 2 === 0) await ok(bare, 'noop');
  }
  for (let i = 0; i < 40; i++) await step();
  // 300 steps and 300 no-op calls, in alternating phases of 20.
  for (let round = 0; round < 15; round++) {
    await phase('bare@1', 1, 20, () => ok(bare, 'noop'));
    await phase('noop@1', 1, 20, () => ok(runs, 'noop'));
    await phase('advance_run@1', 1, 20, step);
  }
}

listen((m: { type: string; scenario?: 'trade' | 'replay'; urls?: Urls; keys?: string[] }) => {
  if (m.type !== 'go') return;
  const run = m.scenario === 'trade' ? trade : replay;
  run(m.urls!, m.keys!)
    .then(() => send({ type: 'done' }))
    .catch((err: unknown) => send({ type: 'error', error: err instanceof Error ? err.message : String(err) }))
    .finally(() => setTimeout(() => process.exit(0), 100));
});
