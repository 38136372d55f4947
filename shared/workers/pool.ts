// Heavy computations off the event loop that serves orders: a piscina pool of worker threads
// behind a bounded, fair queue. At most `threads` jobs run at once in all and `perKey` per
// API key; the rest wait in one queue of at most `maxQueue`, and a job that finds it full is
// refused at once with one sentence saying when to retry. A cancelled call leaves the queue,
// or piscina ends its worker thread mid-computation (a fresh one replaces it). Each worker's
// heap is bounded (`memoryMb`): a job that outgrows it fails alone with a sentence.
//
// Why piscina: thread start, replacement of a dead or aborted thread, idle exit, transfer
// lists and resource limits are what a pool must get right, and piscina is the well-kept one
// (Node.js project members; tinypool, vitest's, is a fork with fewer features).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { errorFields, logEvent } from '../log.js';
import { ToolError } from '../mcp/errors.js';
import { receiveError, serveData, type DataSource, type SentError } from './data-port.js';

export interface PoolOptions {
  /** Worker threads, i.e. jobs running at once in all. */
  threads: number;
  /** Jobs of one API key running at once. */
  perKey: number;
  /** Jobs waiting for a thread, in all. */
  maxQueue: number;
  /** Old-generation heap of each worker thread, MB. */
  memoryMb: number;
  /** Plain data every job's worker gets (the suite's config). */
  workerData?: unknown;
}

export interface JobOptions {
  /** Who asks (an API key prefix): bounds jobs per key. */
  key: string;
  signal?: AbortSignal;
  progress?: (done: number, total: number, message?: string) => void;
}

/** What a job module's function receives besides its input. */
export interface JobContext extends DataSource {
  /** Forwarded to the calling tool's ctx.progress. */
  progress(done: number, total: number, message?: string): void;
  workerData: unknown;
}

/** A job module's function: plain (structured-clone) input and output. */
export type JobFn<I = any, O = any> = (input: I, ctx: JobContext) => Promise<O> | O;

/** What the worker thread is handed per job (worker.ts). */
export interface JobMessage {
  module: string;
  job: string;
  input: unknown;
  port: import('node:worker_threads').MessagePort;
  /** The main market's `fetches` (a provider is configured). */
  fetches: boolean;
}
export type JobAnswer = { ok: true; value: unknown } | { ok: false; error: SentError };

/**
 * A module beside `base` (an import.meta.url) by its name without extension: the compiled
 * `.js` when it exists (the built dist, npm start), else the TypeScript source (vitest, tsx).
 */
export function siblingModule(base: string, name: string): string {
  const dir = path.dirname(fileURLToPath(base));
  const js = path.join(dir, `${name}.js`);
  return fs.existsSync(js) ? js : path.join(dir, `${name}.ts`);
}

/**
 * The worker entry: dist's worker.js; from TypeScript sources, tsx-bootstrap.mjs, which
 * registers tsx in the thread (Node 20 workers do not take --import from execArgv) and then
 * loads worker.ts.
 */
function workerEntry(): { filename: string; workerData: { tsx: string | null } } {
  const file = siblingModule(import.meta.url, 'worker');
  if (file.endsWith('.js')) return { filename: file, workerData: { tsx: null } };
  // tsx's ESM register API (its package exports' import condition: the CJS build cannot register hooks here)
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  const api = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default;
  const tsx = pathToFileURL(path.join(path.dirname(pkg), api)).href;
  return { filename: path.join(path.dirname(file), 'tsx-bootstrap.mjs'), workerData: { tsx } };
}

interface Waiting {
  key: string;
  start(): void;
  cancel(): void;
}

export class WorkerPool {
  private piscina: Piscina | null = null;
  private running = 0;
  private readonly runningByKey = new Map<string, number>();
  private readonly waiting: Waiting[] = [];
  /** Mean seconds of a finished job (moving average), for the retry estimate. */
  private meanSeconds = 2;
  private closed = false;
  /** Jobs finished (done or failed) since start. */
  completed = 0;

  constructor(
    private readonly source: DataSource,
    readonly options: PoolOptions,
  ) {}

  /** Jobs running and waiting right now. */
  get load(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }

  /** The worker threads alive (0 until the first job). */
  get threads(): number {
    return this.piscina?.threads.length ?? 0;
  }

