// npm run start:trade — the trade server alone.
import { runUntilSignal } from '../../shared/runtime.js';
import { tradeServer } from './server.js';

await runUntilSignal([tradeServer]);
