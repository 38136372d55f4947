import type { Cache } from './cache.js';
import type { Config } from './config.js';
import type { Database, Sql } from './db/database.js';
import type { Market } from './market/market.js';
import type { Limits } from './mcp/limits.js';
import type { Metrics } from './mcp/metrics.js';
import type { WorkerPool } from './workers/pool.js';

/** What every server and tool is built from; one instance per process. */
export interface Deps {
  config: Config;
  db: Database;
  sql: Sql;
  cache: Cache;
  metrics: Metrics;
  /** Request rate, bad-key delay and fetch bounds per caller. */
  limits: Limits;
  market: Market;
  /** Worker threads for the analyst's computations (threads start on the first job). */
  workers: WorkerPool;
}
