// Shapes shared by the trade tools.
import { z } from 'zod';
import { freeTextSchema, priceSchema, rejectionOutput, unlisted } from '../../../shared/mcp/schemas.js';
import type { OrderRow } from '../../../shared/store/orders.js';
import type { OrderResult } from '../../../shared/trading/orders.js';

export const quantitySchema = z
  .number({ error: 'quantity must be a number of shares.' })
  .int({ error: 'quantity must be whole shares.' })
  .min(1, { error: 'quantity must be at least 1 share.' })
  .max(10_000_000, { error: 'quantity must be at most 10,000,000 shares.' })
  .meta({ ...unlisted('minimum', 'maximum'), description: 'Number of whole shares' });

/** A share price at the US equity tick (defined with the other argument schemas). */
export { priceSchema } from '../../../shared/mcp/schemas.js';

export const orderTypeSchema = z
  .enum(['market', 'limit', 'stop', 'stop_limit'])
  .default('market')
  .describe('limit, stop and stop_limit rest until a bar trades through their price');
export const limitPriceSchema = priceSchema('limit_price').optional().describe('Dollars; limit and stop_limit only');
export const stopPriceSchema = priceSchema('stop_price').optional().describe('Trigger, dollars; stop and stop_limit');
/** Why an order or change was made, kept with it (and in the reasoning log for orders). */
export const reasoningSchema = (where: string) => freeTextSchema(20_000).optional().describe(`Why; ${where}`);

/** A fraction strictly between 0 and 1 (refined, not exclusiveMinimum: CONTRACT §0). */
export const fractionSchema = (what: string, meaning: string) =>
  z
    .number({ error: `${what} must be a number.` })
    .refine((x) => x > 0 && x < 1, { error: `${what} must be between 0 and 1, both excluded (${meaning}; 0.5 = half).` });

export const portfolioAfterOutput = z.object({ cash: z.number(), position_quantity: z.number(), total_value: z.number(), buying_power: z.number() });

export const downsizedOutput = z
  .object({ from: z.number(), to: z.number(), rule_names: z.array(z.string()), message: z.string() })
  .describe('Set when a downsize: true rule cut the order to the quantity it allows');

const termsOutput = z.object({ limit_price: z.number().nullable(), stop_price: z.number().nullable(), quantity: z.number(), stop_loss: z.number().nullable().optional(), take_profit: z.number().nullable().optional() });

export const orderResultOutput = {
  order_id: z.number(),
  status: z.string(),
  side: z.string(),
  symbol: z.string(),
  quantity: z.number(),
  order_type: z.string(),
  limit_price: z.number().nullable(),
  stop_price: z.number().nullable(),
  fill_price: z.number().nullable(),
  commission: z.number().nullable(),
  slippage: z.number().nullable(),
  rejections: z.array(rejectionOutput),
  portfolio_after: portfolioAfterOutput,
  run_id: z.number().nullable().describe('null: refused while the model had no running run, so no run was started'),
  started_run: z.boolean().describe('This order started a live run (the model had none running)'),
  clock: z.string(),
  replayed: z.boolean(),
  halted_reason: z.string().nullable(),
  pending: z
    .object({ notional: z.number(), risk_to_stop: z.number().nullable(), risk_fraction_of_equity: z.number().nullable(), expires_at: z.string() })
    .nullable()
    .describe("A pending approval's notional, risk to its stop ($ and fraction of equity) and expiry"),
  downsized: downsizedOutput.nullable().optional(),
};

/** buy, short and approve_order also echo the bracket they accepted (absent when unset or refused). */
export const openingResultOutput = { ...orderResultOutput, stop_loss: z.number().optional(), take_profit: z.number().optional() };

