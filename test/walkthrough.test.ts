// The README's first session runs exactly as written: the owner and agent keys are made with
// the README's own admin commands (against the running suite), then scripts/walkthrough.ts makes
// the README's numbered calls in the README's order, and each does what the README says.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, call, ok, type TestSuite } from './harness.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** The README's section under `heading`, up to the next heading. */
function section(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no heading ${heading}`);
  const next = readme.slice(start + heading.length + 2).search(/\n#{1,3} /);
  return readme.slice(start, next < 0 ? undefined : start + heading.length + 2 + next);
}

/** `server tool` pairs of the walkthrough's numbered list, in order (a step may name two). */
function readmeSteps(): string[] {
  const list = section('## Trading inside the guard rails').split('\n\n').find((p) => p.startsWith('1. '));
  if (!list) throw new Error('README: no numbered walkthrough under "Trading inside the guard rails"');
  return [...list.matchAll(/\b(trade|price|rules|runs|analyst) `(\w+)/g)].map((m) => `${m[1]} ${m[2]}`);
}

let t: TestSuite;
let env: Record<string, string>;
beforeAll(async () => {
  t = await bootSuite({ onDisk: true }); // on disk, as npm start: the admin CLI reaches it through its admin endpoint
  const ports = Object.fromEntries(Object.entries(t.suite.urls).map(([name, url]) => [`${name.toUpperCase()}_PORT`, new URL(url!).port]));
  env = { ...(process.env as Record<string, string>), ...ports, AIBT_DATA_DIR: t.dataDir, AIBT_LOG: 'silent' };
});
afterAll(async () => t?.close());

/** `npm run admin -- <args>`, as package.json defines it; returns the printed key (the last line). */
async function admin(args: string[]): Promise<string> {
  expect(pkg.scripts.admin).toBe('node dist/bin/aibt.js admin');
  const { stdout } = await run(process.execPath, [path.join(root, 'dist/bin/aibt.js'), 'admin', ...args], { env });
  const key = stdout.trim().split('\n').at(-1)!;
  expect(key).toMatch(/^aibt_[0-9a-f]{8}_/);
  return key;
}

async function walkthrough(ownerKey: string, agentKey: string) {
  return run(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/walkthrough.ts')], {
    cwd: root,
    env: { ...env, AIBT_OWNER_KEY: ownerKey, AIBT_AGENT_KEY: agentKey },
  });
}

describe('the README walkthrough (scripts/walkthrough.ts)', () => {
  it('works exactly as written, with the owner and agent keys the README makes', async () => {
    // the two commands of "Keys and scopes", with a fresh user name (the database may be shared)
    const keys = section('## Keys and scopes');
    const owner = /^npm run admin -- (create-user alice --scopes (\S+))\s+# alice's owner key/m.exec(keys);
    const agent = /^npm run admin -- (create-key alice --scopes (\S+))\s+# alice's agent key/m.exec(keys);
    expect(owner?.[2]).toBe('read,trade,rules:write,approve');
    expect(agent?.[2]).toBe('read,trade');
    const name = `alice_${randomBytes(4).toString('hex')}`;
    const ownerKey = await admin(owner![1]!.replace('alice', name).split(' '));
    const agentKey = await admin(agent![1]!.replace('alice', name).split(' '));

    const { stdout } = await walkthrough(ownerKey, agentKey);
    const lines = stdout.trim().split('\n');
    const steps = lines.map((l) => /^\d+\. (\w+ \w+) /.exec(l)?.[1]);
    expect(steps).toEqual(readmeSteps());
    const byTool = (tool: string) => lines.filter((l) => l.includes(` ${tool} `));
    expect(byTool('apply_template')[0]).toContain('Applied day_trader');
    expect(byTool('start_run')[0]).toContain('clock 2025-06-10T13:30:00.000Z'); // 09:30 New York (EDT, UTC-4)
    expect(byTool('advance_run')[0]).toContain('to 2025-06-10T13:40:00.000Z');
    expect(byTool('buy')[0]).toMatch(/Order \d+: buy \d+ JPM filled at \$\d+\.\d{4}/);
    expect(byTool('end_run')[0]).toMatch(/completed\. Final value \$[\d.]+/);

    // what step 4 is for: at the open the same order is refused by the template's blackout rule
    const runs = await t.client('runs', agentKey);
    const trade = await t.client('trade', agentKey);
    const model = (await ok(runs, 'list_models')).models[0];
    const again = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-06-10', end: '2025-06-10', symbols: ['JPM'] });
    const atOpen = await ok(trade, 'buy', { model_id: model.model_id, symbol: 'JPM', quantity: 1, reasoning: 'at the open' });
    expect(atOpen.status).toBe('rejected');
    expect(atOpen.rejections).toEqual([expect.objectContaining({ source: 'rule', rule_name: 'No trading at the open or midday' })]);
    await ok(runs, 'end_run', { run_id: again.run_id });

    // and why there are two keys: the agent key cannot set up (or loosen) the rules
    const refused = await call(await t.client('runs', agentKey), 'create_model', { name: 'Agent-made' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('rules:write');
  }, 300_000);
});
