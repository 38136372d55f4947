import { z } from 'zod';
import { idSchema, symbolSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { setExits } from '../../../shared/trading/exits.js';
import { fractionSchema, priceSchema } from './order-fields.js';

const level = z.object({ price: z.number(), distance: z.number(), distance_pct: z.number() });

/** A position's live exits, as set_exits and get_portfolio show them (shared/domain/exits.ts liveExits). */
export const liveExitsOutput = z
  .object({
    stop_loss: level.nullable(),
    take_profit: level.nullable().describe('The first target while it has not filled'),
    take_profit_2: level.nullable(),
    first_target_fraction: z.number().nullable(),
    first_target_filled: z.boolean(),
    breakeven_after_first_target: z.boolean(),
    trailing_stop: level.extend({ pct: z.number(), water_mark: z.number() }).nullable(),
  })
  .describe('Live exit levels; distance = level − price now (dollars), distance_pct = distance / price');

/** A price or null (removes the level); listed as type ["number", "null"], as zod lists an unbounded nullable number (a price's bounds are unlisted). */
const nullablePrice = (what: string) => priceSchema(what).nullable().optional().meta({ anyOf: undefined, type: ['number', 'null'] });

export const setExitsTool = defineTool({
  name: 'set_exits',
  title: 'Set exits',
  description:
    "Set, move or remove (null) a held position's exits (the stop on the losing side of the price now), fired at market; a refused change changes nothing.",
  scope: 'trade',
  input: {
    model_id: idSchema('model_id'),
    symbol: symbolSchema,
    stop_loss: nullablePrice('stop_loss').describe('Stop price, dollars'),
    take_profit: nullablePrice('take_profit').describe('First target, dollars'),
    take_profit_2: nullablePrice('take_profit_2').describe('Second target, dollars'),
    trailing_stop_pct: fractionSchema('trailing_stop_pct', 'the trail from the water mark')
      .nullable()
      .optional()
      .describe('Trail from the high (low if short), a fraction'),
  },
  output: {
    model_id: z.number(),
    run_id: z.number(),
    symbol: z.string(),
    quantity: z.number(),
    avg_cost: z.number(),
    price: z.number(),
    exits: liveExitsOutput,
    clock: z.string(),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, { deps, auth }) {
    const v = await setExits(deps, auth, args);
    const e = v.exits;
    const parts = [
      e.stop_loss && `stop $${e.stop_loss.price}`,
      e.take_profit && `target $${e.take_profit.price}`,
      e.take_profit_2 && `second target $${e.take_profit_2.price}`,
      e.trailing_stop && `trailing ${e.trailing_stop.pct * 100}% at $${e.trailing_stop.price}`,
    ].filter(Boolean);
    return { data: v, summary: `${v.symbol} ${v.quantity} @ $${v.price}: exits now ${parts.length ? parts.join(', ') : 'none'}.` };
  },
});
