// Boots servers in-process on ephemeral ports (embedded PGlite in memory, or the
// DATABASE_URL / REDIS_URL of `npm run test:services`) and connects real MCP clients.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport, type ClientCapabilities } from '@modelcontextprotocol/client';
import { createUser, SCOPES, type Scope } from '../shared/auth/keys.js';
import { loadConfig, type ServerName } from '../shared/config.js';
import { setLogSilent } from '../shared/log.js';
import type { ServerSpec } from '../shared/mcp/server-spec.js';
import { startSuite, type RunningSuite } from '../shared/runtime.js';
import { ALL_SERVERS } from '../servers/catalog.js';

setLogSilent(true);

export interface TestSuite {
  suite: RunningSuite;
  dataDir: string;
  /** A new user with its own key; every test makes its own users so runs never collide. */
  user(scopes?: Scope[]): Promise<{ name: string; key: string }>;
  /** An SDK v2 client of `era` (default TEST_ERA): 'modern' pins 2026-07-28, 'legacy' initializes (2025-11-25), 'auto' probes. */
  client(server: ServerName, key: string, capabilities?: ClientCapabilities, era?: Era): Promise<Client>;
  close(): Promise<void>;
}

export type Era = 'modern' | 'legacy' | 'auto';
/** The era the tests' clients speak unless a test names one: AIBT_TEST_ERA, else 2026-07-28. */
export const TEST_ERA: Era = (process.env.AIBT_TEST_ERA as Era | undefined) ?? 'modern';
export const MODERN = '2026-07-28';

/** An SDK v2 client speaking `era`. */
export function newClient(era: Era = TEST_ERA, capabilities: ClientCapabilities = {}): Client {
  const mode = era === 'modern' ? { pin: MODERN } : era;
  return new Client({ name: 'aibt-test', version: '1.0.0' }, { capabilities, versionNegotiation: { mode } });
}

export interface BootOptions {
  specs?: ServerSpec[];
  env?: Record<string, string>;
  onDisk?: boolean;
  /** Reuse this data directory (a restart); it is then left in place by close(). */
  dataDir?: string;
  /** Fixed ports (a restart on the same URLs); default ephemeral. */
  ports?: Partial<Record<ServerName, number>>;
}

export async function bootSuite(opts: BootOptions = {}): Promise<TestSuite> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-test-'));
  const config = loadConfig({ ...process.env, AIBT_DATA_DIR: dataDir, AIBT_LOG: 'silent', ...opts.env });
  const specs = opts.specs ?? ALL_SERVERS;
  const ports = Object.fromEntries(specs.map((s) => [s.name, opts.ports?.[s.name] ?? 0]));
  const suite = await startSuite({ specs, config, ports, inMemory: !opts.onDisk });
  const clients: Client[] = [];
  return {
    suite,
    dataDir,
    async user(scopes = [...SCOPES]) {
      const name = `u_${randomBytes(5).toString('hex')}`;
      const { key } = await createUser(suite.deps.sql, name, scopes);
      return { name, key };
    },
    async client(server, key, capabilities = {}, era = TEST_ERA) {
      const url = suite.urls[server];
      if (!url) throw new Error(`Server ${server} is not running in this test suite.`);
      const client = newClient(era, capabilities);
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await suite.close();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CallResult<T = any> {
  data: T;
  text: string;
  isError: boolean;
}

/** Calls a tool and returns its structured result, summary text and error flag. */
export async function call<T = any>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallResult<T>> {
  const res = (await client.callTool({ name, arguments: args })) as { structuredContent?: T; content?: { type: string; text?: string }[]; isError?: boolean };
  const text = (res.content ?? []).filter((c) => c.type === 'text').map((c) => c.text ?? '').join('\n');
  return { data: res.structuredContent as T, text, isError: res.isError === true };
}

/** Like call, but fails the test with the tool's own sentence when it errs. */
export async function ok<T = any>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const r = await call<T>(client, name, args);
  if (r.isError) throw new Error(`${name} failed: ${r.text}`);
  return r.data;
}
