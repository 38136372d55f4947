// `npm run admin -- import-bars FILE [--format ai-trader|csv]`: parse a file of bars and
// upsert it into price_bars (source 'imported') in one transaction. Idempotent.
import fs from 'node:fs';
import path from 'node:path';
import { bumpCacheEpoch, cacheEpochCommitted } from '../cache.js';
import type { Sql } from '../db/database.js';
import type { Timespan } from '../domain/types.js';
import { upsertBars } from './bars-store.js';
import { blockOf } from './blocks.js';
import { parseAiTraderJsonl, parseBarsCsv } from './importers.js';
import type { Market } from './market.js';

export type ImportFormat = 'ai-trader' | 'csv';

export interface ImportSummary {
  file: string;
  format: ImportFormat;
  bars: number;
  openOnly: number;
  symbols: string[];
  perTimespan: Partial<Record<Timespan, { bars: number; symbols: number }>>;
}

export function formatFromPath(file: string): ImportFormat | null {
  const ext = path.extname(file).toLowerCase();
  return ext === '.jsonl' ? 'ai-trader' : ext === '.csv' ? 'csv' : null;
}

export async function importBarsFile(sql: Sql, market: Market, file: string, format?: ImportFormat): Promise<ImportSummary> {
  const fmt = format ?? formatFromPath(file);
  if (!fmt) throw new Error(`Cannot tell the format of ${file} from its extension: pass --format ai-trader or --format csv.`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`);
  }
  const series = (fmt === 'ai-trader' ? parseAiTraderJsonl(text) : parseBarsCsv(text)).map((s) => ({
    symbol: s.symbol.trim().toUpperCase(),
    timespan: s.timespan as Timespan,
    bars: s.bars,
  }));
  await sql.begin(async (tx) => {
    for (const s of series) await upsertBars(tx, s.symbol, s.timespan, 'imported', s.bars);
    await bumpCacheEpoch(tx); // copies made before this import lose to it, even in a stale Redis
  });
  await cacheEpochCommitted(sql);
  await market.forget(
    series.map((s) => ({ symbol: s.symbol, timespan: s.timespan, blocks: [...new Set(s.bars.map((b) => blockOf(s.timespan, new Date(b.t)).id))] })),
  );
  const perTimespan: ImportSummary['perTimespan'] = {};
  for (const s of series) {
    const e = (perTimespan[s.timespan] ??= { bars: 0, symbols: 0 });
    e.bars += s.bars.length;
    e.symbols += 1;
  }
  return {
    file,
    format: fmt,
    bars: series.reduce((n, s) => n + s.bars.length, 0),
    openOnly: series.reduce((n, s) => n + s.bars.filter((b) => b.c === null).length, 0),
    symbols: [...new Set(series.map((s) => s.symbol))].sort(),
    perTimespan,
  };
}

export function describeImport(s: ImportSummary): string[] {
  const spans = Object.entries(s.perTimespan).map(([ts, e]) => `${ts}: ${e.bars} bars of ${e.symbols} symbol(s)`);
  const shown = s.symbols.length > 12 ? `${s.symbols.slice(0, 12).join(', ')} and ${s.symbols.length - 12} more` : s.symbols.join(', ');
  return [
    `Imported ${s.bars} bars from ${s.file} (${s.format}) into price_bars as source 'imported'.`,
    ...spans.map((l) => `  ${l}`),
    `  symbols (${s.symbols.length}): ${shown || 'none'}`,
    `  open-only bars kept: ${s.openOnly} (each gives the price at its own start; never served as a closed bar)`,
  ];
}
