// Real processes for the reliability suite: a private Postgres 15 and Redis that a test
// may stop and start, and the suite itself as a child process (npm start's entry point).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pgBin(): string {
  const fixed = '/usr/lib/postgresql/15/bin';
  if (fs.existsSync(path.join(fixed, 'initdb'))) return fixed;
  return path.dirname(execFileSync('which', ['initdb'], { encoding: 'utf8' }).trim());
}

/** True when this machine can start a private Postgres and Redis (the CI and dev boxes can). */
export function servicesAvailable(): boolean {
  try {
    pgBin();
    execFileSync('which', ['redis-server']);
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface PrivatePostgres {
  url: string;
  port: number;
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  destroy(): void;
}

/** A throwaway Postgres cluster on a free loopback port (initdb refuses root: run as postgres). */
export async function privatePostgres(): Promise<PrivatePostgres> {
  const bin = pgBin();
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-rel-pg-'));
  const asPg = process.getuid?.() === 0;
  if (asPg) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['--system', '--no-create-home', 'postgres']);
    }
    execFileSync('chown', ['postgres', dir]);
  }
  const run = (cmd: string, args: string[]) =>
    asPg ? execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { stdio: 'ignore' }) : execFileSync(path.join(bin, cmd), args, { stdio: 'ignore' });
  run('initdb', ['-D', `${dir}/pg`, '-U', 'aibt', '--auth=trust']);
  const start = () =>
    run('pg_ctl', ['-D', `${dir}/pg`, '-l', `${dir}/pg.log`, '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off`, 'start']);
  start();
  return {
    url: `postgres://aibt@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop(mode = 'fast') {
      run('pg_ctl', ['-D', `${dir}/pg`, '-m', mode, '-w', 'stop']);
    },
    destroy() {
      try {
        run('pg_ctl', ['-D', `${dir}/pg`, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
  destroy(): Promise<void>;
}

export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await canConnect(port)) return;
      await sleep(50);
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  await start();
  const signal = (s: NodeJS.Signals) => (child as ChildProcess | null)?.kill(s);
  const destroy = async () => {
    signal('SIGCONT');
    await stop();
  };
  return { url: `redis://127.0.0.1:${port}`, start, stop, pause: () => signal('SIGSTOP'), resume: () => signal('SIGCONT'), destroy };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface SuiteProcess {
  child: ChildProcess;
  urls: Record<string, string>;
  stdout: () => string;
  stderr: () => string;
  alive(): boolean;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** npm start's entry point (or one server's main.ts) as a child process, on ephemeral ports. */
export async function spawnSuite(env: Record<string, string>, entry = 'servers/suite.ts'): Promise<SuiteProcess> {
  const ports = { TRADE_PORT: '0', PRICE_PORT: '0', RULES_PORT: '0', RUNS_PORT: '0', ANALYST_PORT: '0' };
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...ports, AIBT_LOG: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c, s) => resolve((code = c ?? (s ? -1 : null)))));
  const deadline = Date.now() + 180_000; // PGlite's first start on a busy two-core machine
  while (!/ready in \d+ ms/.test(err) && code === undefined && Date.now() < deadline) await sleep(100);
  if (!/ready in \d+ ms/.test(err)) throw new Error(`the suite did not start:\n${err}\n${out.slice(-2000)}`);
  const urls = Object.fromEntries([...err.matchAll(/^\s+(trade|price|rules|runs|analyst)\s+(http:\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  return {
    child,
    urls,
    stdout: () => out,
    stderr: () => err,
    alive: () => code === undefined,
    exited,
    async kill(signal = 'SIGTERM') {
      if (code !== undefined) return code;
      child.kill(signal);
      return exited;
    },
  };
}

export async function connect(url: string, key: string): Promise<Client> {
  const client = new Client({ name: 'aibt-reliability', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
  return client;
}

export { sleep };
