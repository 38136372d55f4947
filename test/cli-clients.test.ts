// Command-line MCP clients against the suite, as a person would run them: the Inspector CLI
// (@modelcontextprotocol/inspector-cli) over stdio (`aibt stdio`, the compiled bin) and over
// HTTP with a bearer header, and mcp-remote (Claude Desktop's stdio-to-HTTP bridge) driven by
// the SDK's StdioClientTransport. Loopback only: no network.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, describe, expect, it } from 'vitest';
import { bootSuite, ok, type TestSuite } from './harness.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const aibtBin = path.join(root, 'dist/bin/aibt.js'); // what the package's `aibt` bin points to; npm test builds it first
const inspectorPkg = require.resolve('@modelcontextprotocol/inspector-cli/package.json');
const inspectorBin = path.join(path.dirname(inspectorPkg), 'build/cli.js'); // its `mcp-inspector-cli` bin
const mcpRemoteBin = path.join(path.dirname(require.resolve('mcp-remote/package.json')), 'dist/proxy.js'); // its `mcp-remote` bin
const CLIENT_VERSIONS = {
  inspector: JSON.parse(fs.readFileSync(inspectorPkg, 'utf8')).version as string,
  mcpRemote: JSON.parse(fs.readFileSync(require.resolve('mcp-remote/package.json'), 'utf8')).version as string,
};

