import { z } from 'zod';
import { ToolError } from '../../../shared/mcp/errors.js';
import { idSchema, unlisted } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { getOwnedRun, logReasoning } from '../../../shared/store/runs.js';

export const REASONING_TYPES = ['plan', 'analysis', 'decision', 'reflection'] as const;
const MAX_CONTEXT_BYTES = 64 * 1024;

export const logReasoningTool = defineTool({
  name: 'log_reasoning',
  title: 'Log reasoning',
  description: "Record the agent's reasoning in a run's audit trail, stamped with the run clock.",
  scope: 'trade',
  input: {
    run_id: idSchema('run_id'),
    reasoning_type: z.enum(REASONING_TYPES).describe('What kind of reasoning this entry is'),
    content: z
      .string()
      .trim()
      .min(1, { error: 'content must not be empty.' })
      .max(50_000, { error: 'content must be at most 50,000 characters.' })
      .meta(unlisted('minLength', 'maxLength'))
      .describe('The reasoning text, stored as written (≤ 50,000 characters)'),
    context: z.record(z.string(), z.unknown()).optional().describe('Any JSON object (≤ 64 KB)'),
  },
  output: { id: z.number(), run_id: z.number(), clock: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler({ run_id, reasoning_type, content, context }, { deps, auth }) {
    if (context && Buffer.byteLength(JSON.stringify(context)) > MAX_CONTEXT_BYTES) {
      throw new ToolError('TOO_LARGE', 'context must be at most 64 KB of JSON.');
    }
    const run = await getOwnedRun(deps.sql, auth.userId, run_id);
    const clock = new Date(run.clock);
    const id = await logReasoning(deps.sql, run_id, reasoning_type, content, context, clock, auth.keyPrefix);
    return { data: { id, run_id, clock: clock.toISOString() }, summary: `Logged ${reasoning_type} ${id} on run ${run_id} at ${clock.toISOString()}.` };
  },
});
