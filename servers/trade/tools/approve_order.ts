// approve_order and reject_order: a person with `approve` decides a pending order.
import { freeTextSchema, idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { decideApproval } from '../../../shared/trading/orders.js';
import { openingResultOutput, orderResultOutput, orderSummary, priceSchema, quantitySchema } from './order-fields.js';

const input = { order_id: idSchema('order_id'), note: freeTextSchema(2000).optional().describe('Note for the audit trail') };

export const approveOrderTool = defineTool({
  name: 'approve_order',
  title: 'Approve order',
  description: 'Approve a pending order, edits optional; every check runs again at current prices (a refused edit leaves it pending). Needs approve.',
  scope: 'approve',
  input: {
    ...input,
    quantity: quantitySchema.optional().describe('Smaller quantity (down only)'),
    stop_loss: priceSchema('stop_loss').optional().describe('Tighter stop, dollars'),
    take_profit: priceSchema('take_profit').optional().describe('Tighter target, dollars'),
  },
  output: openingResultOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler({ order_id, note, ...edits }, { deps, auth }) {
    const r = await decideApproval(deps, auth, order_id, 'approve', note ?? null, auth.keyPrefix, edits);
    return { data: r, summary: orderSummary(r), outcome: r.status === 'rejected' ? 'rejected' : 'ok' };
  },
});

export const rejectOrderTool = defineTool({
  name: 'reject_order',
  title: 'Reject order',
  description: 'Reject a pending order. Needs approve.',
  scope: 'approve',
  input,
  output: orderResultOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async handler({ order_id, note }, { deps, auth }) {
    const r = await decideApproval(deps, auth, order_id, 'reject', note ?? null, auth.keyPrefix);
    return { data: r, summary: orderSummary(r) };
  },
});
