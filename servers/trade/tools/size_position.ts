// size_position: how many shares a risk budget to a stop allows, and which limit binds.
import { z } from 'zod';
import { idSchema, symbolSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { sizingSentence } from '../../../shared/domain/sizing.js';
import { sizePositionFor } from '../../../shared/trading/size-position.js';
import { priceSchema } from './order-fields.js';

const cap = z.object({
  cap: z.enum(['risk_per_trade_pct', 'max_position_pct', 'max_order_value', 'max_order_qty', 'buying_power']),
  rule_name: z.string().nullable().describe('null: the buying-power gate'),
  max_quantity: z.number(),
});

export const sizePositionTool = defineTool({
  name: 'size_position',
  title: 'Size position',
  description: 'Largest whole quantity risking at most risk_pct of equity to stop, capped by the rules and buying power (each cap named).',
  scope: 'read',
  input: {
    model_id: idSchema('model_id'),
    symbol: symbolSchema,
    stop: priceSchema('stop').describe('Stop, dollars (below entry: long)'),
    risk_pct: z
      .number({ error: 'risk_pct must be a number.' })
      .refine((x) => x > 0 && x <= 1, { error: 'risk_pct must be greater than 0 and at most 1 (a fraction of equity: 0.01 = 1%).' })
      .describe('Fraction of equity to risk (≤ 1)'),
    entry: priceSchema('entry').optional().describe('Entry, dollars (default: price now)'),
  },
  output: {
    symbol: z.string(),
    side: z.enum(['buy', 'short']),
    entry: z.number(),
    stop: z.number(),
    risk_per_share: z.number(),
    risk_quantity: z.number().describe('floor(equity × risk_pct ÷ |entry − stop|), before caps'),
    quantity: z.number(),
    risk: z.number().describe('quantity × risk_per_share, dollars'),
    risk_fraction_of_equity: z.number().nullable(),
    equity: z.number(),
    caps: z.array(cap),
    bound_by: z.array(cap).describe('The caps that cut risk_quantity to quantity'),
    clock: z.string(),
  },
  annotations: READ_ONLY,
  async handler(args, { deps, auth }) {
    const s = await sizePositionFor(deps, auth, args);
    return { data: s, summary: sizingSentence(s, args.symbol, args.risk_pct) };
  },
});
