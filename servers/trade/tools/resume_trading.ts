import { idSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { changeState } from '../../../shared/trading/state.js';
import { stateOutput } from './halt_trading.js';

export const resumeTradingTool = defineTool({
  name: 'resume_trading',
  title: 'Resume trading',
  description: 'Return a halted or reducing model to active. Needs approve.',
  scope: 'approve',
  input: { model_id: idSchema('model_id') },
  output: stateOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ model_id }, { deps, auth }) {
    const s = await changeState(deps, auth, model_id, 'active', null);
    return { data: s, summary: `Model ${model_id} is active again (was ${s.previous_state}).` };
  },
});
