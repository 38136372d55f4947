// npm run bench -- analyst: calculate_metrics, analyze_trades (and equity_chart when the
// analyst server lists it) on a run with 100k equity points and 20k fills, each as a ratio
// to just reading the same rows (the equity points and the fills with their orders, in the
// same process), then the same on a 10k-point / 2k-fill run for the 10k → 100k scaling.
// Calls go through a real MCP client; the floor is in-process reads, so a ratio includes
// the MCP round trip (the no-op tool's time is printed for scale).
import { analystServer } from '../servers/analyst/server.js';
import { runsServer } from '../servers/runs/server.js';
import { replayClock } from '../shared/domain/calendar.js';
import { centsToDecimal } from '../shared/domain/money.js';
import { bootSuite, ok, type TestSuite } from '../test/harness.js';
import { withNoop } from './noop.js';
import { bareServer } from './lib/bare.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const SYMBOL = 'JPM';
const REPEAT = 3;

/** The median wall time of `n` calls of `f`, ms. */
export async function median(n: number, f: () => Promise<unknown> | unknown): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

/**
 * A completed minute replay of `points` steps from 2024-01-02 with `fills` fills (buy/sell
 * pairs of JPM, one round trip every points/fills×2 steps), written straight to the tables.
 */
async function syntheticRun(t: TestSuite, runs: Client, points: number, fills: number): Promise<number> {
  const model = await ok(runs, 'create_model', { name: `bench-analyst-${points}`, initial_cash: 1_000_000, commission_per_share: 0.005 });
  const clocks: Date[] = [];
  for (const at of replayClock('minute', '2024-01-02', '2025-12-31')) {
    clocks.push(at);
    if (clocks.length === points) break;
  }
  const start = await ok(runs, 'start_run', {
    model_id: model.model_id, kind: 'replay', timespan: 'minute', start: clocks[0]!.toISOString(), end: clocks.at(-1)!.toISOString(), symbols: [SYMBOL],
  });
  const runId = start.run_id as number;
  const sql = t.suite.deps.sql;
  await sql`delete from equity_snapshots where run_id = ${runId}`;
  // A wandering equity curve in whole cents.
  let cents = 100_000_000;
  const eq = clocks.map((clock, i) => {
    cents += Math.round(Math.sin(i / 37) * 900 + Math.cos(i / 11) * 500);
    return { run_id: runId, clock, cash: centsToDecimal(cents), positions_value: '0.00', total_value: centsToDecimal(cents) };
  });
  for (let i = 0; i < eq.length; i += 5000) await sql`insert into equity_snapshots ${sql(eq.slice(i, i + 5000))}`;
  const every = Math.max(1, Math.floor(points / fills));
  const orders: Record<string, unknown>[] = [];
  for (let k = 0; k < fills; k++) {
    const side = k % 2 === 0 ? 'buy' : 'sell';
    orders.push({ run_id: runId, model_id: model.model_id, side, symbol: SYMBOL, quantity: 100, status: 'filled', reasoning: `Bench ${side} ${k}`, source: 'agent', clock: clocks[Math.min(k * every, clocks.length - 1)]! });
  }
  const ids: number[] = [];
  for (let i = 0; i < orders.length; i += 2000) {
    const rows = await sql`insert into orders ${sql(orders.slice(i, i + 2000) as any)} returning id`;
    ids.push(...rows.map((r) => r.id as number));
  }
  let realized = 0;
  const fillRows = orders.map((o, k) => {
    const price = 200 + ((k * 7) % 50) / 10;
    const notional = Math.round(price * 100 * 100);
    const buy = o.side === 'buy';
    const cashChange = buy ? -notional - 50 : notional - 50;
    realized += cashChange;
    return { order_id: ids[k]!, run_id: runId, symbol: SYMBOL, side: o.side, quantity: 100, price, commission: '0.50', slippage: 0, cash_change: centsToDecimal(cashChange), realized_pnl: '0.00', clock: o.clock };
  });
  for (let i = 0; i < fillRows.length; i += 2000) await sql`insert into fills ${sql(fillRows.slice(i, i + 2000) as any)}`;
  await sql`update runs set status = 'completed', clock = ${clocks.at(-1)!}, ended_at = now(), realized_pnl = ${centsToDecimal(realized)} where id = ${runId}`;
  return runId;
}

