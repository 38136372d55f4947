// The clients of bench/attack.ts, in their own process: a trade client polling
// get_trading_status every 20 ms, idle and then beside six analyst clients' heavy calls.
// Each client has its own key. Marks the attack's start and end so the server samples its
// RSS and event-loop lag in between.
import { connect, listen, mark, send } from './child.js';

const PACE_MS = 20;
const IDLE_CALLS = 300;

async function go(m: { urls: Record<string, string>; keys: string[]; runId: number; modelId: number }) {
  const trade = await connect(m.urls.trade!, m.keys[0]!);
  const analysts = await Promise.all(m.keys.slice(1, 7).map((k) => connect(m.urls.analyst!, k)));
  const bare = await connect(m.urls.bare!);
  const status = async (out: number[], client = trade, name = 'get_trading_status') => {
    const t0 = performance.now();
    const r = await client.callTool({ name, arguments: name === 'get_trading_status' ? { model_id: m.modelId } : {} });
    out.push(performance.now() - t0);
    if (r.isError) throw new Error(`get_trading_status failed: ${JSON.stringify(r.content)}`);
    const wait = PACE_MS - (performance.now() - t0);
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  };
  // warm-up: the trade path, and one analyst call of each kind (simulated bars stored, threads up)
  for (let i = 0; i < 50; i++) await status([]);
  await analysts[0]!.callTool({ name: 'analyze_trades', arguments: { run_id: m.runId } });
  await analysts[1]!.callTool({ name: 'suggest_rules', arguments: { run_id: m.runId } }, { timeout: 600_000 });
  // idle: the trade call beside the two floors (the warm no-op, the bare SDK echo), interleaved
  const idle: number[] = [];
  const noop: number[] = [];
  const echo: number[] = [];
  for (let i = 0; i < IDLE_CALLS; i++) {
    await status(idle);
    await status(noop, trade, 'noop');
    await status(echo, bare, 'noop');
  }

  await mark({ type: 'attack-start' });
  const attack: number[] = [];
  const analystMs: number[] = [];
  const analystErrors: string[] = [];
  let running = true;
  const heavy = Promise.all(
    analysts.map(async (c, i) => {
      const t0 = performance.now();
      const name = i % 2 === 0 ? 'suggest_rules' : 'analyze_trades';
      const r = (await c.callTool({ name, arguments: { run_id: m.runId } }, { timeout: 900_000 })) as { isError?: boolean; content?: { text?: string }[] };
      analystMs.push(performance.now() - t0);
      if (r.isError) analystErrors.push(`${name}: ${r.content?.[0]?.text ?? ''}`);
    }),
  ).finally(() => (running = false));
  while (running) await status(attack);
  await heavy;
  await mark({ type: 'attack-end' });
  await Promise.all([trade, bare, ...analysts].map((c) => c.close()));
  send({ type: 'done', idle, noop, echo, attack, analystMs, analystErrors });
}

listen((m: { type: string }) => {
  if (m.type === 'go') {
    go(m as never).catch((err) => {
      send({ type: 'error', error: String(err?.stack ?? err) });
      process.exit(1);
    });
  }
});
