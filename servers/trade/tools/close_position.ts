import { z } from 'zod';
import { idSchema, symbolSchema } from '../../../shared/mcp/schemas.js';
import { ToolError } from '../../../shared/mcp/errors.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { closePositions, type OrderResult } from '../../../shared/trading/orders.js';
import { orderResultOutput, orderSummary, reasoningSchema } from './order-fields.js';

export const closingOrdersOutput = z.array(z.object(orderResultOutput));

/** One line per closing order, or that there was nothing to close. */
export function closingSummary(orders: OrderResult[]): string {
  return orders.length ? orders.map(orderSummary).join(' ') : 'No position was open: nothing to close.';
}

export const closePositionTool = defineTool({
  name: 'close_position',
  title: 'Close position',
  description:
    'Get flat now: market exits of the position in symbol, or of all, as sell/cover; allowed while halted or reducing, never throttled or held for approval.',
  scope: ['trade', 'approve'],
  input: {
    model_id: idSchema('model_id'),
    symbol: symbolSchema.optional().describe('The position to close (or all)'),
    all: z.literal(true, { error: 'all must be true when given (or give symbol).' }).optional().describe('Close every position instead'),
    reasoning: reasoningSchema('logged with each order'),
  },
  output: { model_id: z.number(), orders: closingOrdersOutput },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async handler({ model_id, symbol, all, reasoning }, { deps, auth }) {
    if ((symbol === undefined) === (all === undefined)) {
      throw new ToolError('BAD_INPUT', 'Give exactly one of symbol (one position) or all: true (every position); nothing was closed.');
    }
    const orders = await closePositions(deps, auth, { model_id, symbol, all, reasoning });
    return { data: { model_id, orders }, summary: closingSummary(orders), outcome: orders.some((o) => o.status === 'rejected') ? 'rejected' : 'ok' };
  },
});
