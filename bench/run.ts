// npm run bench: runs every bench/*.ts (but this file), one after another. Benchmarks print
// figures and ratios against a no-op tool on the same stack; they never pass or fail.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'noop.ts' && (!only || f.includes(only)))
  .sort();
for (const f of files) {
  process.stdout.write(`\n== bench/${f}\n`);
  const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { main?: () => Promise<void> };
  await mod.main?.();
}
