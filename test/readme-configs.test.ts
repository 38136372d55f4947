// Every client config the README documents ("Connecting clients"), parsed from the README
// itself and used as that client would use it: the stdio command Claude Desktop launches,
// mcp-remote's arguments, Cursor's and VS Code's url + headers, Claude Code's `mcp add`
// line, LangChain's server map. Each must reach the server its name and port say and serve
// its tools. The README's default ports are mapped to this test's ephemeral ones.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, SERVER_NAMES, serverPort, type ServerName } from '../shared/config.js';
import { bootSuite, type TestSuite } from './harness.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const mcpRemoteBin = path.join(path.dirname(require.resolve('mcp-remote/package.json')), 'dist/proxy.js');

/** A tool only each server has, to tell which server answered. */
const MARKER: Record<ServerName, string> = { trade: 'buy', price: 'get_price', rules: 'apply_template', runs: 'create_model', analyst: 'calculate_metrics' };
const defaultConfig = loadConfig({});
const serverAtPort = (port: number) => SERVER_NAMES.find((s) => serverPort(defaultConfig, s) === port);

const connecting = (() => {
  const start = readme.indexOf('\n## Connecting clients\n');
  const end = readme.indexOf('\n## ', start + 5);
  if (start < 0) throw new Error('README has no "Connecting clients" section');
  return readme.slice(start, end);
})();

/** The first fenced block after the bold label `**label**` in "Connecting clients". */
function block(label: string): string {
  const at = connecting.indexOf(`**${label}**`);
  if (at < 0) throw new Error(`README "Connecting clients" has no **${label}**`);
  const m = /```\w*\n([\s\S]*?)```/.exec(connecting.slice(at));
  if (!m) throw new Error(`no code block after **${label}**`);
  return m[1]!;
}