export const orderRowOutput = z.object({
  order_id: z.number(),
  run_id: z.number().nullable(),
  model_id: z.number(),
  client_order_id: z.string().nullable(),
  side: z.string(),
  symbol: z.string(),
  quantity: z.number(),
  order_type: z.string(),
  limit_price: z.number().nullable(),
  stop_price: z.number().nullable(),
  triggered_at: z.string().nullable().describe("When a stop entry's stop traded (a stop_limit then rests as a limit)"),
  stop_loss: z.number().nullable(),
  take_profit: z.number().nullable(),
  take_profit_2: z.number().nullable(),
  first_target_fraction: z.number().nullable(),
  breakeven_after_first_target: z.boolean(),
  trailing_stop_pct: z.number().nullable(),
  changes: z
    .array(
      z.object({
        kind: z.enum(['downsize', 'approval']).optional(),
        at: z.string(),
        clock: z.string(),
        key_prefix: z.string(),
        before: termsOutput,
        after: termsOutput,
        reasoning: z.string().nullable(),
      }),
    )
    .describe('Changes of its terms, oldest first (modify_order; kind downsize or approval): wall time, run clock, key, before → after, why'),
  status: z.string(),
  rejections: z.array(rejectionOutput),
  reasoning: z.string().nullable(),
  source: z.string(),
  clock: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  decided_by: z.string().nullable(),
  decision_note: z.string().nullable(),
  fill: z
    .object({ price: z.number(), commission: z.number(), slippage: z.number(), cash_change: z.number(), realized_pnl: z.number(), clock: z.string() })
    .nullable(),
});

export function orderSummary(r: OrderResult): string {
  const what = `${r.side} ${r.quantity} ${r.symbol}`;
  const levels = [r.stop_loss === undefined ? '' : `stop_loss $${r.stop_loss}`, r.take_profit === undefined ? '' : `take_profit $${r.take_profit}`].filter(Boolean);
  const bracket = levels.length ? ` Attached: ${levels.join(', ')}.` : '';
  const head =
    (r.replayed ? `Order ${r.order_id} (seen before: first result returned)` : `Order ${r.order_id}${r.started_run ? ` (started live run ${r.run_id})` : ''}`) +
    (r.downsized ? ` (${r.downsized.message})` : '');
  switch (r.status) {
    case 'filled':
      return `${head}: ${what} filled at $${r.fill_price} (commission $${r.commission}). Cash $${r.portfolio_after.cash.toFixed(2)}, position ${r.portfolio_after.position_quantity}, value $${r.portfolio_after.total_value.toFixed(2)}, buying power $${r.portfolio_after.buying_power.toFixed(2)}.${bracket}${r.halted_reason ? ` Trading is now HALTED: ${r.halted_reason}` : ''}`;
    case 'rejected':
      return `${head}: ${what} REJECTED. ${r.rejections.map((x) => x.message).join(' ')}${r.run_id === null ? ' No run was started.' : ''}${r.halted_reason ? ` Trading is now HALTED: ${r.halted_reason}` : ''}`;
    case 'pending_approval':
      if (r.rejections.length) return `${head}: the edit was refused, so ${what} is unchanged and still pending approval: ${r.rejections.map((x) => x.message).join(' ')}`;
      return `${head}: ${what} is waiting for a person to approve it (approve_order / reject_order)${r.pending ? `: notional $${r.pending.notional}${r.pending.risk_to_stop !== null ? `, risk to the stop $${r.pending.risk_to_stop} (${(r.pending.risk_fraction_of_equity! * 100).toFixed(2)}% of equity)` : ', no stop_loss'}; it expires at ${r.pending.expires_at}` : ''}.${bracket}`;
    case 'open':
      if (r.stop_price !== null) {
        return `${head}: ${what} stop $${r.stop_price} rests until a bar trades at or through it, then ${r.order_type === 'stop_limit' ? `rests as a limit at $${r.limit_price}` : 'fills at market'}.${bracket}`;
      }
      return `${head}: ${what} limit $${r.limit_price} rests open until the clock passes a bar that trades through it.${bracket}`;
    case 'validated':
      return `${head}: ${what} passed every check (validation mode: nothing filled).${bracket}`;
    default:
      return `${head}: ${what} is ${r.status}.`;
  }
}

export function orderRowSummary(o: OrderRow): string {
  return `Order ${o.order_id}: ${o.side} ${o.quantity} ${o.symbol} ${o.order_type}, ${o.status}${o.fill ? ` at $${o.fill.price}` : ''}${o.rejections.length ? ` (${o.rejections.map((r) => r.code).join(', ')})` : ''}.`;
}
