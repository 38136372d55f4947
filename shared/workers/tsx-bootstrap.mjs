// The pool's worker entry when it runs from TypeScript sources (vitest, tsx; the built dist
// uses worker.js directly): registers tsx in this thread, then serves worker.ts's handler.
import { workerData } from 'node:worker_threads';

const { register } = await import(workerData.tsx);
register();
const { default: runJob } = await import(new URL('./worker.ts', import.meta.url).href);
export default runJob;
