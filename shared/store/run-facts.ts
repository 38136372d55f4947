// The key facts of a run that the report resource and the analyst prompts hand to an agent:
// its header, the metrics and FIFO round trips of the analyst's one loader
// (shared/store/analyst.ts), and the orders its rules and gates refused, grouped by rule.
import type { Q } from '../db/database.js';
import type { Deps } from '../deps.js';
import { nyLocal } from '../domain/ny-time.js';
import { tradeFindings } from '../domain/round-trips.js';
import { loadEquityCurve, loadRunActions, loadRunFills, runMetrics, runRoundTrips, type AnalyzedRoundTrip, type MarkedOpenLot, type RunMetrics } from './analyst.js';
import { getOwnedRun, type RunRow } from './runs.js';
import { deciderKey, ruleTextWriters } from './writers.js';

export interface RejectionGroup {
  /** "rule" (a rule of the model) or "gate" (a built-in check: cash, market hours…) */
  source: string;
  /** the rule's name, or the gate's code */
  name: string;
  code: string;
  /** refused orders that carried this rejection */
  orders: number;
  /** the message of the latest one */
  example: string;
  /** a rule's ids (as the refusals recorded them): a name re-created under another id lists both */
  rule_ids: string[];
  /** stored text in the name and example (a rule's name, an approver's note): quoted wherever shown */
  stored: string[];
  /** the key that wrote an approver's note in the example (null: none) */
  note_by: string | null;
}

export interface RunFacts {
  run: RunRow;
  model_name: string;
  metrics: RunMetrics;
  round_trips: AnalyzedRoundTrip[];
  open_lots: MarkedOpenLot[];
  findings: string[];
  rejections: RejectionGroup[];
  rejected_orders: number;
  /** the keys that wrote the groups' stored text: rule names, approvers' notes (untrusted; null: not recorded) */
  rejection_writers: (string | null)[];
}

/**
 * Everything a report or prompt says about the caller's run, read once. MAE/MFE are skipped
 * (no bar reads): the report does not show them. Raises "Run N was not found." for a missing
 * run or another user's.
 */
export async function loadRunFacts(deps: Deps, userId: number, runId: number): Promise<RunFacts> {
  const run = await getOwnedRun(deps.sql, userId, runId);
  const [model] = await deps.sql`select name from models where id = ${run.model_id}`;
  const [points, fills, actions] = [await loadEquityCurve(deps.sql, run), await loadRunFills(deps.sql, runId), await loadRunActions(deps.sql, runId)];
  const metrics = await runMetrics(deps, run, { points, fills, actions });
  const trips = await runRoundTrips(deps, run, { fills, actions, withExcursions: false });
  const findings = tradeFindings(trips.round_trips.map((t) => ({ ...t, entry_minutes: nyLocal(new Date(t.entry_time)).minutes })));
  const { groups, orders } = await rejectionsByRule(deps.sql, runId);
  // a refusal recorded without its rule's id still names a writer: none recorded
  const named = groups.flatMap((g) => (g.source === 'rule' ? (g.rule_ids.length ? g.rule_ids : ['']).map((rule_id) => ({ rule_id, rule_name: g.name })) : []));
  return {
    run,
    model_name: model!.name as string,
    metrics,
    round_trips: trips.round_trips,
    open_lots: trips.open_lots,
    findings,
    rejections: groups,
    rejected_orders: orders,
    rejection_writers: [
      ...(named.length ? await ruleTextWriters(deps.sql, [run.model_id], named) : []),
      ...groups.flatMap((g) => (g.source !== 'rule' && g.stored.length ? [g.note_by] : [])),
    ],
  };
}

/** The run's refused orders grouped by the rule (or gate) that refused them, most first. */
export async function rejectionsByRule(sql: Q, runId: number): Promise<{ groups: RejectionGroup[]; orders: number }> {
  const rows = await sql`
    select r->>'source' as source, coalesce(r->>'rule_name', r->>'code') as name, r->>'code' as code,
           count(distinct o.id)::int as orders,
           (array_agg(r->>'message' order by o.id desc))[1] as example,
           coalesce(array_agg(distinct r->>'rule_id') filter (where r->>'rule_id' is not null), '{}') as rule_ids,
           (array_agg(o.decision_note order by o.id desc))[1] as note, (array_agg(o.decided_by order by o.id desc))[1] as decided_by
    from orders o, jsonb_array_elements(o.rejections) r
    where o.run_id = ${runId} and o.status = 'rejected'
    group by 1, 2, 3
    order by 4 desc, 2`;
  const [{ n }] = (await sql`select count(*)::int as n from orders where run_id = ${runId} and status = 'rejected'`) as any;
  return {
    groups: rows.map((r) => {
      // an approver's refusal quotes the approver's note in its message
      const note = r.code === 'REJECTED_BY_APPROVER' && r.note ? (r.note as string) : null;
      return {
        source: r.source as string,
        name: r.name as string,
        code: r.code as string,
        orders: r.orders as number,
        example: r.example as string,
        rule_ids: r.rule_ids as string[],
        stored: r.source === 'rule' ? [r.name as string] : note ? [note] : [],
        note_by: note ? deciderKey(r.decided_by) : null,
      };
    }),
    orders: n as number,
  };
}
