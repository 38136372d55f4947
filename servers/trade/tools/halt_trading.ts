import { z } from 'zod';
import { idSchema, unlisted } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { closePositions } from '../../../shared/trading/orders.js';
import { changeState } from '../../../shared/trading/state.js';
import { closingOrdersOutput, closingSummary } from './close_position.js';

export const stateOutput = { model_id: z.number(), state: z.string(), previous_state: z.string(), reason: z.string().nullable(), locked: z.boolean() };

export const haltTradingTool = defineTool({
  name: 'halt_trading',
  title: 'Halt trading',
  description:
    "Stop a model's trading (see mode). Without approve a key only tightens; only an approve key lifts a state an approve key or breaker set.",
  // the agent halts itself (trade); a supervisor halts an agent (approve)
  scope: ['trade', 'approve'],
  input: {
    model_id: idSchema('model_id'),
    reason: z
      .string()
      .trim()
      .min(1, { error: 'reason must not be empty.' })
      .max(2000)
      .meta(unlisted('minLength', 'maxLength'))
      .describe('Why; shown in the status'),
    mode: z.enum(['halted', 'reducing']).default('halted').describe('halted: no orders; reducing: exposure cuts only'),
    flatten: z.boolean().default(false).describe('Then close every position at market'),
  },
  output: { ...stateOutput, closing_orders: closingOrdersOutput.optional().describe('With flatten: the orders that closed each position') },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ model_id, reason, mode, flatten }, { deps, auth }) {
    const s = await changeState(deps, auth, model_id, mode, reason);
    const kept = s.reason !== reason; // a locked state of the same mode keeps its own reason
    const head = kept ? `Model ${model_id} stays ${s.state}` : `Model ${model_id} is now ${s.state} (was ${s.previous_state})`;
    const summary = `${head}: ${s.reason}${s.locked ? ' Only an approve key can lift it.' : ''}`;
    if (!flatten) return { data: s, summary };
    // Halt first, then close: no new order of the agent can slip in between.
    const closing_orders = await closePositions(deps, auth, { model_id, all: true, reasoning: `halt_trading flatten: ${reason}` });
    return { data: { ...s, closing_orders }, summary: `${summary} Flatten: ${closingSummary(closing_orders)}` };
  },
});
