// Made-up daily bars written as a CSV file and imported through the admin command, as a user
// would load their own bars (the csv format of shared/market/importers.ts).
import fs from 'node:fs';
import path from 'node:path';
import { runAdminCommand } from '../shared/admin/commands.js';
import type { TestSuite } from './harness.js';

/** [date YYYY-MM-DD, open, high, low, close] per symbol; volume 1,000,000. */
export type DayBars = Record<string, [string, number, number, number, number][]>;

/** Writes `bars` to `file` in the suite's data directory and imports them. */
export async function importDayBars(t: TestSuite, file: string, bars: DayBars): Promise<void> {
  const csv = path.join(t.dataDir, file);
  const lines = Object.entries(bars).flatMap(([sym, rows]) => rows.map(([d, o, h, l, c]) => `${sym},day,${d},${o},${h},${l},${c},1000000`));
  fs.writeFileSync(csv, ['symbol,timespan,t,open,high,low,close,volume', ...lines].join('\n') + '\n');
  await runAdminCommand(t.suite.deps, ['import-bars', csv, '--format', 'csv']);
}
