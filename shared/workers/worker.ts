// The worker thread's side of the pool (pool.ts): one job per message. It loads the job's
// module, gives the function its input and the data port's sql and market (reads answered by
// the main thread), and answers the result, or the error in a form that crosses threads.
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';
import { remoteData, sendError } from './data-port.js';
import type { JobAnswer, JobFn, JobMessage } from './pool.js';

const modules = new Map<string, Promise<Record<string, unknown>>>();
const data = (workerData as { data?: unknown } | null)?.data ?? null;

export default async function runJob(m: JobMessage): Promise<JobAnswer> {
  const { sql, market, progress } = remoteData(m.port, m.fetches);
  try {
    let mod = modules.get(m.module);
    if (!mod) modules.set(m.module, (mod = import(pathToFileURL(m.module).href)));
    const fn = (await mod)[m.job] as JobFn | undefined;
    if (typeof fn !== 'function') throw new Error(`The worker module ${m.module} has no job ${m.job}.`);
    return { ok: true, value: await fn(m.input, { sql, market, progress, workerData: data }) };
  } catch (err) {
    return { ok: false, error: sendError(err) };
  } finally {
    m.port.close();
  }
}
