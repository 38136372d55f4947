// Order load for the reliability suite, and the ledger check that follows it: read straight
// from the database, every filled order has one fill, each run's cash is its initial cash
// plus the sum of its fills' cash changes to the cent, and each position is the sum of its fills.
import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/client';
import postgres from 'postgres';
import { connect, sleep } from './procs.js';

export interface Tally {
  /** Orders the client saw filled, by client_order_id. */
  filled: Set<string>;
  /** Outcome texts (tool sentence, HTTP error) with counts. */
  outcomes: Map<string, number>;
  attempts: number;
  /** Every call: when it started (Date.now()) and how long its answer took (ms). */
  calls: { at: number; ms: number }[];
}

export const STORAGE_SENTENCE = /database is unavailable right now/i;
export const INTERNAL = /internal error/i;

/** Models with a replay run each (day bars of a simulated symbol), for orders that fill at once. */
export async function replayModels(runs: Client, n: number): Promise<{ modelId: number; runId: number }[]> {
  const out: { modelId: number; runId: number }[] = [];
  for (let i = 0; i < n; i++) {
    const m = await call(runs, 'create_model', { name: `load-${randomBytes(4).toString('hex')}`, initial_cash: 1_000_000, max_orders_per_minute: 10_000 });
    const r = await call(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-13', symbols: ['AAPL'] });
    out.push({ modelId: m.model_id, runId: r.run_id });
  }
  return out;
}

async function call(c: Client, name: string, args: Record<string, unknown>): Promise<any> {
  const r = (await c.callTool({ name, arguments: args })) as any;
  if (r.isError) throw new Error(`${name}: ${r.content?.[0]?.text}`);
  return r.structuredContent;
}

/** One client per model placing 1-share buys until stop() is called. */
export function orderLoad(tradeUrl: string, key: string, models: { modelId: number }[]) {
  const tally: Tally = { filled: new Set(), outcomes: new Map(), attempts: 0, calls: [] };
  let stopping = false;
  const count = (t: string) => tally.outcomes.set(t, (tally.outcomes.get(t) ?? 0) + 1);
  const loops = models.map(async ({ modelId }) => {
    let client: Client | null = null;
    while (!stopping) {
      const id = `rel-${modelId}-${randomBytes(6).toString('hex')}`;
      try {
        client ??= await connect(tradeUrl, key);
        tally.attempts++;
        const at = Date.now();
        const r = (await client.callTool({ name: 'buy', arguments: { model_id: modelId, symbol: 'AAPL', quantity: 1, client_order_id: id } })) as any;
        tally.calls.push({ at, ms: Date.now() - at });
        if (r.isError) count(String(r.content?.[0]?.text));
        else {
          count(`status ${r.structuredContent.status}`);
          if (r.structuredContent.status === 'filled') tally.filled.add(id);
        }
      } catch (err) {
        count(`HTTP: ${String((err as Error).message).slice(0, 160)}`);
        client = null; // the connection may be gone (the process killed): connect again
        await sleep(100);
      }
    }
  });
  return {
    tally,
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

export interface Ledger {
  orders: number;
  filledOrders: number;
  fills: number;
  problems: string[];
}

/** Reconciles the runs' ledgers straight from the database. */
export async function reconcile(sql: postgres.Sql, runIds: number[], seenFilled: Set<string>): Promise<Ledger> {
  const problems: string[] = [];
  const [counts] = await sql<{ orders: number; filled: number; fills: number }[]>`
    select (select count(*)::int from orders where run_id = any(${runIds})) as orders,
           (select count(*)::int from orders where run_id = any(${runIds}) and status = 'filled') as filled,
           (select count(*)::int from fills where run_id = any(${runIds})) as fills`;
  const orphan = await sql`
    select o.id, o.status, f.id as fill_id from orders o full join fills f on f.order_id = o.id
    where (o.run_id = any(${runIds}) or f.run_id = any(${runIds}))
      and ((o.status = 'filled') <> (f.id is not null) or o.id is null)`;
  for (const r of orphan) problems.push(`order ${r.id} (${r.status}) and fill ${r.fill_id} disagree`);
  const dupes = await sql`select client_order_id, count(*)::int as n from orders
    where run_id = any(${runIds}) and client_order_id is not null group by client_order_id having count(*) > 1`;
  for (const d of dupes) problems.push(`client_order_id ${d.client_order_id} stored ${d.n} times`);
  const cash = await sql`
    select r.id, r.cash::text as cash, (r.initial_cash + coalesce(sum(f.cash_change), 0))::text as expected
    from runs r left join fills f on f.run_id = r.id where r.id = any(${runIds}) group by r.id`;
  for (const c of cash) if (c.cash !== c.expected) problems.push(`run ${c.id}: cash ${c.cash}, fills say ${c.expected}`);
  const pos = await sql`
    select f.run_id, f.symbol,
           sum(case when f.side in ('buy', 'cover') then f.quantity else -f.quantity end)::int as expected,
           coalesce((select p.quantity from positions p where p.run_id = f.run_id and p.symbol = f.symbol), 0)::int as held
    from fills f where f.run_id = any(${runIds}) group by f.run_id, f.symbol`;
  for (const p of pos) if (p.expected !== p.held) problems.push(`run ${p.run_id} ${p.symbol}: holds ${p.held}, fills say ${p.expected}`);
  const stored = new Set(
    (await sql`select client_order_id from orders where run_id = any(${runIds}) and status = 'filled'`).map((r) => r.client_order_id as string),
  );
  for (const id of seenFilled) if (!stored.has(id)) problems.push(`order ${id} was reported filled but is not stored filled`);
  return { orders: counts!.orders, filledOrders: counts!.filled, fills: counts!.fills, problems };
}
