// How a tool hands its computation to the worker pool (pool.ts): the tool's own file exports
// the job function, which the worker thread imports and runs with a Deps whose sql and market
// are the data port's (reads answered by the main thread) and whose other parts it may not
// use. The tool keeps its loads of small rows, its writes and its wording on the main loop.
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import type { Deps } from '../deps.js';
import type { RequestContext } from '../mcp/prompts-resources.js';
import type { ToolContext } from '../mcp/tool.js';
import type { JobContext } from './pool.js';

/**
 * Runs `job`, an exported function of the module at `moduleUrl` (the calling tool's
 * import.meta.url), in the pool for the tool call `ctx`: its key bounds it, its signal
 * cancels it, its progress is forwarded. Errors as WorkerPool.run raises them.
 */
export function offload<O>(ctx: Pick<ToolContext, 'deps' | 'auth' | 'signal' | 'progress'>, moduleUrl: string, job: string, input: unknown): Promise<O> {
  return ctx.deps.workers.run<O>(fileURLToPath(moduleUrl), job, input, {
    key: ctx.auth.keyPrefix,
    signal: ctx.signal,
    progress: (done, total, message) => void ctx.progress(done, total, message),
  });
}

/** A prompt or resource request as offload takes a call: its key and signal, no progress. */
export function requestCall(ctx: RequestContext): Pick<ToolContext, 'deps' | 'auth' | 'signal' | 'progress'> {
  return { deps: ctx.deps, auth: ctx.auth, signal: ctx.extra.mcpReq.signal, progress: async () => {} };
}

/** offload for a prompt or resource request. */
export function offloadRequest<O>(ctx: RequestContext, moduleUrl: string, job: string, input: unknown): Promise<O> {
  return offload<O>(requestCall(ctx), moduleUrl, job, input);
}

/** Inside a job: a Deps over the data port. Parts a job may not use throw when touched. */
export function jobDeps(ctx: JobContext): Deps {
  // the suite's config, handed to every worker as workerData (plain values)
  const config = ctx.workerData as Config;
  const absent = (part: string) =>
    new Proxy({}, { get: () => { throw new Error(`A worker job cannot use deps.${part}: it runs on the main thread only.`); } });
  return {
    sql: ctx.sql as Deps['sql'],
    market: ctx.market,
    config,
    db: absent('db') as Deps['db'],
    cache: absent('cache') as Deps['cache'],
    metrics: absent('metrics') as Deps['metrics'],
    limits: absent('limits') as Deps['limits'],
    workers: absent('workers') as Deps['workers'],
  };
}
