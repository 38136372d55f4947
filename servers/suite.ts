// npm start — all five servers in one process, sharing one database and cache.
import { runUntilSignal } from '../shared/runtime.js';
import { ALL_SERVERS } from './catalog.js';

await runUntilSignal(ALL_SERVERS);