  private pool(): Piscina {
    if (!this.piscina) {
      const entry = workerEntry();
      this.piscina = new Piscina({
        filename: entry.filename,
        minThreads: 0,
        maxThreads: this.options.threads,
        idleTimeout: 60_000,
        resourceLimits: { maxOldGenerationSizeMb: this.options.memoryMb },
        workerData: { ...entry.workerData, data: this.options.workerData ?? null },
      });
      // a thread that dies outside a job (its start failed): the job it held fails, the pool goes on
      this.piscina.on('error', (err: unknown) => logEvent('worker_error', errorFields(err, true)));
    }
    return this.piscina;
  }

  /**
   * Runs `module`'s exported function `job` on `input` in a worker thread, its reads answered
   * here. Throws ToolError ANALYST_BUSY ("The analyst is busy: …; retry after S s.") when the
   * queue is full, CANCELLED when `signal` aborts, JOB_OUT_OF_MEMORY when the job outgrew its
   * worker's heap, and the job's own error (a ToolError keeps its sentence) otherwise.
   */
  run<O>(module: string, job: string, input: unknown, opts: JobOptions): Promise<O> {
    if (this.closed) return Promise.reject(new ToolError('SHUTTING_DOWN', 'The server is shutting down; try again once it is back.'));
    if (opts.signal?.aborted) return Promise.reject(cancelled());
    if (this.waiting.length >= this.options.maxQueue) return Promise.reject(this.busy());
    return new Promise<O>((resolve, reject) => {
      const entry: Waiting = {
        key: opts.key,
        start: () => {
          opts.signal?.removeEventListener('abort', onAbort);
          this.running++;
          this.runningByKey.set(opts.key, (this.runningByKey.get(opts.key) ?? 0) + 1);
          const t0 = performance.now();
          this.execute<O>(module, job, input, opts).then(resolve, reject).finally(() => {
            this.running--;
            const n = this.runningByKey.get(opts.key)! - 1;
            if (n) this.runningByKey.set(opts.key, n);
            else this.runningByKey.delete(opts.key);
            this.completed++;
            this.meanSeconds = 0.8 * this.meanSeconds + 0.2 * ((performance.now() - t0) / 1000);
            this.pump();
          });
        },
        cancel: () => reject(cancelled()),
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        entry.cancel();
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
      this.pump();
    });
  }

  /** The one sentence a full queue answers, with a retry estimate from the jobs' mean time. */
  private busy(): ToolError {
    const queued = this.waiting.length;
    const retry = Math.max(1, Math.ceil(((queued + this.running) / this.options.threads) * this.meanSeconds));
    return new ToolError('ANALYST_BUSY', `The analyst is busy: ${queued} job${queued === 1 ? '' : 's'} queued; retry after ${retry} s.`);
  }

  /** Starts waiting jobs, oldest first, while a thread is free, skipping keys at their limit. */
  private pump(): void {
    while (this.running < this.options.threads) {
      const i = this.waiting.findIndex((w) => (this.runningByKey.get(w.key) ?? 0) < this.options.perKey);
      if (i < 0) return;
      this.waiting.splice(i, 1)[0]!.start();
    }
  }

  private async execute<O>(module: string, job: string, input: unknown, opts: JobOptions): Promise<O> {
    const { port1, port2 } = new MessageChannel();
    serveData(port1, this.source, opts.progress);
    try {
      const message: JobMessage = { module, job, input, port: port2, fetches: this.source.market.fetches };
      const answer = (await this.pool().run(message, { transferList: [port2], signal: opts.signal ?? null })) as JobAnswer;
      if (!answer.ok) throw receiveError(answer.error);
      return answer.value as O;
    } catch (err) {
      if (opts.signal?.aborted || (err as Error)?.name === 'AbortError') throw cancelled();
      if ((err as { code?: string })?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new ToolError('JOB_OUT_OF_MEMORY', `This analysis needed more than the worker's ${this.options.memoryMb} MB of memory and was stopped; ask for fewer runs or a shorter run.`);
      }
      throw err;
    } finally {
      port1.close();
    }
  }

  /** Refuses new jobs, cancels waiting ones, ends the threads (running jobs are cut). */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.cancel();
    await this.piscina?.destroy();
    this.piscina = null;
  }
}

function cancelled(): ToolError {
  return new ToolError('CANCELLED', 'The client cancelled the call; its analysis was stopped and nothing was written.');
}
