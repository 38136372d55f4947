import { z } from 'zod';
import { idSchema, rejectionOutput } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { modifyOrder } from '../../../shared/trading/orders.js';
import { orderRowOutput, orderRowSummary, priceSchema, quantitySchema, reasoningSchema } from './order-fields.js';

export const modifyOrderTool = defineTool({
  name: 'modify_order',
  title: 'Modify order',
  description:
    'Change a resting order in place, re-checked at the clock: refused, nothing changes (modified false); marketable, it fills. Changes are kept in its history.',
  scope: 'trade',
  input: {
    order_id: idSchema('order_id'),
    limit_price: priceSchema('limit_price').optional().describe('New limit, dollars'),
    stop_price: priceSchema('stop_price').optional().describe('New stop trigger, dollars'),
    quantity: quantitySchema.optional().describe('New quantity, below the current'),
    reasoning: reasoningSchema('kept in the change history'),
  },
  output: { order: orderRowOutput, modified: z.boolean(), rejections: z.array(rejectionOutput), halted_reason: z.string().nullable() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(args, { deps, auth }) {
    const r = await modifyOrder(deps, auth, args);
    const head = r.modified ? `Modified: ${orderRowSummary(r.order)}` : `Not modified (order ${r.order.order_id} stays as it was): ${r.rejections.map((x) => x.message).join(' ')}`;
    return { data: r, summary: head, outcome: r.modified ? 'ok' : 'rejected' };
  },
});
