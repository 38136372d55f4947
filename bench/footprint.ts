// Idle resident memory after start, as `npm start` runs the suite, in its own process: on
// Postgres (DATABASE_URL), on the embedded database created by an earlier start, and on a
// fresh embedded data directory (initdb included). Read from /proc/PID/status (Linux).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const IDLE_MS = 5000;

/** The command `npm start` runs, as [executable, ...args] for a direct spawn (no npm wrapper). */
export function startCommand(): string[] {
  const script = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  const words = script.split(/\s+/);
  const [bin, ...args] = words[0] === 'exec' ? words.slice(1) : words; // `exec` hands npm's PID to node (clean stops)
  if (bin === 'node') return [process.execPath, ...args];
  if (bin === 'tsx') return [process.execPath, '--import', 'tsx', ...args];
  throw new Error(`bench/footprint: cannot run the start script '${script}' directly.`);
}

/** Starts the suite, waits until it is ready and idle, returns its VmRSS in MB. */
export async function idleRss(env: Record<string, string | undefined>): Promise<number> {
  const [exe, ...args] = startCommand();
  const child = spawn(exe!, args, { cwd: root, env: { ...process.env, AIBT_LOG: 'silent', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (/ready in \d+ ms/.test(err)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the suite exited (${code}) before it was ready: ${err.trim()}`)));
    });
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

export interface Footprint {
  postgres: number | null;
  embedded: number;
  freshEmbedded: number;
}

export async function measureFootprint(): Promise<Footprint> {
  const ports = { TRADE_PORT: '0', PRICE_PORT: '0', RULES_PORT: '0', RUNS_PORT: '0', ANALYST_PORT: '0' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aibt-footprint-'));
  try {
    const embeddedEnv = { ...ports, DATABASE_URL: '', REDIS_URL: '', AIBT_DATA_DIR: dir };
    const freshEmbedded = await idleRss(embeddedEnv);
    const embedded = await idleRss(embeddedEnv);
    const postgres = process.env.DATABASE_URL ? await idleRss({ ...ports, AIBT_DATA_DIR: dir }) : null;
    return { postgres, embedded, freshEmbedded };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints the figures and returns them for bench/run.ts's target table. */
export async function main(): Promise<Footprint> {
  const f = await measureFootprint();
  const line = (k: string, v: string) => process.stdout.write(`${k.padEnd(44)} ${v}\n`);
  line('idle RSS after start, Postgres', f.postgres === null ? 'not measured (set DATABASE_URL)' : `${f.postgres.toFixed(0)} MB`);
  line('idle RSS after start, embedded', `${f.embedded.toFixed(0)} MB`);
  line('idle RSS after start, fresh embedded', `${f.freshEmbedded.toFixed(0)} MB`);
  return f;
}
