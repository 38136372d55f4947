// npm run start:analyst — the analyst server alone.
import { runUntilSignal } from '../../shared/runtime.js';
import { analystServer } from './server.js';

await runUntilSignal([analystServer]);
