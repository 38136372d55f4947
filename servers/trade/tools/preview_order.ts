import { z } from 'zod';
import { asIn, idSchema, symbolSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { previewOrder } from '../../../shared/trading/orders.js';
import { rejectionOutput } from '../../../shared/mcp/schemas.js';
import { downsizedOutput, limitPriceSchema, portfolioAfterOutput, quantitySchema } from './order-fields.js';

export const previewOrderTool = defineTool({
  name: 'preview_order',
  title: 'Preview order',
  description: 'Every check of an order, nothing placed: would it fill, why not, estimated price, portfolio after.',
  scope: 'read',
  input: {
    model_id: idSchema('model_id'),
    side: z.enum(['buy', 'sell', 'short', 'cover']).describe('Side of the order'),
    ...asIn('buy', { symbol: symbolSchema, quantity: quantitySchema, order_type: z.enum(['market', 'limit']).default('market'), limit_price: limitPriceSchema }),
  },
  output: {
    quantity: z.number(),
    downsized: downsizedOutput.nullable(),
    would_fill: z.boolean(),
    status_if_placed: z.string(),
    rejections: z.array(rejectionOutput),
    estimated_price: z.number().nullable(),
    estimated_cost: z.number().nullable(),
    commission: z.number(),
    portfolio_after: portfolioAfterOutput.nullable(),
    clock: z.string(),
  },
  annotations: READ_ONLY,
  async handler(args, { deps, auth }) {
    const p = await previewOrder(deps, auth, args);
    const what = `${args.side} ${p.quantity} ${args.symbol}${p.downsized ? ` (${p.downsized.message})` : ''}`;
    return {
      data: p,
      summary: p.rejections.length
        ? `${what} would be REJECTED: ${p.rejections.map((r) => r.message).join(' ')}`
        : `${what} would be ${p.status_if_placed} at about $${p.estimated_price} ($${p.estimated_cost} + $${p.commission} commission); value after $${p.portfolio_after?.total_value}.`,
    };
  },
});
