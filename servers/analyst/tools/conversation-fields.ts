// The shape of a conversation turn on the wire, shared by save_conversation_turn and get_conversation.
import { z } from 'zod';

export const ROLES = ['user', 'assistant', 'tool'] as const;
/** UTF-8 bytes, so one turn always fits in a bounded result whatever the script. */
export const MAX_CONTENT_BYTES = 8_000;
export const MAX_TOOL_CALLS_BYTES = 4_096;

export const turnOutput = z.object({
  id: z.number(),
  model_id: z.number(),
  run_id: z.number().nullable(),
  role: z.enum(ROLES),
  content: z.string(),
  tool_calls: z.array(z.record(z.string(), z.unknown())).nullable(),
  tool_call_id: z.string().nullable(),
  created_at: z.string().describe('UTC'),
  written_by: z.string().nullable().describe('Prefix of the API key that wrote the turn (untrusted content); null if unrecorded'),
});
