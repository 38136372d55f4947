// The host against a bare SDK v2 server (issue 17 item 7): the same no-op tool called through
// our /mcp (auth, rate limit, pooled McpServer, scope check, log line, metrics) and through a
// bare createMcpHandler whose factory builds a fresh McpServer per request, the SDK's own idiom.
// Both served by @hono/node-server in this process, driven by SDK v2 clients pinned to
// 2026-07-28 in this process, phases alternating. Goal: within 1.3x of the bare server's p50
// and throughput. Prints figures, never passes or fails.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { setMaxListeners } from 'node:events';
import { runsServer } from '../servers/runs/server.js';
import { bootSuite } from '../test/harness.js';
import { withNoop } from './noop.js';
import { pct } from './lib/server.js';
import { bareServer } from './lib/bare.js';

setMaxListeners(0);
const MODERN = '2026-07-28';

export interface HostFigures {
  p50Ratio: number;
  throughputRatio: number;
  ours: { p50: number; perSec: number };
  bare: { p50: number; perSec: number };
  instancesBuilt: number;
}

async function client(url: string, key?: string): Promise<Client> {
  const c = new Client({ name: 'aibt-bench', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), key ? { requestInit: { headers: { Authorization: `Bearer ${key}` } } } : {}));
  return c;
}

async function noop(c: Client): Promise<void> {
  const r = await c.callTool({ name: 'noop', arguments: {} });
  if (r.isError) throw new Error(`noop failed: ${JSON.stringify(r.content)}`);
}

export async function main(): Promise<HostFigures> {
  // the bench lifts the rate limit for its one key, and says so
  const t = await bootSuite({ specs: [withNoop(runsServer)], env: { DATABASE_URL: '', REDIS_URL: '', AIBT_RATE_LIMIT_PER_SEC: '100000', AIBT_RATE_LIMIT_BURST: '1000000' } });
  const bare = await bareServer();
  try {
    const { key } = await t.user(['read']);
    const CLIENTS = 16;
    const ours = await Promise.all(Array.from({ length: CLIENTS }, () => client(t.suite.urls.runs!, key)));
    const theirs = await Promise.all(Array.from({ length: CLIENTS }, () => client(bare.url)));
    for (let i = 0; i < 1500; i++) {
      await noop(ours[0]!);
      await noop(theirs[0]!);
    }
    const lat = { ours: [] as number[], bare: [] as number[] };
    for (let i = 0; i < 1000; i++) {
      for (const [name, c] of [['ours', ours[0]!], ['bare', theirs[0]!]] as const) {
        const t0 = performance.now();
        await noop(c);
        lat[name].push(performance.now() - t0);
      }
    }
    const rate = { ours: 0, bare: 0 };
    for (let round = 0; round < 4; round++) {
      for (const [name, cs] of [['ours', ours], ['bare', theirs]] as const) {
        const t0 = performance.now();
        await Promise.all(cs.map(async (c) => {
          for (let k = 0; k < 60; k++) await noop(c);
        }));
        rate[name] += (cs.length * 60) / ((performance.now() - t0) / 1000) / 4;
      }
    }
    await Promise.all([...ours, ...theirs].map((c) => c.close()));
    const f: HostFigures = {
      p50Ratio: pct(lat.ours, 50) / pct(lat.bare, 50),
      throughputRatio: rate.ours / rate.bare,
      ours: { p50: pct(lat.ours, 50), perSec: rate.ours },
      bare: { p50: pct(lat.bare, 50), perSec: rate.bare },
      instancesBuilt: t.suite.hosts.runs!.pool.built,
    };
    process.stdout.write(
      `no-op over /mcp (2026-07-28), ours vs bare SDK v2 createMcpHandler (rate limit lifted for the bench key):\n` +
        `  p50 ${f.ours.p50.toFixed(2)} ms vs ${f.bare.p50.toFixed(2)} ms: ${f.p50Ratio.toFixed(2)}x (goal ≤ 1.3x)\n` +
        `  throughput, ${CLIENTS} clients: ${f.ours.perSec.toFixed(0)}/s vs ${f.bare.perSec.toFixed(0)}/s: bare/ours ${(1 / f.throughputRatio).toFixed(2)}x (goal ≤ 1.3x)\n` +
        `  McpServer instances our host built for ${lat.ours.length + 1500 + CLIENTS * 240} calls: ${f.instancesBuilt}\n`,
    );
    return f;
  } finally {
    bare.close();
    await t.close();
  }
}
