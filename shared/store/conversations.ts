// Conversations: a system agent's chat turns about a model, optionally about one of its runs.
import type { Q } from '../db/database.js';
import { ToolError } from '../mcp/errors.js';
import { getOwnedModel } from './models.js';
import { iso } from './rows.js';
import { getOwnedRun } from './runs.js';

export type Role = 'user' | 'assistant' | 'tool';

export interface Turn {
  id: number;
  model_id: number;
  run_id: number | null;
  role: Role;
  content: string;
  tool_calls: Record<string, unknown>[] | null;
  tool_call_id: string | null;
  created_at: string;
}

export interface NewTurn {
  role: Role;
  content: string;
  tool_calls?: Record<string, unknown>[];
  tool_call_id?: string;
}

/**
 * Checks that the model (and the run, when given) are the caller's and the run is the
 * model's. Raises "Model N was not found." / "Run N was not found." for a missing or another
 * user's, and a sentence when the run belongs to another of the caller's models.
 */
export async function ownConversation(sql: Q, userId: number, modelId: number, runId: number | undefined): Promise<void> {
  await getOwnedModel(sql, userId, modelId);
  if (runId === undefined) return;
  const run = await getOwnedRun(sql, userId, runId);
  if (run.model_id !== modelId) {
    throw new ToolError('RUN_OF_OTHER_MODEL', `Run ${runId} is a run of model ${run.model_id}, not of model ${modelId}.`);
  }
}

export async function saveTurn(sql: Q, modelId: number, runId: number | undefined, turn: NewTurn): Promise<Turn> {
  const [row] = await sql`
    insert into conversation_turns (model_id, run_id, role, content, tool_calls, tool_call_id)
    values (${modelId}, ${runId ?? null}, ${turn.role}, ${turn.content}, ${(turn.tool_calls ?? null) as any}, ${turn.tool_call_id ?? null})
    returning *`;
  return toTurn(row!);
}

/**
 * The newest `limit` turns with an id below `beforeId` (all when omitted), returned oldest
 * first, and whether older turns remain. Without runId: every turn about the model, its runs'
 * included; with runId: that run's turns only.
 */
export async function listTurns(sql: Q, modelId: number, runId: number | undefined, limit: number, beforeId?: number): Promise<{ turns: Turn[]; older: boolean }> {
  const rows = await sql`
    select * from conversation_turns
    where model_id = ${modelId}
      ${runId !== undefined ? sql`and run_id = ${runId}` : sql``}
      ${beforeId !== undefined ? sql`and id < ${beforeId}` : sql``}
    order by id desc
    limit ${limit + 1}`;
  const older = rows.length > limit;
  return { turns: rows.slice(0, limit).reverse().map(toTurn), older };
}

function toTurn(r: Record<string, any>): Turn {
  return {
    id: r.id,
    model_id: r.model_id,
    run_id: r.run_id ?? null,
    role: r.role,
    content: r.content,
    tool_calls: r.tool_calls ?? null,
    tool_call_id: r.tool_call_id ?? null,
    created_at: iso(r.created_at)!,
  };
}
