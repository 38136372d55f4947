import { z } from 'zod';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { portfolioView } from '../../../shared/trading/portfolio.js';
import { liveExitsOutput } from './set_exits.js';

export const getPortfolioTool = defineTool({
  name: 'get_portfolio',
  title: 'Get portfolio',
  description:
    "Cash, positions at the clock's prices, P&L, exits and Reg T margin, in dollars, of run_id or model_id's running (else latest) run. Negative cash is a debit (halts: margin_call).",
  scope: 'read',
  input: { model_id: idSchema('model_id').optional(), run_id: idSchema('run_id').optional() },
  output: {
    model_id: z.number(),
    run_id: z.number().nullable(),
    cash: z.number(),
    long_market_value: z.number(),
    short_market_value: z.number(),
    equity: z.number().describe('cash + long_market_value − short_market_value'),
    buying_power: z.number().describe('cash − margin_used'),
    margin_used: z.number().describe('Reg T style: short_market_value × (1 + short_margin_pct)'),
    debit: z.number().describe('Negative cash as a positive amount; 0 when none'),
    positions: z.array(
      z.object({
        symbol: z.string(),
        quantity: z.number(),
        avg_cost: z.number(),
        price: z.number(),
        market_value: z.number(),
        unrealized_pnl: z.number(),
        weight: z.number(),
        exits: liveExitsOutput.optional().describe('Live exit levels (absent: none attached)'),
      }),
    ),
    total_value: z.number(),
    realized_pnl: z.number(),
    unrealized_pnl: z.number(),
    day_pnl: z.number().describe('Since the previous close'),
    as_of: z.string(),
    state: z.string(),
  },
  annotations: READ_ONLY,
  async handler(args, { deps, auth }) {
    const p = await portfolioView(deps, auth, args);
    const lines = p.positions.map((x) => `${x.quantity} ${x.symbol} @ $${x.price} (${(x.weight * 100).toFixed(1)}%)`);
    return {
      data: p,
      summary: `Portfolio of model ${p.model_id}${p.run_id ? ` run ${p.run_id}` : ''} at ${p.as_of}: cash $${p.cash.toFixed(2)}${p.debit > 0 ? ` (a DEBIT of $${p.debit.toFixed(2)})` : ''}, buying power $${p.buying_power.toFixed(2)}, ${lines.length ? lines.join(', ') : 'no positions'}; total $${p.total_value.toFixed(2)}, realized $${p.realized_pnl.toFixed(2)}, day P&L $${p.day_pnl.toFixed(2)}; state ${p.state}.`,
    };
  },
});