const temp: string[] = [];
const suites: TestSuite[] = [];
let shared: Promise<TestSuite> | undefined;
/** One suite for the HTTP tests (each makes its own user). */
const suite = () => (shared ??= bootSuite().then((s) => (suites.push(s), s)));
const tmp = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temp.push(dir);
  return dir;
};
afterAll(async () => {
  for (const s of suites) await s.close().catch(() => {});
  for (const d of temp) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * Runs `mcp-inspector-cli --cli <args>` and parses the JSON it prints. Its working folder is its
 * own build folder: 1.0.3 checks for `../package.json` against the working folder but imports
 * it against its module, so only there do the two agree.
 */
async function inspectorCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<any> {
  const { stdout } = await run(process.execPath, [inspectorBin, '--cli', ...args], {
    cwd: path.dirname(inspectorBin),
    env: { ...env, AIBT_LOG: 'silent' },
    maxBuffer: 32 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}

describe(`Inspector CLI ${CLIENT_VERSIONS.inspector}`, () => {
  it('lists and calls tools over stdio through `aibt stdio`, and the write persists', async () => {
    const dataDir = tmp('aibt-inspector-stdio-');
    const server = ['-e', `AIBT_DATA_DIR=${dataDir}`, process.execPath, aibtBin, 'stdio', '--servers', 'runs,price'];
    // on its embedded database with its demo key, as a desktop client launches it (also under test:services)
    const { DATABASE_URL: _db, REDIS_URL: _redis, ...embedded } = process.env;
    const inspector = (args: string[]) => inspectorCli(args, embedded);
    // create and migrate the database first: a fresh PGlite on a busy machine can take longer
    // than the Inspector's 60 s request timeout, which is not what this test is about
    await run(process.execPath, [aibtBin, 'admin', 'list-users'], { env: { ...embedded, AIBT_DATA_DIR: dataDir, AIBT_LOG: 'silent' } });
    const listed = await inspector([...server, '--method', 'tools/list']);
    const names = listed.tools.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(['create_model', 'list_models', 'start_run', 'get_price', 'get_bars']));
    expect(names).not.toContain('buy'); // trade was not chosen

    const created = await inspector([...server, '--method', 'tools/call', '--tool-name', 'create_model', '--tool-arg', 'name=Inspected', 'initial_cash=50000']);
    expect(created.isError ?? false).toBe(false);
    expect(created.structuredContent).toMatchObject({ name: 'Inspected', initial_cash: 50_000, state: 'active' });
    expect(created.content[0].text).toContain("'Inspected'");

    // a second process on the same data directory sees the model the first one created
    const listedModels = await inspector([...server, '--method', 'tools/call', '--tool-name', 'list_models']);
    expect(listedModels.structuredContent.models.map((m: { model_id: number; name: string }) => [m.model_id, m.name])).toEqual([
      [created.structuredContent.model_id, 'Inspected'],
    ]);
  }, 300_000);

  it('lists and calls tools over streamable HTTP with the bearer header', async () => {
    const t = await suite();
    const { key } = await t.user(['read', 'rules:write']);
    const http = [t.suite.urls.runs!, '--transport', 'http', '--header', `Authorization: Bearer ${key}`];
    const listed = await inspectorCli([...http, '--method', 'tools/list']);
    expect(listed.tools.map((x: { name: string }) => x.name)).toEqual(expect.arrayContaining(['create_model', 'advance_run', 'get_reasoning']));
    const created = await inspectorCli([...http, '--method', 'tools/call', '--tool-name', 'create_model', '--tool-arg', 'name=Over HTTP', 'initial_cash=25000']);
    expect(created.structuredContent).toMatchObject({ name: 'Over HTTP', initial_cash: 25_000 });
    // the SDK client with the same key reads back what the Inspector wrote
    const sdk = await t.client('runs', key);
    expect(await ok(sdk, 'get_model', { model_id: created.structuredContent.model_id })).toMatchObject({ name: 'Over HTTP', initial_cash: 25_000 });
  }, 300_000);
});

/** mcp-remote launched as Claude Desktop would (stdio), with the README's header argument; not yet connected. */
function viaMcpRemote(url: string, key: string): { client: Client; transport: StdioClientTransport; stderr: () => string } {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [mcpRemoteBin, url, '--header', 'Authorization:Bearer ${AIBT_KEY}', '--transport', 'http-only'],
    env: { ...(process.env as Record<string, string>), AIBT_KEY: key, MCP_REMOTE_CONFIG_DIR: tmp('aibt-mcp-remote-') },
    stderr: 'pipe',
  });
  let log = '';
  transport.stderr?.on('data', (d) => (log += d));
  return { client: new Client({ name: 'aibt-test-desktop', version: '1.0.0' }), transport, stderr: () => log };
}

describe(`mcp-remote ${CLIENT_VERSIONS.mcpRemote} as a stdio bridge`, () => {
  it('carries tools/list and a tool call to the HTTP server, expanding ${AIBT_KEY} from its env', async () => {
    const t = await suite();
    const { key } = await t.user(['read', 'rules:write']);
    const { client, transport, stderr } = viaMcpRemote(t.suite.urls.runs!, key);
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((x) => x.name)).toEqual(expect.arrayContaining(['create_model', 'start_run', 'advance_run']));
      const res = (await client.callTool({ name: 'create_model', arguments: { name: 'Bridged', initial_cash: 30_000 } })) as { structuredContent?: any; isError?: boolean };
      expect(res.isError ?? false).toBe(false);
      expect(res.structuredContent).toMatchObject({ name: 'Bridged', initial_cash: 30_000 });
      const direct = await t.client('runs', key);
      expect((await ok(direct, 'list_models')).models.map((m: { name: string }) => m.name)).toEqual(['Bridged']);
      expect(stderr()).toContain('Replacing ${AIBT_KEY} with environment value');
    } finally {
      await client.close();
    }
  }, 180_000);

  it('with a wrong key fails as the README troubleshooting section says', async () => {
    const t = await suite();
    const { client, transport, stderr } = viaMcpRemote(t.suite.urls.runs!, 'aibt_00000000_thisKeyWasNeverIssuedToAnyone000');
    const failed = await client.connect(transport).then(() => null, (err: Error) => err);
    await client.close().catch(() => {});
    expect(failed?.message).toContain('Connection closed');
    // mcp-remote reads any 401 as "sign in with OAuth" and logs the failed client registration,
    // not the server's sentence: the line the README's troubleshooting section points to
    expect(stderr()).toContain('Dynamic Client Registration rejected (HTTP 404)');
  }, 180_000);
});
