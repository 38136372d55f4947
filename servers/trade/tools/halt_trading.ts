import { z } from 'zod';
import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { changeState } from '../../../shared/trading/state.js';

export const stateOutput = { model_id: z.number(), state: z.string(), previous_state: z.string(), reason: z.string().nullable(), locked: z.boolean() };

export const haltTradingTool = defineTool({
  name: 'halt_trading',
  title: 'Halt trading',
  description: "Stop a model's trading: halted refuses every order, reducing allows only orders that shrink exposure. A halt by an approve key can only be lifted by an approve key.",
  scope: 'trade',
  input: {
    model_id: idSchema('model_id'),
    reason: z.string().trim().min(1, { error: 'reason must not be empty.' }).max(2000),
    mode: z.enum(['halted', 'reducing']).default('halted'),
  },
  output: stateOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ model_id, reason, mode }, { deps, auth }) {
    const s = await changeState(deps, auth, model_id, mode, reason);
    return { data: s, summary: `Model ${model_id} is now ${s.state} (was ${s.previous_state}): ${reason}${s.locked ? ' Only an approve key can lift it.' : ''}` };
  },
});
