// Every environment variable the suite reads, parsed once. README.md lists them all.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseToolsets } from './mcp/toolsets.js';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

const envSchema = z.object({
  DATABASE_URL: optionalString,
  AIBT_DATA_DIR: z.string().default('./.aibt'),
  AIBT_HOST: z.string().default('127.0.0.1'),
  TRADE_PORT: port(3101),
  PRICE_PORT: port(3102),
  RULES_PORT: port(3103),
  RUNS_PORT: port(3104),
  ANALYST_PORT: port(3105),
  REDIS_URL: optionalString,
  AIBT_BOOTSTRAP_KEY: optionalString,
  AIBT_ALLOWED_ORIGINS: optionalString,
  AIBT_SESSION_IDLE_MINUTES: z.coerce.number().positive().default(1440),
  AIBT_SESSIONS_PER_KEY: z.coerce.number().int().min(1).default(16),
  AIBT_SESSIONS_PER_SERVER: z.coerce.number().int().min(1).default(1000),
  /** How long a 2025 client's approval form is waited on (ms), well inside the 60 s clients wait. */
  AIBT_APPROVAL_WAIT_MS: z.coerce.number().int().min(100).max(600_000).default(50_000),
  /** Toolsets served (comma-separated: trading, market, rules, runs, analysis, admin); empty is all. */
  AIBT_TOOLSETS: optionalString.superRefine((v, ctx) => {
    try {
      parseToolsets(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/\.$/, '') });
    }
  }),
  AIBT_DB_POOL: z.coerce.number().int().min(1).max(100).default(10),
  AIBT_PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^\d+(kB|MB|GB)$/, 'give a size such as 16MB')
    .default('16MB'),
  AIBT_LOG: z.enum(['json', 'silent']).default('json'),
  AIBT_CACHE_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(200),
  AIBT_CACHE_BREAKER_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  AIBT_AUTH_OUTAGE_GRACE_MS: z.coerce.number().int().min(0).max(86_400_000).default(900_000),
  AIBT_RATE_LIMIT_PER_SEC: z.coerce.number().int().min(0).max(100_000).default(100),
  AIBT_RATE_LIMIT_BURST: z.coerce.number().int().min(0).max(1_000_000).default(2000),
  AIBT_BAD_KEY_FREE: z.coerce.number().int().min(0).max(1_000_000).default(10),
  AIBT_BAD_KEY_MAX_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  AIBT_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  AIBT_PROBES_PER_SEC: z.coerce.number().int().min(0).max(100_000).default(20),
  // the analyst's worker pool (shared/workers/pool.ts): threads (default: the cores but one, 1–2), jobs per key, queue, heap per thread
  AIBT_ANALYST_THREADS: z.coerce.number().int().min(1).max(64).default(Math.max(1, Math.min(2, os.availableParallelism() - 1))),
  AIBT_ANALYST_PER_KEY: z.coerce.number().int().min(1).max(64).default(2),
  AIBT_ANALYST_QUEUE: z.coerce.number().int().min(0).max(10_000).default(16),
  AIBT_ANALYST_MEMORY_MB: z.coerce.number().int().min(32).max(65_536).default(512),
  AIBT_FETCH_BLOCKS_PER_HOUR: z.coerce.number().int().min(1).max(10_000_000).default(5000),
  POLYGON_API_KEY: optionalString,
  POLYGON_BASE_URL: optionalString,
  POLYGON_REQUESTS_PER_MINUTE: z.coerce.number().positive().default(5),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  /** Absolute data directory of the embedded default. */
  dataDir: string;
  /** Origins allowed besides loopback ones. */
  allowedOrigins: string[];
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`Environment variable ${String(issue.path[0])} is invalid: ${issue.message}.`);
  }
  const e = parsed.data;
  return {
    ...e,
    dataDir: path.resolve(e.AIBT_DATA_DIR),
    allowedOrigins: (e.AIBT_ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

export const SERVER_NAMES = ['trade', 'price', 'rules', 'runs', 'analyst'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

export function serverPort(config: Config, name: ServerName): number {
  const ports: Record<ServerName, number> = {
    trade: config.TRADE_PORT,
    price: config.PRICE_PORT,
    rules: config.RULES_PORT,
    runs: config.RUNS_PORT,
    analyst: config.ANALYST_PORT,
  };
  return ports[name];
}
