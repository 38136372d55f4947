import { z } from 'zod';
import { idSchema, rejectionOutput } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { modifyOrder } from '../../../shared/trading/orders.js';
import { orderRowOutput, orderRowSummary, priceSchema, quantitySchema } from './order-fields.js';

export const modifyOrderTool = defineTool({
  name: 'modify_order',
  title: 'Modify order',
  description:
    'Change a resting (open) order in place: limit_price, stop_price (stop entries not yet triggered), quantity (down only). Re-checked by the gates and rules at the new terms at the clock: refused, the order stays as it was (modified false, rejections); marketable now, it fills. The order keeps its id and its change history (when, key, before → after, why).',
  scope: 'trade',
  input: {
    order_id: idSchema('order_id'),
    limit_price: priceSchema('limit_price').optional().describe('New limit, dollars'),
    stop_price: priceSchema('stop_price').optional().describe('New stop, dollars (stop and stop_limit orders not yet triggered)'),
    quantity: quantitySchema.optional().describe('New quantity, below the current one'),
    reasoning: z.string().max(20_000).optional().describe('Why: kept in the change history'),
  },
  output: { order: orderRowOutput, modified: z.boolean(), rejections: z.array(rejectionOutput), halted_reason: z.string().nullable() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(args, { deps, auth }) {
    const r = await modifyOrder(deps, auth, args);
    const head = r.modified ? `Modified: ${orderRowSummary(r.order)}` : `Not modified (order ${r.order.order_id} stays as it was): ${r.rejections.map((x) => x.message).join(' ')}`;
    return { data: r, summary: head, outcome: r.modified ? 'ok' : 'rejected' };
  },
});
