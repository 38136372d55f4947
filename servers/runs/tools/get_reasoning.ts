import { z } from 'zod';
import { idSchema, limitSchema } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { getOwnedRun, getReasoning } from '../../../shared/store/runs.js';
import { REASONING_TYPES } from './log_reasoning.js';

export const getReasoningTool = defineTool({
  name: 'get_reasoning',
  title: 'Get reasoning',
  description: "A run's reasoning entries in the order they were logged.",
  scope: 'read',
  input: { run_id: idSchema('run_id'), reasoning_type: z.enum(REASONING_TYPES).optional(), limit: limitSchema(100, 1000) },
  output: {
    entries: z.array(
      z.object({
        id: z.number(),
        reasoning_type: z.string(),
        content: z.string(),
        context: z.record(z.string(), z.unknown()).nullable(),
        clock: z.string(),
        created_at: z.string(),
      }),
    ),
  },
  annotations: READ_ONLY,
  async handler({ run_id, reasoning_type, limit }, { deps, auth }) {
    await getOwnedRun(deps.sql, auth.userId, run_id);
    const entries = await getReasoning(deps.sql, run_id, reasoning_type, limit);
    return {
      data: { entries },
      summary: entries.length
        ? `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} on run ${run_id}: ${entries.map((e) => `[${e.reasoning_type}] ${e.content.slice(0, 80)}`).join(' | ')}`
        : `Run ${run_id} has no reasoning${reasoning_type ? ` of type ${reasoning_type}` : ''} yet.`,
    };
  },
});
