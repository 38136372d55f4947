import { z } from 'zod';
import { SIMULATED_FIRST_DATE } from '../../../shared/domain/simulated-market.js';
import { ToolError } from '../../../shared/mcp/errors.js';
import { symbolSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { unknownSymbol } from '../../../shared/market/market.js';
import { formatPrice } from '../../../shared/domain/money.js';
import { asOfInput, asOfOutput, barOutput, resolveAsOf } from './as-of.js';

export const getPriceTool = defineTool({
  name: 'get_price',
  title: 'Get price',
  description:
    "The price at 'now' (a run's clock, `at`, or the wall clock): the open of the bar starting then; between bar starts the latest trade known (the open of the latest bar started, when none closed since, else the latest close); after the close and on closed days the official daily close. Unadjusted (dividends never adjust it). With the last completed bar and the source. Never later data.",
  scope: 'read',
  input: { symbol: symbolSchema, ...asOfInput },
  output: {
    symbol: z.string(),
    price: z.number(),
    time: z.string().describe("'now', the instant priced"),
    price_basis: z.enum(['open_at_clock', 'latest_open', 'last_close', 'daily_close']),
    bar: z.object({ t: z.string(), timespan: z.string() }).describe('The bar the price comes from'),
    last_bar: barOutput.extend({ timespan: z.string() }).nullable().describe('The latest bar closed at time'),
    source: z.enum(['polygon', 'imported', 'simulated']),
    ...asOfOutput,
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, { deps, auth }) {
    const { now, runId } = await resolveAsOf(deps, auth, args);
    const q = await deps.market.quoteAt(args.symbol, now);
    if (!q) {
      if (!(await deps.market.isKnown(args.symbol))) throw unknownSymbol(args.symbol);
      const simulated = (await deps.market.sourceOf(args.symbol)) === 'simulated';
      const range = simulated ? ` The simulated market serves ${SIMULATED_FIRST_DATE} to today.` : '';
      throw new ToolError('NO_PRICE', `No bar of ${args.symbol} has started by ${now.toISOString()}, so it has no price yet.${range}`);
    }
    const lb = q.lastBar;
    const data = {
      symbol: q.symbol,
      price: q.price,
      time: q.time,
      price_basis: q.basis,
      bar: q.bar,
      last_bar: lb ? { t: lb.t, o: lb.o, h: lb.h!, l: lb.l!, c: lb.c!, v: lb.v, timespan: lb.timespan } : null,
      source: q.source,
      as_of: q.time,
      run_id: runId,
    };
    const basis = {
      open_at_clock: `the open of the ${q.bar.timespan} bar starting then`,
      latest_open: `the open of the ${q.bar.timespan} bar of ${q.bar.t} (no bar has closed since)`,
      last_close: `the close of the ${q.bar.timespan} bar of ${q.bar.t} (no bar starts then)`,
      daily_close: `the official close of ${q.bar.t.slice(0, 10)} (market closed)`,
    }[q.basis];
    return {
      data,
      summary: `${q.symbol} at ${q.time}: ${formatPrice(q.price)}, ${basis}; source ${q.source}.${lb ? ` Last completed ${lb.timespan} bar ${lb.t}: O ${lb.o} H ${lb.h} L ${lb.l} C ${lb.c}.` : ''}`,
    };
  },
});
