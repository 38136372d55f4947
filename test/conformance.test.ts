// The MCP conformance suite (@modelcontextprotocol/conformance, pinned) against each of the five
// servers over streamable HTTP, for both revisions we speak: `--requirements 2026-07-28` (the
// stateless revision) and `--requirements 2025-11-25`, through a loopback proxy that adds the
// bearer header the suite cannot send. Every scenario in test/conformance/expected-pass.json
// must pass on its server and revision; a scenario that starts passing must be added there.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_NAMES, type ServerName } from '../shared/config.js';
import { bearerProxy } from './bearer-proxy.js';
import { bootSuite, type TestSuite } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const expected = JSON.parse(fs.readFileSync(path.join(here, 'conformance/expected-pass.json'), 'utf8')) as {
  conformance: string;
  revisions: Record<Revision, Record<ServerName, string[]>>;
};
const REVISIONS = ['2026-07-28', '2025-11-25'] as const;
type Revision = (typeof REVISIONS)[number];
const pkgJson = createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json');
const cli = path.join(path.dirname(pkgJson), 'dist/index.js');

interface Check { id: string; status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED'; errorMessage?: string }

/** Runs the conformance CLI's scenarios a revision requires against `url`; returns each scenario's checks. */
async function conformance(url: string, revision: Revision): Promise<Map<string, Check[]>> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-conformance-'));
  try {
    const child = spawn(process.execPath, ['--import', path.join(here, 'conformance/node20-register.mjs'), cli, 'server', '--url', url, '--requirements', revision, '-o', out], {
      cwd: out,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    // exit code 1 just means some scenario failed; the checks files say which
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const scenarios = new Map<string, Check[]>();
    for (const dir of fs.readdirSync(out)) {
      const name = dir.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, '');
      scenarios.set(name, JSON.parse(fs.readFileSync(path.join(out, dir, 'checks.json'), 'utf8')));
    }
    if (!scenarios.size) throw new Error(`conformance CLI exited ${code} with no results:\n${log}`);
    return scenarios;
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** The suite's own rule (its summary's ✓): no FAILURE check; we also require one SUCCESS. */
const passes = (checks: Check[]) => checks.some((c) => c.status === 'SUCCESS') && !checks.some((c) => c.status === 'FAILURE');

let t: TestSuite;
let key: string;
beforeAll(async () => {
  t = await bootSuite();
  ({ key } = await t.user(['read']));
});
afterAll(async () => t?.close());

describe(`MCP conformance suite ${expected.conformance}, server scenarios over HTTP`, () => {
  it('runs the installed version the list was made with', () => {
    expect(JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version).toBe(expected.conformance);
  });

  it.each(REVISIONS.flatMap((r) => SERVER_NAMES.map((s) => [s, r] as const)))('%s, revision %s: passes every listed scenario, and the list names every scenario that passes', async (server, revision) => {
    const proxy = await bearerProxy(t.suite.urls[server]!, key);
    try {
      const scenarios = await conformance(proxy.url, revision);
      expect(scenarios.size).toBeGreaterThan(20); // every scenario the revision requires ran
      const listed = expected.revisions[revision][server];
      const failing = listed
        .filter((name) => !scenarios.has(name) || !passes(scenarios.get(name)!))
        .map((name) => `${name}: ${(scenarios.get(name) ?? []).filter((c) => c.status === 'FAILURE').map((c) => c.errorMessage ?? c.id).join('; ') || 'not run'}`);
      expect(failing, 'listed scenarios that no longer pass').toEqual([]);
      const unlisted = [...scenarios].filter(([name, checks]) => passes(checks) && !listed.includes(name)).map(([name]) => name);
      expect(unlisted, 'scenarios that now pass: add them to test/conformance/expected-pass.json').toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 240_000);
});
