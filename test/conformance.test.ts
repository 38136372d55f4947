// The MCP conformance suite (@modelcontextprotocol/conformance, its `server` command's active
// suite) against each of the five servers over streamable HTTP, through a loopback proxy that adds
// the bearer header the suite cannot send. Every scenario in test/conformance/expected-pass.json
// must pass on its server; a scenario that starts passing must be added there.
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
  servers: Record<ServerName, string[]>;
};
const pkgJson = createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json');
const cli = path.join(path.dirname(pkgJson), 'dist/index.js');

interface Check { id: string; status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED'; errorMessage?: string }

/** Runs the conformance CLI's server suite against `url`; returns each scenario's checks. */
async function conformance(url: string): Promise<Map<string, Check[]>> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-conformance-'));
  try {
    const child = spawn(process.execPath, ['--import', path.join(here, 'conformance/node20-register.mjs'), cli, 'server', '--url', url, '-o', out], {
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

  it.each(SERVER_NAMES.map((s) => [s]))('%s passes every listed scenario, and the list names every scenario that passes', async (server) => {
    const proxy = await bearerProxy(t.suite.urls[server]!, key);
    try {
      const scenarios = await conformance(proxy.url);
      expect(scenarios.size).toBeGreaterThan(20); // the whole active suite ran
      const failing = expected.servers[server]
        .filter((name) => !scenarios.has(name) || !passes(scenarios.get(name)!))
        .map((name) => `${name}: ${(scenarios.get(name) ?? []).filter((c) => c.status === 'FAILURE').map((c) => c.errorMessage ?? c.id).join('; ') || 'not run'}`);
      expect(failing, 'listed scenarios that no longer pass').toEqual([]);
      const unlisted = [...scenarios].filter(([name, checks]) => passes(checks) && !expected.servers[server].includes(name)).map(([name]) => name);
      expect(unlisted, 'scenarios that now pass: add them to test/conformance/expected-pass.json').toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
