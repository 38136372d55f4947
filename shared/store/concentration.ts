// A run's concentration (domain/concentration.ts) from its recorded equity points, its fills,
// the splits of the symbols it traded, and as-of prices where a point held several symbols.
import type { Q } from '../db/database.js';
import { concentrationPeaks, holdingsAt, type HeldFill, type PeakWeight, type ValuedPoint } from '../domain/concentration.js';
import type { SplitAction } from '../domain/corporate-actions.js';
import type { Market } from '../market/market.js';
import { iso, num } from './rows.js';
import type { RunRow } from './runs.js';

/**
 * Each symbol's highest weight at the run's equity points, marked to market, highest first.
 * `fills` in execution order (the caller has them already). A live run's start point (no
 * snapshot) holds nothing, so it is not read.
 */
export async function runConcentration(sql: Q, market: Market, run: RunRow, fills: readonly HeldFill[]): Promise<PeakWeight[]> {
  if (!fills.length) return [];
  const rows = await sql`select clock, total_value, positions_value from equity_snapshots where run_id = ${run.run_id} order by clock`;
  const points: ValuedPoint[] = rows.map((r) => ({ clock: iso(r.clock)!, value: num(r.total_value), positions_value: num(r.positions_value) }));
  const splits: SplitAction[] = [];
  for (const symbol of new Set(fills.map((f) => f.symbol))) {
    for (const a of await market.corporateActions(symbol, sql)) if (a.kind === 'split') splits.push(a);
  }
  const holdings = holdingsAt(points, fills, splits);
  // as-of prices only where a point held several symbols, a few reads at a time
  const wanted: { i: number; symbol: string }[] = [];
  holdings.forEach((h, i) => {
    if (h.size > 1) for (const symbol of h.keys()) wanted.push({ i, symbol });
  });
  const prices = new Map<string, number | null>();
  for (let k = 0; k < wanted.length; k += 32) {
    const batch = wanted.slice(k, k + 32);
    const got = await Promise.all(batch.map((w) => market.priceAt(w.symbol, new Date(points[w.i]!.clock), sql)));
    batch.forEach((w, j) => prices.set(`${w.i}|${w.symbol}`, got[j]?.price ?? null));
  }
  return concentrationPeaks(points, holdings, (i, symbol) => prices.get(`${i}|${symbol}`) ?? null);
}
