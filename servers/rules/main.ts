// npm run start:rules — the rules server alone.
import { runUntilSignal } from '../../shared/runtime.js';
import { rulesServer } from './server.js';

await runUntilSignal([rulesServer]);
