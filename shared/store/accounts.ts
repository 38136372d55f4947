// A run's account (cash on the run row, positions in their table) valued at the
// clock's market prices, never at the last trade price.
import type { Q } from '../db/database.js';
import { notionalCents, toCents } from '../domain/money.js';
import type { Market } from '../market/market.js';
import { num } from './rows.js';

export interface StoredPosition {
  symbol: string;
  quantity: number;
  /** Exact cost basis in cents (paid for a long, received for a short). */
  costCents: number;
  /** Derived from costCents, 4 dp. */
  avgCost: number;
  highWater: number | null;
  lowWater: number | null;
}

export async function loadPositions(sql: Q, runId: number): Promise<StoredPosition[]> {
  const rows = await sql`select symbol, quantity, cost_basis, avg_cost, high_water, low_water from positions where run_id = ${runId} order by symbol`;
  return rows.map((r) => ({
    symbol: r.symbol,
    quantity: r.quantity,
    costCents: toCents(r.cost_basis),
    avgCost: num(r.avg_cost),
    highWater: r.high_water === null ? null : num(r.high_water),
    lowWater: r.low_water === null ? null : num(r.low_water),
  }));
}

export interface MarkedAccount {
  cashCents: number;
  positionsCents: number;
  totalCents: number;
  positions: (StoredPosition & { price: number; priced: boolean })[];
}

/** Prices every position at `at`; an unpriced symbol is carried at its average cost and flagged. */
export async function markAccount(sql: Q, market: Market, run: { run_id: number; cash: number }, at: Date): Promise<MarkedAccount> {
  const positions = await loadPositions(sql, run.run_id);
  const marked = await Promise.all(
    positions.map(async (p) => {
      const q = await market.priceAt(p.symbol, at, sql);
      return { ...p, price: q?.price ?? p.avgCost, priced: q !== null };
    }),
  );
  const cashCents = toCents(run.cash);
  const positionsCents = marked.reduce((s, p) => s + notionalCents(p.quantity, p.price), 0);
  return { cashCents, positionsCents, totalCents: cashCents + positionsCents, positions: marked };
}