const temp: string[] = [];
const tmp = (prefix: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temp.push(d);
  return d;
};
let t: TestSuite;
let key: string;
beforeAll(async () => {
  t = await bootSuite();
  ({ key } = await t.user(['read', 'trade', 'rules:write']));
});
afterAll(async () => {
  await t?.close();
  for (const d of temp) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * The README's URL (default port) for the server named `name` (e.g. "aibt-runs"): checks the
 * port is that server's default, and returns this test's URL for it.
 */
function local(name: string, readmeUrl: string): { server: ServerName; url: string } {
  const u = new URL(readmeUrl);
  expect(u.hostname).toBe('127.0.0.1');
  expect(u.pathname).toBe('/mcp');
  const server = serverAtPort(Number(u.port));
  expect(server, `${readmeUrl}: no server has that default port`).toBeDefined();
  expect(name.endsWith(server!), `${name} points at ${server}'s port ${u.port}`).toBe(true);
  return { server: server!, url: t.suite.urls[server!]! };
}

async function toolsOver(url: string, headers: Record<string, string>): Promise<string[]> {
  const client = new Client({ name: 'aibt-readme-config', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  try {
    return (await client.listTools()).tools.map((x) => x.name);
  } finally {
    await client.close();
  }
}

const withKey = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('KEY', key)]));

describe('README client configs', () => {
  it('Claude Desktop over stdio: `npx aibt stdio` serves all five servers\' tools with the key in env', async () => {
    const cfg = JSON.parse(block('Claude Desktop over stdio')).mcpServers.aibt;
    expect(cfg.command).toBe('npx');
    expect(cfg.args[0]).toBe('aibt'); // npx runs the package's bin named aibt
    expect(pkg.bin.aibt).toBe('dist/bin/aibt.js');
    expect(Object.keys(cfg.env).sort()).toEqual(['AIBT_DATA_DIR', 'AIBT_KEY']);
    // its own embedded database, as on a desktop, with a key made there the README's way
    const { DATABASE_URL: _db, REDIS_URL: _redis, ...embedded } = process.env as Record<string, string>;
    const env = { ...embedded, AIBT_LOG: 'silent', ...cfg.env, AIBT_DATA_DIR: tmp('aibt-desktop-') };
    const { stdout } = await run(process.execPath, [path.join(root, pkg.bin.aibt), 'admin', 'create-user', 'desktop', '--scopes', 'read,trade,rules:write'], { env });
    env.AIBT_KEY = cfg.env.AIBT_KEY.replace('KEY', stdout.trim().split('\n').at(-1)!);
    const client = new Client({ name: 'aibt-readme-desktop', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [path.join(root, pkg.bin.aibt), ...cfg.args.slice(1)], env }));
    try {
      const names = (await client.listTools()).tools.map((x) => x.name);
      const servers = cfg.args[cfg.args.indexOf('--servers') + 1].split(',');
      expect(servers).toEqual([...SERVER_NAMES]);
      for (const s of servers as ServerName[]) expect(names, s).toContain(MARKER[s]);
      const made = (await client.callTool({ name: 'create_model', arguments: { name: 'From Desktop' } })) as { structuredContent?: any };
      expect(made.structuredContent).toMatchObject({ name: 'From Desktop' });
    } finally {
      await client.close();
    }
  }, 300_000);

  it('Claude Desktop remote: each mcp-remote entry bridges to its server with ${AIBT_KEY} from env', async () => {
    const servers = JSON.parse(block('Claude Desktop remote')).mcpServers as Record<string, { command: string; args: string[]; env: Record<string, string> }>;
    expect(Object.keys(servers).length).toBeGreaterThanOrEqual(2);
    for (const [name, cfg] of Object.entries(servers)) {
      expect(cfg.command).toBe('npx');
      expect(cfg.args.slice(0, 2)).toEqual(['-y', 'mcp-remote']);
      const [url, ...rest] = cfg.args.slice(2);
      const { server, url: localUrl } = local(name, url!);
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [mcpRemoteBin, localUrl, ...rest],
        env: { ...(process.env as Record<string, string>), ...cfg.env, AIBT_KEY: cfg.env.AIBT_KEY!.replace('KEY', key), MCP_REMOTE_CONFIG_DIR: tmp('aibt-mcp-remote-') },
        stderr: 'ignore',
      });
      const client = new Client({ name: 'aibt-readme-remote', version: '1.0.0' });
      await client.connect(transport);
      try {
        expect((await client.listTools()).tools.map((x) => x.name), name).toContain(MARKER[server]);
      } finally {
        await client.close();
      }
    }
  }, 180_000);

  it('Cursor: url and headers reach the named server', async () => {
    const servers = JSON.parse(block('Cursor')).mcpServers as Record<string, { url: string; headers: Record<string, string> }>;
    for (const [name, cfg] of Object.entries(servers)) {
      const { server, url } = local(name, cfg.url);
      expect(await toolsOver(url, withKey(cfg.headers))).toContain(MARKER[server]);
    }
  });

  it('VS Code: an http server entry with url and headers reaches the named server', async () => {
    const servers = JSON.parse(block('VS Code')).servers as Record<string, { type: string; url: string; headers: Record<string, string> }>;
    for (const [name, cfg] of Object.entries(servers)) {
      expect(cfg.type).toBe('http');
      const { server, url } = local(name, cfg.url);
      expect(await toolsOver(url, withKey(cfg.headers))).toContain(MARKER[server]);
    }
  });

  it('Claude Code: `claude mcp add --transport http NAME URL --header ...` reaches the named server', async () => {
    const line = block('Claude Code').trim();
    // the line's words, double-quoted words kept whole, as a shell splits them
    const words = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    expect(words.slice(0, 5)).toEqual(['claude', 'mcp', 'add', '--transport', 'http']);
    const [name, url, flag, header] = words.slice(5);
    expect(flag).toBe('--header');
    const colon = header!.indexOf(':');
    const { server, url: localUrl } = local(name!, url!);
    expect(await toolsOver(localUrl, withKey({ [header!.slice(0, colon)]: header!.slice(colon + 1).trim() }))).toContain(MARKER[server]);
  });

  it("LangChain: the README's server map loads every server's tools", async () => {
    const code = block('LangChain');
    const entries = [...code.matchAll(/(\w+): \{ transport: 'http', url: '([^']+)', headers \}/g)].map((m) => [m[1]!, m[2]!] as const);
    expect(entries.map(([n]) => n)).toEqual([...SERVER_NAMES]);
    const lang = new MultiServerMCPClient({
      throwOnLoadError: true,
      prefixToolNameWithServerName: false,
      mcpServers: Object.fromEntries(entries.map(([n, u]) => [n, { transport: 'http' as const, url: local(n, u).url, headers: { Authorization: `Bearer ${key}` } }])),
    });
    try {
      const names = (await lang.getTools()).map((x) => x.name);
      for (const s of SERVER_NAMES) expect(names, s).toContain(MARKER[s]);
    } finally {
      await lang.close();
    }
    // and the sentence after it names each server's port rightly
    const sentence = /Add the other servers the same way \(([^)]+)\)/.exec(connecting)?.[1] ?? '';
    const pairs = [...sentence.matchAll(/(\w+) (\d{4})/g)];
    expect(pairs.length).toBe(4);
    for (const [, n, p] of pairs) expect(serverAtPort(Number(p)), sentence).toBe(n);
  });
});
