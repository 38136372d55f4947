import { z } from 'zod';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { tradingStatus } from '../../../shared/trading/portfolio.js';

export const getTradingStatusTool = defineTool({
  name: 'get_trading_status',
  title: 'Get trading status',
  description: "A model's state and why, trades today, day P&L, daily loss limit left, pending approvals.",
  scope: 'read',
  input: { model_id: idSchema('model_id') },
  output: {
    model_id: z.number(),
    state: z.string(),
    reason: z.string().nullable(),
    run_id: z.number().nullable(),
    trades_today: z.number(),
    day_pnl: z.number(),
    loss_limit_left: z.number().nullable(),
    loss_limit_text: z.string(),
    pending_approvals: z.number(),
    loss_streak: z.number().describe('Losing round trips in a row in the run'),
    cooldown_until: z.string().nullable().describe('Run clock at which a loss-streak cooldown ends, when one is on'),
    as_of: z.string(),
  },
  annotations: READ_ONLY,
  async handler({ model_id }, { deps, auth }) {
    const s = await tradingStatus(deps, auth, model_id);
    return {
      data: s,
      summary: `Model ${model_id} is ${s.state}${s.reason ? ` (${s.reason})` : ''}; ${s.trades_today} trade(s) today, day P&L $${s.day_pnl.toFixed(2)}, ${s.loss_limit_left === null ? s.loss_limit_text : `$${s.loss_limit_left.toFixed(2)} left of the ${s.loss_limit_text}`}, ${s.pending_approvals} pending approval(s)${s.cooldown_until ? `; ${s.loss_streak} losing round trips in a row: no new risk until ${s.cooldown_until} (run clock)` : ''}.`,
    };
  },
});
