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
  /** The API key (prefix) that wrote the turn; null before migration 019. */
  written_by: string | null;
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

/** `keyPrefix`: the API key that wrote the turn (its readers are told whose text it is). */
export async function saveTurn(sql: Q, modelId: number, runId: number | undefined, turn: NewTurn, keyPrefix: string | null = null): Promise<Turn> {
  const [row] = await sql`
    insert into conversation_turns (model_id, run_id, role, content, tool_calls, tool_call_id, key_prefix)
    values (${modelId}, ${runId ?? null}, ${turn.role}, ${turn.content}, ${(turn.tool_calls ?? null) as any}, ${turn.tool_call_id ?? null}, ${keyPrefix})
    returning *`;
  return toTurn(row!);
}

/**
 * Up to `limit` turns in id order: after `afterId` (from the first turn when omitted), or with
 * `latest` the newest ones. Without runId: every turn about the model, its runs' included;
 * with runId: that run's turns only.
 */
export async function listTurns(sql: Q, modelId: number, runId: number | undefined, opts: { limit: number; afterId?: number; latest?: boolean }): Promise<Turn[]> {
  const rows = await sql`
    select * from conversation_turns
    where model_id = ${modelId}
      ${runId !== undefined ? sql`and run_id = ${runId}` : sql``}
      ${opts.afterId !== undefined ? sql`and id > ${opts.afterId}` : sql``}
    order by id ${opts.latest ? sql`desc` : sql`asc`}
    limit ${opts.limit}`;
  const turns = rows.map(toTurn);
  return opts.latest ? turns.reverse() : turns;
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
    written_by: r.key_prefix ?? null,
  };
}