async function measure(t: TestSuite, analyst: Client, runId: number, chart: boolean) {
  const sql = t.suite.deps.sql;
  const floor = await median(REPEAT, async () => {
    await sql`select clock, total_value from equity_snapshots where run_id = ${runId} order by clock`;
    await sql`select f.*, o.source, o.reasoning, o.created_at from fills f join orders o on o.id = f.order_id where f.run_id = ${runId} order by f.clock, f.id`;
  });
  const out: Record<string, number> = { floor };
  out.calculate_metrics = await median(REPEAT, () => ok(analyst, 'calculate_metrics', { run_id: runId }));
  out.analyze_trades = await median(REPEAT, () => ok(analyst, 'analyze_trades', { run_id: runId }));
  // Hook: equity_chart is measured as soon as the analyst server lists it.
  if (chart) out.equity_chart = await median(REPEAT, () => analyst.callTool({ name: 'equity_chart', arguments: { run_id: runId } }));
  return out;
}

export async function main(): Promise<void> {
  const t = await bootSuite({ specs: [withNoop(analystServer), runsServer], onDisk: true });
  try {
    const { key } = await t.user();
    const [analyst, runs] = await Promise.all([t.client('analyst', key), t.client('runs', key)]);
    const chart = (await analyst.listTools()).tools.some((x) => x.name === 'equity_chart');
    const noop = await median(21, () => ok(analyst, 'noop'));
    // the second floor: the same no-op on a bare SDK echo server, same kind of client
    const bare = await bareServer();
    const echo = new Client({ name: 'aibt-bench', version: '1.0.0' });
    await echo.connect(new StreamableHTTPClientTransport(new URL(bare.url)));
    await median(21, () => echo.callTool({ name: 'noop', arguments: {} }));
    const bareMs = await median(21, () => echo.callTool({ name: 'noop', arguments: {} }));
    await echo.close();
    bare.close();
    const small = await syntheticRun(t, runs, 10_000, 2_000);
    const large = await syntheticRun(t, runs, 100_000, 20_000);
    // warm the market's bars and the JIT once
    await ok(analyst, 'analyze_trades', { run_id: small });
    const a = await measure(t, analyst, small, chart);
    const b = await measure(t, analyst, large, chart);
    process.stdout.write(`no-op tool call: ${noop.toFixed(2)} ms (warm no-op); bare SDK echo no-op: ${bareMs.toFixed(2)} ms\n`);
    process.stdout.write(`floor (read equity points + fills with orders): 10k ${a.floor!.toFixed(1)} ms, 100k ${b.floor!.toFixed(1)} ms\n`);
    for (const tool of ['calculate_metrics', 'analyze_trades', ...(chart ? ['equity_chart'] : [])]) {
      process.stdout.write(
        `${tool}: 100k points/20k fills ${b[tool]!.toFixed(1)} ms = ${(b[tool]! / b.floor!).toFixed(2)}× floor; ` +
          `10k/2k ${a[tool]!.toFixed(1)} ms = ${(a[tool]! / a.floor!).toFixed(2)}× floor; scaling 10k→100k ${(b[tool]! / a[tool]!).toFixed(2)}× (linear 10×); ` +
          `100k vs warm no-op ${(b[tool]! / noop).toFixed(0)}×, vs bare SDK echo ${(b[tool]! / bareMs).toFixed(0)}×\n`,
      );
    }
    if (!chart) process.stdout.write('equity_chart: not listed by the analyst server yet; measure() times it once it is.\n');
  } finally {
    await t.close();
  }
}
