// npm run start:runs — the runs server alone.
import { runUntilSignal } from '../../shared/runtime.js';
import { runsServer } from './server.js';

await runUntilSignal([runsServer]);
