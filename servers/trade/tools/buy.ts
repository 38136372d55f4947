// buy, sell, short, cover: one family, one path through the gates and rules.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { Side } from '../../../shared/domain/types.js';
import { idSchema, symbolSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, type ToolContext } from '../../../shared/mcp/tool.js';
import { decideApproval, placeOrder, type OrderResult } from '../../../shared/trading/orders.js';
import { orderResultOutput, orderSummary, priceSchema, quantitySchema } from './order-fields.js';

/** sell and cover close risk: they take no bracket (stop_loss/take_profit attach to opening orders). */
export const closingOrderInput = {
  model_id: idSchema('model_id'),
  symbol: symbolSchema,
  quantity: quantitySchema,
  order_type: z.enum(['market', 'limit']).default('market'),
  limit_price: priceSchema('limit_price').optional(),
  reasoning: z.string().max(20_000).optional().describe('Why: stored with the order and in the reasoning log'),
  client_order_id: z.string().min(1).max(100).optional().describe('Idempotency key: a repeat returns the first result'),
};

export const orderInput = {
  ...closingOrderInput,
  stop_loss: priceSchema('stop_loss')
    .optional()
    .describe('Exit price in dollars (not a fraction): below the expected fill for a buy, above for a short; the clock fires it as a market order'),
  take_profit: priceSchema('take_profit')
    .optional()
    .describe('Exit price in dollars (not a fraction): above the expected fill for a buy, below for a short; the clock fires it as a market order'),
};

const DESCRIPTIONS: Record<Side, string> = {
  buy: 'Buy shares (open or add to a long). Needs buying power (cash − collateral held for shorts) ≥ cost + commission.',
  sell: 'Sell shares of a long position. Never refused for cash; a fill that leaves a debit halts the model (margin_call).',
  short:
    'Sell short (needs allow_short). Reg T style: proceeds are collateral, plus short_margin_pct (default 0.5) of the value; buying power covers that + commission.',
  cover: 'Buy back shares of a short position. Never refused for cash; a fill that leaves a debit halts the model (margin_call).',
};

function orderTool(side: Side) {
  return defineTool({
    name: side,
    title: side[0]!.toUpperCase() + side.slice(1),
    description: `${DESCRIPTIONS[side]} Gates, then rules; a refusal is status rejected with reasons. Market: the clock's price + slippage + commission. Limit: rests open until a bar trades through it; expires with its run. No running run: a fill starts a live one (started_run).`,
    scope: 'trade',
    input: side === 'sell' || side === 'cover' ? (closingOrderInput as typeof orderInput) : orderInput,
    output: orderResultOutput,
    annotations: { readOnlyHint: false, destructiveHint: side === 'sell' || side === 'cover', idempotentHint: false, openWorldHint: false },
    async handler(args, ctx) {
      let result = await placeOrder(ctx.deps, ctx.auth, { ...args, side });
      if (result.status === 'pending_approval' && !result.replayed) result = await askThePerson(ctx, result);
      return { data: result, summary: orderSummary(result), outcome: result.status === 'rejected' ? 'rejected' : 'ok' };
    },
  });
}

/** With form elicitation, the person in the client decides right there. */
async function askThePerson(ctx: ToolContext, pending: OrderResult): Promise<OrderResult> {
  if (!supportsFormElicitation(ctx.server)) return pending;
  const answer = await ctx.server.server
    .elicitInput({
      mode: 'form',
      message: `Approve order ${pending.order_id}: ${pending.side} ${pending.quantity} ${pending.symbol}${pending.limit_price ? ` limit $${pending.limit_price}` : ' at market'}? Checks run again at current prices.`,
      requestedSchema: {
        type: 'object',
        properties: { note: { type: 'string', title: 'Note', description: 'Optional note for the audit trail' } },
      },
    })
    .catch(() => null);
  if (!answer || answer.action === 'cancel') return pending; // no answer: it stays pending
  const note = typeof answer.content?.note === 'string' ? answer.content.note : null;
  return decideApproval(ctx.deps, ctx.auth, pending.order_id, answer.action === 'accept' ? 'approve' : 'reject', note, `person via ${ctx.auth.keyPrefix}`);
}

function supportsFormElicitation(server: McpServer): boolean {
  const e = server.server.getClientCapabilities()?.elicitation as Record<string, unknown> | undefined;
  if (!e) return false;
  return Object.keys(e).length === 0 || 'form' in e;
}

export const buyTool = orderTool('buy');
export const sellTool = orderTool('sell');
export const shortTool = orderTool('short');
export const coverTool = orderTool('cover');
