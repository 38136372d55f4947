import type { ServerSpec } from '../shared/mcp/server-spec.js';
import { analystServer } from './analyst/server.js';
import { priceServer } from './price/server.js';
import { rulesServer } from './rules/server.js';
import { runsServer } from './runs/server.js';
import { tradeServer } from './trade/server.js';

/** The five servers, in port order. */
export const ALL_SERVERS: ServerSpec[] = [tradeServer, priceServer, rulesServer, runsServer, analystServer];
