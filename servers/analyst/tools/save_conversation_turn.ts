import { z } from 'zod';
import { ToolError } from '../../../shared/mcp/errors.js';
import { idSchema, unlisted } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { ownConversation, saveTurn } from '../../../shared/store/conversations.js';
import { MAX_CONTENT_BYTES, MAX_TOOL_CALLS_BYTES, ROLES, turnOutput } from './conversation-fields.js';

// control characters other than tab, newline and carriage return
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

export const saveConversationTurnTool = defineTool({
  name: 'save_conversation_turn',
  title: 'Save conversation turn',
  description: 'Append one turn to the chat about a model, or about one of its runs (run_id). An oversized turn is refused; nothing is written.',
  scope: 'trade',
  input: {
    model_id: idSchema('model_id'),
    run_id: idSchema('run_id').optional().describe('The run this turn is about (omit: model-wide)'),
    role: z.enum(ROLES, { error: `role must be one of ${ROLES.join(', ')}.` }).describe('Who spoke this turn'),
    content: z
      .string({ error: 'content must be a string.' })
      .refine((s) => Buffer.byteLength(s) <= MAX_CONTENT_BYTES, { error: `content must be at most ${MAX_CONTENT_BYTES.toLocaleString('en-US')} bytes of UTF-8 text.` })
      .refine((s) => !CONTROL.test(s), { error: 'content must not contain NUL or control characters (newline and tab are fine).' })
      .describe(`The turn's text (≤ ${MAX_CONTENT_BYTES} bytes; may be empty when tool_calls is given)`),
    tool_calls: z
      .array(z.record(z.string(), z.unknown()), { error: 'tool_calls must be a list of JSON objects.' })
      .max(32, { error: 'tool_calls can hold at most 32 calls.' })
      .optional()
      .describe(`An assistant turn's tool calls, JSON objects such as {id, name, arguments} (≤ ${MAX_TOOL_CALLS_BYTES} bytes)`),
    tool_call_id: z
      .string({ error: 'tool_call_id must be a string.' })
      .min(1, { error: 'tool_call_id must not be empty.' })
      .max(200, { error: 'tool_call_id must be at most 200 characters.' })
      .refine((s) => !CONTROL.test(s), { error: 'tool_call_id must not contain control characters.' })
      .meta(unlisted('minLength', 'maxLength'))
      .optional()
      .describe('On a tool turn: the id of the call it answers'),
  },
  output: { turn: turnOutput },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler({ model_id, run_id, role, content, tool_calls, tool_call_id }, { deps, auth }) {
    if (tool_calls && Buffer.byteLength(JSON.stringify(tool_calls)) > MAX_TOOL_CALLS_BYTES) {
      throw new ToolError('TOO_LARGE', `tool_calls must be at most ${MAX_TOOL_CALLS_BYTES.toLocaleString('en-US')} bytes of JSON; nothing was saved.`);
    }
    if (!content.trim() && !tool_calls?.length) {
      throw new ToolError('EMPTY_TURN', 'content must not be empty unless the turn carries tool_calls; nothing was saved.');
    }
    await ownConversation(deps.sql, auth.userId, model_id, run_id);
    const turn = await saveTurn(deps.sql, model_id, run_id, { role, content, tool_calls, tool_call_id }, auth.keyPrefix);
    const about = run_id === undefined ? `model ${model_id}` : `run ${run_id} of model ${model_id}`;
    return {
      data: { turn },
      summary: `Saved ${role} turn ${turn.id} in the conversation about ${about} (${Buffer.byteLength(content)} bytes${tool_calls?.length ? `, ${tool_calls.length} tool call(s)` : ''}).`,
    };
  },
});
