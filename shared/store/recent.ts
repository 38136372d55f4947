// The caller's newest runs and models: what resources/list shows and completion offers.
import type { Q } from '../db/database.js';
import { iso } from './rows.js';

export interface RecentRun {
  run_id: number;
  run_number: number;
  model_id: number;
  model_name: string;
  kind: string;
  status: string;
  started_at: string;
}

/** The caller's runs, newest first; with `idPrefix`, only ids whose digits start with it. */
export async function recentRuns(sql: Q, userId: number, limit: number, idPrefix = ''): Promise<RecentRun[]> {
  const rows = await sql`
    select r.id, r.run_number, r.model_id, m.name, r.kind, r.status, r.started_at
    from runs r join models m on m.id = r.model_id
    where m.user_id = ${userId} ${idPrefix ? sql`and r.id::text like ${`${idPrefix}%`}` : sql``}
    order by r.id desc limit ${limit}`;
  return rows.map((r) => ({
    run_id: r.id as number,
    run_number: r.run_number as number,
    model_id: r.model_id as number,
    model_name: r.name as string,
    kind: r.kind as string,
    status: r.status as string,
    started_at: iso(r.started_at)!,
  }));
}

/** The caller's model ids, newest first; with `idPrefix`, only ids whose digits start with it. */
export async function recentModelIds(sql: Q, userId: number, limit: number, idPrefix = ''): Promise<number[]> {
  const rows = await sql`
    select id from models where user_id = ${userId} ${idPrefix ? sql`and id::text like ${`${idPrefix}%`}` : sql``}
    order by id desc limit ${limit}`;
  return rows.map((r) => r.id as number);
}

/** A model's newest run ids (by run number), newest first. */
export async function newestRunIdsOfModel(sql: Q, modelId: number, limit: number): Promise<number[]> {
  const rows = await sql`select id from runs where model_id = ${modelId} order by run_number desc limit ${limit}`;
  return rows.map((r) => r.id as number);
}
