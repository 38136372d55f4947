import type { ServerSpec } from '../../shared/mcp/server-spec.js';
import { advanceRunTool } from './tools/advance_run.js';
import { createModelTool } from './tools/create_model.js';
import { endRunTool } from './tools/end_run.js';
import { getModelTool } from './tools/get_model.js';
import { getReasoningTool } from './tools/get_reasoning.js';
import { getRunTool } from './tools/get_run.js';
import { listModelsTool } from './tools/list_models.js';
import { listRunsTool } from './tools/list_runs.js';
import { logReasoningTool } from './tools/log_reasoning.js';
import { startRunTool } from './tools/start_run.js';
import { updateModelTool } from './tools/update_model.js';

export const runsServer: ServerSpec = {
  name: 'runs',
  instructions:
    'AIBT runs server: models (strategies with their own money), runs (replay or live) with a clock, and the reasoning audit trail. Times are UTC ISO-8601.',
  tools: [
    createModelTool,
    listModelsTool,
    getModelTool,
    updateModelTool,
    startRunTool,
    advanceRunTool,
    endRunTool,
    listRunsTool,
    getRunTool,
    logReasoningTool,
    getReasoningTool,
  ],
};
