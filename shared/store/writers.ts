// Which API keys wrote the stored text a run's round trips quote (issue 19 item 10): the
// orders' reasoning and the run's decision entries, named to the reader as untrusted content.
import type { Q } from '../db/database.js';

/** Key prefixes (null: unrecorded) that wrote an order's reasoning or a decision entry of the runs. */
export async function reasoningWriters(sql: Q, runIds: readonly number[]): Promise<(string | null)[]> {
  if (!runIds.length) return [];
  const rows = await sql`
    select key_prefix from orders where run_id = any(${runIds as number[]}) and reasoning is not null
    union
    select key_prefix from reasoning_log where run_id = any(${runIds as number[]}) and reasoning_type = 'decision'`;
  return rows.map((r) => r.key_prefix as string | null);
}
