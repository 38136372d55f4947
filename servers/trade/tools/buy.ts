// buy, sell, short, cover: one family, one path through the gates and rules.
import { z } from 'zod';
import type { Side } from '../../../shared/domain/types.js';
import { idSchema, symbolSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { placeOrder } from '../../../shared/trading/orders.js';
import { withApproval } from './ask-approval.js';
import { fractionSchema, orderResultOutput, orderSummary, priceSchema, quantitySchema } from './order-fields.js';

/** sell and cover close risk: they take no bracket (stop_loss/take_profit attach to opening orders). */
export const closingOrderInput = {
  model_id: idSchema('model_id'),
  symbol: symbolSchema,
  quantity: quantitySchema,
  order_type: z.enum(['market', 'limit', 'stop', 'stop_limit']).default('market').describe('market (default), limit, stop or stop_limit'),
  limit_price: priceSchema('limit_price').optional().describe('Dollars per share; limit and stop_limit only'),
  stop_price: priceSchema('stop_price').optional().describe('Trigger, dollars; stop and stop_limit only'),
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
    .describe('First target, dollars (not a fraction): above the expected fill for a buy, below for a short; the clock fires it as a market order'),
  take_profit_2: priceSchema('take_profit_2').optional().describe('Second target, dollars, beyond take_profit: closes the rest'),
  first_target_fraction: fractionSchema('first_target_fraction', 'the part of the position take_profit closes')
    .optional()
    .describe('Part closed at take_profit, between 0 and 1 (default: all; half with take_profit_2)'),
  breakeven_after_first_target: z.boolean().optional().describe('Move the stop to the average entry once take_profit fills'),
  trailing_stop_pct: fractionSchema('trailing_stop_pct', 'the trail below the high (above the low for a short)')
    .optional()
    .describe('Trailing stop: a fraction (0.05 = 5%) below the high since the fill (above the low for a short)'),
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
    description: `${DESCRIPTIONS[side]} Gates, then rules; a refusal is status rejected with reasons. Market: the clock's price + slippage + commission. Limit/stop: rests until a bar trades through it; expires with its run. No running run: a fill starts a live one (started_run).`,
    scope: 'trade',
    input: side === 'sell' || side === 'cover' ? (closingOrderInput as typeof orderInput) : orderInput,
    output: orderResultOutput,
    annotations: { readOnlyHint: false, destructiveHint: side === 'sell' || side === 'cover', idempotentHint: false, openWorldHint: false },
    async handler(args, ctx) {
      const result = await withApproval(ctx, () => placeOrder(ctx.deps, ctx.auth, { ...args, side }));
      if ('inputRequired' in result) return result;
      return { data: result, summary: orderSummary(result), outcome: result.status === 'rejected' ? 'rejected' : 'ok' };
    },
  });
}

export const buyTool = orderTool('buy');
export const sellTool = orderTool('sell');
export const shortTool = orderTool('short');
export const coverTool = orderTool('cover');
