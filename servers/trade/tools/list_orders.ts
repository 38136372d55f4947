import { z } from 'zod';
import { ToolError } from '../../../shared/mcp/errors.js';
import { idSchema, limitSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { getOwnedModel } from '../../../shared/store/models.js';
import { listOrders } from '../../../shared/store/orders.js';
import { getOwnedRun } from '../../../shared/store/runs.js';
import { orderRowOutput, orderRowSummary } from './order-fields.js';

export const listOrdersTool = defineTool({
  name: 'list_orders',
  title: 'List orders',
  description: 'Orders of a model or run, newest first, rejected ones included with their reasons. A pending approval older than 15 minutes shows as expired.',
  scope: 'read',
  input: {
    model_id: idSchema('model_id').optional(),
    run_id: idSchema('run_id').optional(),
    status: z.enum(['filled', 'rejected', 'pending_approval', 'open', 'validated', 'cancelled', 'expired']).optional(),
    limit: limitSchema(100, 1000),
  },
  output: { orders: z.array(orderRowOutput) },
  annotations: READ_ONLY,
  async handler({ model_id, run_id, status, limit }, { deps, auth }) {
    if (!model_id && !run_id) throw new ToolError('BAD_ARGS', 'Give model_id or run_id.');
    if (model_id) await getOwnedModel(deps.sql, auth.userId, model_id);
    if (run_id) await getOwnedRun(deps.sql, auth.userId, run_id);
    const orders = await listOrders(deps.sql, { userId: auth.userId, modelId: model_id, runId: run_id, status, limit });
    return {
      data: { orders },
      summary: orders.length ? `${orders.length} order(s): ${orders.slice(0, 20).map(orderRowSummary).join(' ')}` : 'No orders.',
    };
  },
});
