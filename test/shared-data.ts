// Where the real market data given to the team lives: ../shared beside the repository
// (read there, never copied in). AIBT_SHARED_DIR overrides it for a clone kept elsewhere.
import fs from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..');
const candidates = [
  process.env.AIBT_SHARED_DIR,
  path.resolve(repoRoot, '../shared'),
  '/work/shared', // this workplace's copy, for a clone made somewhere else on the machine
].filter((d): d is string => Boolean(d));

export const SHARED_DIR = candidates.find((d) => fs.existsSync(path.join(d, 'data', 'ai-trader'))) ?? candidates[0]!;
export const AI_TRADER_DIR = path.join(SHARED_DIR, 'data', 'ai-trader');

if (!fs.existsSync(AI_TRADER_DIR)) {
  throw new Error(`The AI-Trader data is not at ${candidates.map((d) => path.join(d, 'data', 'ai-trader')).join(' or ')}; set AIBT_SHARED_DIR.`);
}
