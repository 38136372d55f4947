// A completed minute replay of many filled agent orders, written straight to the tables: the
// heavy run that the analyst-offload test and bench/attack.ts analyse.
import { nextStep } from '../shared/domain/calendar.js';
import { centsToDecimal, toCents } from '../shared/domain/money.js';
import { SIMULATED_SYMBOLS } from '../shared/domain/simulated-market.js';
import { startRun } from '../shared/store/runs.js';
import type { Deps } from '../shared/deps.js';

const START = '2025-03-10';
const END = '2025-03-14';
export const HEAVY_SYMBOLS = ['JPM', 'V', 'UNH', 'XOM', 'JNJ', 'WMT', 'PG', 'MA', 'HD', 'KO'].filter((s) => SIMULATED_SYMBOLS.includes(s));

/** A deterministic pseudo-random sequence (mulberry32). */
export function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every minute step of the heavy runs' week (2025-03-10 … 03-14), the first after 12:00 UTC on. */
export function heavyClocks(): Date[] {
  const first = nextStep('minute', new Date(`${START}T12:00:00Z`));
  const end = new Date(`${END}T20:59:00Z`);
  const clocks: Date[] = [first];
  for (let c = nextStep('minute', first); c <= end; c = nextStep('minute', c)) clocks.push(c);
  return clocks;
}

/**
 * `orders` filled market order rows spread evenly over `clocks` (seeded by `orders`): buys of
 * 1–20 shares, and sells of part of what is held (45% once a symbol is held), created 2 s apart.
 */
export function randomOrderRows(runId: number, modelId: number, clocks: readonly Date[], symbols: readonly string[], orders: number): Record<string, unknown>[] {
  const rand = rng(orders);
  const held = new Map<string, number>();
  const rows: Record<string, unknown>[] = [];
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < orders; i++) {
    const clock = clocks[Math.floor((i * clocks.length) / orders)]!;
    const symbol = symbols[Math.floor(rand() * symbols.length)]!;
    const h = held.get(symbol) ?? 0;
    const sell = h > 0 && rand() < 0.45;
    const quantity = sell ? Math.max(1, Math.floor(h * rand())) : 1 + Math.floor(rand() * 20);
    held.set(symbol, h + (sell ? -quantity : quantity));
    rows.push({ run_id: runId, model_id: modelId, side: sell ? 'sell' : 'buy', symbol, quantity, order_type: 'market', status: 'filled', clock, created_at: new Date(t0 + i * 2000) });
  }
  return rows;
}

/**
 * A model of $1,000,000 named `name` and its replay run over heavyClocks() on HEAVY_SYMBOLS,
 * the clock at the first step; the run's rows are the caller's to write.
 */
export async function startHeavyRun(deps: Deps, userId: number, name: string) {
  const [m] = await deps.sql`insert into models (user_id, name, initial_cash) values (${userId}, ${name}, 1000000) returning id`;
  const modelId = m!.id as number;
  const clocks = heavyClocks();
  const first = clocks[0]!;
  const last = clocks.at(-1)!;
  const run = await deps.sql.begin((tx) => startRun(tx, userId, modelId, { kind: 'replay', timespan: 'minute', start: first, end: last, clock: first, symbols: HEAVY_SYMBOLS }));
  return { modelId, run, clocks, last };
}

/**
 * A completed minute replay of `orders` filled agent orders (buys, and sells of part of what
 * is held) with their fills, and an equity curve that falls ~15% and recovers, so the
 * detectors fire and suggest_rules replays its candidates. Written straight to the tables.
 */
export async function makeHeavyRun(deps: Deps, userId: number, orders: number): Promise<{ runId: number; modelId: number }> {
  const sql = deps.sql;
  const { modelId, run, clocks, last } = await startHeavyRun(deps, userId, `attack ${orders}`);
  for (let i = 0; i < clocks.length; i += 500) {
    const rows = clocks.slice(i, i + 500).map((c, k) => {
      const x = (i + k) / clocks.length;
      const value = toCents(1_000_000 * (1 - 0.15 * Math.sin(Math.PI * x) + 0.004 * Math.sin((i + k) / 7)));
      return { run_id: run.run_id, clock: c, cash: centsToDecimal(value), positions_value: 0, total_value: centsToDecimal(value) };
    });
    await sql`insert into equity_snapshots ${sql(rows)}`;
  }
  const rows: Record<string, unknown>[] = randomOrderRows(run.run_id, modelId, clocks, HEAVY_SYMBOLS, orders).map((o, i) => ({ ...o, source: 'agent', reasoning: `attack ${i}` }));
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += 1000) ids.push(...(await sql`insert into orders ${sql(rows.slice(i, i + 1000))} returning id`).map((r) => r.id as number));
  // fills at a price that wanders around 100 per symbol; the counting trigger is bypassed (bulk)
  const fills = rows.map((o, i) => {
    const price = Math.round((100 + 10 * Math.sin(i / 50) + HEAVY_SYMBOLS.indexOf(o.symbol as string)) * 100) / 100;
    const notional = toCents(price * (o.quantity as number));
    const buy = o.side === 'buy';
    return { order_id: ids[i]!, run_id: run.run_id, symbol: o.symbol, side: o.side, quantity: o.quantity, price, commission: '0.00', slippage: 0, cash_change: centsToDecimal(buy ? -notional : notional), realized_pnl: '0.00', clock: o.clock };
  });
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    for (let i = 0; i < fills.length; i += 1000) await tx`insert into fills ${tx(fills.slice(i, i + 1000) as any)}`;
  });
  await sql`update runs set status = 'completed', clock = ${last}, ended_at = now() where id = ${run.run_id}`;
  return { runId: run.run_id, modelId };
}

