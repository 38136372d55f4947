// `npm run admin -- import-actions FILE`: splits and cash dividends of imported symbols from
// a CSV file (ACTIONS_CSV_FORMAT_DOC), upserted in one transaction. Idempotent.
import fs from 'node:fs';
import type { Sql } from '../db/database.js';
import { saveDividends, saveSplits } from './bars-store.js';
import { parseActionsCsv } from './importers.js';
import type { Market } from './market.js';

export async function importActionsFile(sql: Sql, market: Market, file: string): Promise<string[]> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`);
  }
  const { splits, dividends } = parseActionsCsv(text);
  const symbols = [...new Set([...splits.map((s) => s.symbol), ...dividends.map((d) => d.symbol)])].sort();
  await sql.begin(async (tx) => {
    for (const symbol of symbols) {
      await saveSplits(tx, symbol, splits.filter((s) => s.symbol === symbol), null);
      await saveDividends(tx, symbol, dividends.filter((d) => d.symbol === symbol), null);
    }
  });
  // cached splits and dividends of these symbols are stale now
  await market.forget(symbols.map((symbol) => ({ symbol, timespan: 'day', blocks: [] })));
  return [
    `Imported ${splits.length} split(s) and ${dividends.length} dividend(s) from ${file} for ${symbols.length} symbol(s): ${symbols.join(', ') || 'none'}.`,
    '  Applied to run accounts as their clocks pass each date (splits: quantity × ratio, prices ÷ ratio; dividends: cash on the ex-date).',
  ];
}
