import { z } from 'zod';
import { detectThreats, SEVERITIES, THREAT_TYPES, type ThreatEvent } from '../../../shared/domain/threats.js';
import { notFound } from '../../../shared/mcp/errors.js';
import { clip, pageInput, pageOutput } from '../../../shared/mcp/paging.js';
import { idSchema, timeSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { getOwnedModel } from '../../../shared/store/models.js';
import { getOwnedRun, toRun, type RunRow } from '../../../shared/store/runs.js';
import { listThreats, loadThreatFacts, recordThreats } from '../../../shared/store/threats.js';
import { jobDeps, offload } from '../../../shared/workers/offload.js';
import type { JobContext } from '../../../shared/workers/pool.js';
import { threatOutput, THRESHOLD_TEXT } from './threat-fields.js';

const MAX_RUNS = 10;

export const detectThreatsTool = defineTool({
  name: 'detect_threats',
  title: 'Detect threats',
  description:
    "Finds risky behaviour (see type) in a run or the model's newest runs, stores new events in the threat history (idempotent; also stored when a run ends or a breaker halts) and lists it, oldest first, with severity, run-clock time (UTC), evidence and a recommended create_rule payload.",
  scope: 'read',
  input: {
    model_id: idSchema('model_id'),
    run_id: idSchema('run_id').optional().describe('Only this run (detect and list)'),
    since: timeSchema.optional().describe('Only events from this run-clock time (UTC) on'),
    type: z.enum(THREAT_TYPES).optional().describe('Only this threat type'),
    severity: z.enum(SEVERITIES).optional().describe('Only this severity or worse'),
    ...pageInput(20, 100),
  },
  output: {
    model_id: z.number(),
    runs_checked: z.array(z.number()).describe('Runs detection ran on (none when continuing with a cursor)'),
    new_events: z.number().describe('Events stored by this call'),
    events: z.array(threatOutput).describe(`Severity thresholds low/medium/high/critical: ${THRESHOLD_TEXT}`),
    ...pageOutput,
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ model_id, run_id, since, type, severity, limit, cursor }, ctx) {
    const { deps, auth } = ctx;
    await getOwnedModel(deps.sql, auth.userId, model_id);
    const sinceIso = since === undefined ? undefined : new Date(since).toISOString();
    let runs: RunRow[] = [];
    if (run_id !== undefined) {
      const run = await getOwnedRun(deps.sql, auth.userId, run_id);
      if (run.model_id !== model_id) throw notFound('Run', run_id);
      runs = [run];
    } else if (!cursor) {
      const rows = await deps.sql`
        select * from runs where model_id = ${model_id} ${sinceIso ? deps.sql`and clock >= ${sinceIso}` : deps.sql``}
        order by id desc limit ${MAX_RUNS}`;
      runs = rows.map((r) => toRun(r));
    }
    let added = 0;
    // a continued page lists what the first page detected
    if (!cursor && runs.length) {
      // detected in a worker thread, off the loop that serves orders; recorded here
      const found = await offload<ThreatEvent[][]>(ctx, import.meta.url, 'detectJob', { runs });
      for (const [i, events] of found.entries()) added += await recordThreats(deps.sql, runs[i]!.model_id, events, 'detect_threats');
    }
    const page = await listThreats(deps.sql, auth.userId, { model_id, run_id, since: sinceIso, type, min_severity: severity, limit, cursor });
    const counts = new Map<string, number>();
    for (const e of page.items) counts.set(`${e.severity} ${e.type}`, (counts.get(`${e.severity} ${e.type}`) ?? 0) + 1);
    const worst = [...page.items].sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity))[0];
    const summary = page.items.length
      ? `${page.items.length} threat event(s) for model ${model_id}${page.truncated ? ' on this page (more follow)' : ''}, ${added} new: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}. Worst: ${worst!.message} Recommendation: ${worst!.recommendation.text}`
      : `No threat events for model ${model_id} with these filters (${runs.length} run(s) checked).`;
    return {
      data: { model_id, runs_checked: cursor ? [] : runs.map((r) => r.run_id), new_events: added, events: page.items, truncated: page.truncated, next_cursor: page.next_cursor },
      summary: clip(summary, 1500),
    };
  },
});

/** Worker job: each run's threat events as detected now (store/threats.ts loadThreatFacts, domain detectThreats). */
export async function detectJob(input: { runs: RunRow[] }, ctx: JobContext): Promise<ThreatEvent[][]> {
  const deps = jobDeps(ctx);
  const out: ThreatEvent[][] = [];
  for (const run of input.runs) out.push(detectThreats(await loadThreatFacts(deps.sql, deps.market, run)));
  return out;
}
