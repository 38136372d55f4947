// Issue 10 item 10: the tests need nothing beside the repository. A fresh `git clone` in a temp
// folder (no ../shared beside it, AIBT_SHARED_DIR unset) runs a test file that reads AI-Trader files.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-clone-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

it('a clone with nothing beside it passes the AI-Trader importer tests', async () => {
  const clone = path.join(tmp, 'aibt');
  await run('git', ['clone', '--quiet', repoRoot, clone]);
  expect(fs.existsSync(path.join(tmp, 'shared'))).toBe(false);
  expect(fs.readdirSync(tmp)).toEqual(['aibt']);
  // no test reaches for the data outside the repository (this machine has a copy at /work/shared)
  const refs = await run('git', ['grep', '-l', '-e', 'shared/data', '-e', 'AIBT_SHARED_DIR', '-e', '/work/shared', '--', '*.test.ts', 'test/*.ts', ':!test/self-contained.test.ts'], { cwd: clone }).catch((e) => e);
  expect(refs.code, refs.stdout).toBe(1); // git grep: 1 = no match
  // the installed packages only (no install in a test); nothing else is linked or copied in
  fs.symlinkSync(fs.realpathSync(path.join(repoRoot, 'node_modules')), path.join(clone, 'node_modules'));
  // a clean environment: no data-dir override, and none of the outer vitest's worker variables
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'AIBT_SHARED_DIR' && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS' && k !== 'FORCE_COLOR'));
  env.NO_COLOR = '1';
  const file = 'shared/market/importers.test.ts';
  const { stdout } = await run(path.join(clone, 'node_modules', '.bin', 'vitest'), ['run', file, '--reporter', 'verbose'], { cwd: clone, env, timeout: 110_000 });
  expect(stdout).toContain(file);
  expect(stdout).toMatch(/Tests\s+\d+ passed/);
  expect(stdout).not.toMatch(/failed|skipped/);
}, 120_000);
