// The package as a user gets it: `npm pack`, the tarball installed into an empty folder
// from the npm registry alone, and `aibt stdio` driven by the SDK's StdioClientTransport in
// both protocol eras (2025-11-25 and 2026-07-28, issue 17 item 9).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-pack-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** npm pack, then the tarball installed into an empty folder; returns the installed `aibt` bin. */
async function installPacked(): Promise<string> {
  // dist/ is already built (prepare / pretest): pack it without running prepare again
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: root, maxBuffer: 16 << 20 });
  const tarball = path.join(work, stdout.trim().split('\n').at(-1)!);
  const empty = path.join(work, 'empty');
  fs.mkdirSync(empty);
  await run('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', tarball], { cwd: empty, maxBuffer: 16 << 20 });
  const bin = path.join(empty, 'node_modules', '.bin', 'aibt');
  expect(fs.existsSync(bin)).toBe(true);
  // the postgres.js the installed package loads carries our patch (issue 13): it is bundled
  // patched in the tarball, so it holds even where npm skips install scripts
  const main = createRequire(path.join(empty, 'node_modules', 'aibt', 'package.json')).resolve('postgres'); // <pkg>/cjs/src/index.js
  const pgRoot = path.resolve(path.dirname(main), '..', '..');
  expect(pgRoot.startsWith(path.join(empty, 'node_modules'))).toBe(true);
  for (const flavour of ['src', 'cjs/src']) {
    expect(fs.readFileSync(path.join(pgRoot, flavour, 'connection.js'), 'utf8')).toContain('aibt patch');
  }
  return bin;
}

let installed: Promise<string> | undefined;

// the 2025 era: the SDK v2 client's default (initialize, 2025-11-25); the 2026-07-28 era: a client pinned to it (server/discover, no session)
const ERAS = [
  ['2025-11-25', {}],
  ['2026-07-28', { versionNegotiation: { mode: { pin: '2026-07-28' } } }],
] as const;

describe('npm pack, then aibt stdio from the installed tarball', () => {
  it.each(ERAS)('serves the chosen servers over stdio to an SDK client speaking %s', async (era, options) => {
    installed ??= installPacked();
    const bin = await installed;
    const client = new Client({ name: 'pack-test', version: '1.0.0' }, options);
    const transport = new StdioClientTransport({
      command: bin,
      args: ['stdio', '--servers', 'runs,price'],
      // each era on its own fresh data directory
      env: { ...(process.env as Record<string, string>), AIBT_DATA_DIR: path.join(work, `data-${era}`), DATABASE_URL: '', REDIS_URL: '' },
      stderr: 'pipe',
    });
    try {
      // a fresh embedded database is created on first start: give a loaded machine time
      await client.connect(transport, { timeout: 300_000 });
      expect(client.getNegotiatedProtocolVersion()).toBe(era);
      const { tools } = await client.listTools();
      const names = tools.map((x) => x.name);
      expect(names).toEqual(expect.arrayContaining(['create_model', 'start_run', 'get_price', 'get_bars']));
      expect(names).not.toContain('buy'); // trade was not chosen
      const model = (await client.callTool({ name: 'create_model', arguments: { name: `Over stdio ${era}` } })) as any;
      expect(model.isError).toBeFalsy();
      expect(model.structuredContent.name).toBe(`Over stdio ${era}`);
      const price = (await client.callTool({ name: 'get_price', arguments: { symbol: 'aapl', at: '2025-06-10T15:00:00Z' } })) as any;
      expect(price.structuredContent).toMatchObject({ symbol: 'AAPL', source: 'simulated' });
    } finally {
      await client.close().catch(() => {});
    }
  }, 600_000);
});
