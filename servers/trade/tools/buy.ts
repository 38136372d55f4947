// buy, sell, short, cover: one family, one path through the gates and rules.
import { z } from 'zod';
import type { Side } from '../../../shared/domain/types.js';
import { asIn, idSchema, symbolSchema, unlisted } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { placeOrder } from '../../../shared/trading/orders.js';
import { withApproval } from './ask-approval.js';
import {
  fractionSchema,
  limitPriceSchema,
  openingResultOutput,
  orderResultOutput,
  orderSummary,
  orderTypeSchema,
  priceSchema,
  quantitySchema,
  reasoningSchema,
  stopPriceSchema,
} from './order-fields.js';

/** sell and cover close risk: they take no bracket (stop_loss/take_profit attach to opening orders). */
export const closingOrderInput = {
  model_id: idSchema('model_id'),
  symbol: symbolSchema,
  quantity: quantitySchema,
  order_type: orderTypeSchema,
  limit_price: limitPriceSchema,
  stop_price: stopPriceSchema,
  reasoning: reasoningSchema('logged with the order'),
  client_order_id: z.string().min(1).max(100).optional().meta(unlisted('minLength', 'maxLength')).describe('Idempotency key for retries'),
};

/** The bracket of an opening order (its levels worded for a long). */
const bracketInput = {
  stop_loss: priceSchema('stop_loss').optional().describe('Stop, dollars, below the fill'),
  take_profit: priceSchema('take_profit').optional().describe('First target, dollars, above the fill'),
  take_profit_2: priceSchema('take_profit_2').optional().describe('Second target, dollars: closes the rest'),
  first_target_fraction: fractionSchema('first_target_fraction', 'the part of the position take_profit closes')
    .optional()
    .describe('Part closed at take_profit (default all; half with take_profit_2)'),
  breakeven_after_first_target: z.boolean().optional().describe('Stop to the average entry once take_profit fills'),
  trailing_stop_pct: fractionSchema('trailing_stop_pct', 'the trail below the high (above the low for a short)')
    .optional()
    .describe('Trail below the high, a fraction (0.05 = 5%)'),
};

export const orderInput = { ...closingOrderInput, ...bracketInput };
// sell, short and cover are listed beside buy: their parameters say "As in buy." (short's levels mirrored)
const asBuy = asIn('buy', closingOrderInput);
const shortInput = {
  ...asBuy,
  ...asIn('buy', bracketInput),
  stop_loss: bracketInput.stop_loss.describe('Stop, dollars, above the fill'),
  take_profit: bracketInput.take_profit.describe('First target, dollars, below the fill'),
  trailing_stop_pct: bracketInput.trailing_stop_pct.describe('As in buy, above the low'),
};

const DESCRIPTIONS: Record<Side, string> = {
  buy: 'Buy shares (open or add to a long); buying power (cash − short collateral) must cover cost + commission. Refusals: status rejected, with reasons. Fills pay slippage + commission; with no running run a fill starts a live one.',
  sell: 'Sell shares of a long, as buy; never refused for cash (a debit left halts the model: margin_call).',
  short:
    'Sell short (needs allow_short), as buy; buying power covers short_margin_pct (default 0.5) of the value + commission.',
  cover: 'Buy back shares of a short, as sell.',
};

function orderTool(side: Side) {
  return defineTool({
    name: side,
    title: side[0]!.toUpperCase() + side.slice(1),
    description: DESCRIPTIONS[side],
    scope: 'trade',
    input: side === 'sell' || side === 'cover' ? (asBuy as typeof orderInput) : side === 'short' ? shortInput : orderInput,
    output: side === 'buy' || side === 'short' ? openingResultOutput : orderResultOutput,
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
