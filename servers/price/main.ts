// npm run start:price — the price server alone.
import { runUntilSignal } from '../../shared/runtime.js';
import { priceServer } from './server.js';

await runUntilSignal([priceServer]);
