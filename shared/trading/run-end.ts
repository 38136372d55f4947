// What hangs off the end of a run. The end itself belongs to the books
// (store/runs.ts completeRun: resting orders expired, the last equity point, final stats from
// the ledger, in the caller's transaction); after it commits, the threat history records what
// the run showed (detected_by 'run_end'). A failure of that analysis never undoes or blocks
// the end: it is logged with its cause and comes back as a note for the caller.
import type { Deps } from '../deps.js';
import { errorFields, logEvent } from '../log.js';
import { ToolError } from '../mcp/errors.js';
import { detectAndRecord } from '../store/threats.js';

/**
 * Records the ended run's threats (idempotent); returns the notes to show: [] when it
 * worked, else one sentence saying the run is ended and why its threats are not recorded.
 */
export async function afterRunEnd(deps: Deps, runId: number): Promise<string[]> {
  try {
    await detectAndRecord(deps.sql, deps.market, runId, 'run_end');
    return [];
  } catch (err) {
    // A ToolError is a sentence about the run's data; anything else is a bug someone must read.
    const known = err instanceof ToolError;
    logEvent('run_end_analysis_failed', { run_id: runId, ...errorFields(err, !known) });
    const why = known ? err.message : "an internal error (logged).";
    return [`Run ${runId} is ended and its final stats come from the ledger; its threats were not recorded at the end: ${why} detect_threats can record them once the data can be analysed.`];
  }
}
