import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { cancelOrder } from '../../../shared/trading/orders.js';
import { orderRowOutput, orderRowSummary } from './order-fields.js';

export const cancelOrderTool = defineTool({
  name: 'cancel_order',
  title: 'Cancel order',
  description: 'Cancel a resting (open) order or one pending approval.',
  scope: 'trade',
  input: { order_id: idSchema('order_id') },
  output: orderRowOutput.shape,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async handler({ order_id }, { deps, auth }) {
    const order = await cancelOrder(deps, auth, order_id);
    return { data: order, summary: orderRowSummary(order) };
  },
});
