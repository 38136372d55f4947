// Threat history: the facts the detectors and the risk score read (through the analyst's one
// run-facts loader), the idempotent record of detected events, and the filtered history read.
import type { Q, Tx } from '../db/database.js';
import { errorFields, logEvent } from '../log.js';
import { ToolError } from '../mcp/errors.js';
import type { Market } from '../market/market.js';
import { riskScore, type RiskScore } from '../domain/risk-score.js';
import { detectThreats, SEVERITIES, type Mark, type OrderFact, type Severity, type ThreatEvent, type ThreatFacts, type ThreatType } from '../domain/threats.js';
import { decodeCursor, toPage, type Page } from '../mcp/paging.js';
import { loadEquityCurve, loadRunActions, loadRunFills, runAsOf, runBooks } from './analyst.js';
import { runConcentration } from './concentration.js';
import { snapshotModel, snapshotRules } from './counterfactual.js';
import { loadActiveRules } from './rules.js';
import { getModelById, getOwnedModel, type Model } from './models.js';
import { iso, num } from './rows.js';
import { toRun, type RunRow } from './runs.js';

/** Every order attempt of the run (any status) in id order, priced by its fill, else its limit, else a stop entry's stop. */
export async function loadOrderFacts(sql: Q, runId: number): Promise<OrderFact[]> {
  const rows = await sql`
    select o.id, o.clock, o.side, o.symbol, o.quantity, o.status, o.source, o.rejections, coalesce(o.limit_price, o.stop_price) as limit_price, f.price as fill_price
    from orders o left join fills f on f.order_id = o.id
    where o.run_id = ${runId} order by o.id`;
  return rows.map((r) => ({
    order_id: r.id as number,
    clock: iso(r.clock)!,
    side: r.side,
    symbol: r.symbol,
    quantity: r.quantity,
    status: r.status,
    source: r.source,
    price: r.fill_price !== null && r.fill_price !== undefined ? num(r.fill_price) : r.limit_price !== null && r.limit_price !== undefined ? num(r.limit_price) : null,
    rejections: (r.rejections ?? []) as OrderFact['rejections'],
  }));
}

/** The run's open positions marked at the last price as of its clock (unpriced ones left out). */
async function loadMarks(sql: Q, market: Market, run: RunRow): Promise<Mark[]> {
  const rows = await sql`select symbol, quantity from positions where run_id = ${run.run_id} and quantity <> 0 order by symbol`;
  const out: Mark[] = [];
  for (const r of rows) {
    const q = await market.priceAt(r.symbol as string, runAsOf(run), sql);
    if (q) out.push({ symbol: r.symbol as string, quantity: r.quantity as number, price: q.price });
  }
  return out;
}

export interface RunThreatFacts extends ThreatFacts {
  model: Model;
}

/**
 * Everything the detectors and the risk score read for one run. A circuit breaker is the
 * model's halt reason when the model is halted by one and this is its newest run (the halt
 * stops this run's trading); `breaker` overrides that (the halt hook knows its own).
 */
export async function loadThreatFacts(sql: Q, market: Market, run: RunRow, breaker?: { reason: string; clock: string }): Promise<RunThreatFacts> {
  const model = await getModelById(sql, run.model_id);
  const [equity, fills, orders, marks] = [await loadEquityCurve(sql, run), await loadRunFills(sql, run.run_id), await loadOrderFacts(sql, run.run_id), await loadMarks(sql, market, run)];
  let halt = breaker ?? null;
  if (!halt && model.state === 'halted' && model.state_reason?.startsWith('Circuit breaker:')) {
    const [newest] = await sql`select max(id) as id from runs where model_id = ${run.model_id}`;
    if (newest?.id === run.run_id) halt = { reason: model.state_reason, clock: run.clock };
  }
  return {
    model,
    run_id: run.run_id,
    timespan: run.timespan,
    initial_cash: run.initial_cash,
    equity,
    fills,
    orders,
    round_trips: runBooks(run, fills, await loadRunActions(sql, run.run_id)).round_trips,
    marks,
    as_of: run.clock,
    concentration: await runConcentration(sql, market, run, fills),
    breaker: halt,
  };
}

/** Stores events not yet stored (by run and key); returns how many were new. */
export async function recordThreats(sql: Q, modelId: number, events: readonly ThreatEvent[], detectedBy: 'detect_threats' | 'run_end' | 'circuit_breaker'): Promise<number> {
  let added = 0;
  for (const e of events) {
    const rows = await sql`
      insert into threat_events (model_id, run_id, event_key, threat_type, severity, clock, message, evidence, recommendation, detected_by)
      values (${modelId}, ${e.run_id}, ${e.key}, ${e.type}, ${e.severity}, ${e.clock}, ${e.message}, ${e.evidence as any}, ${e.recommendation as any}, ${detectedBy})
      on conflict (run_id, event_key) do nothing returning id`;
    added += rows.length;
  }
  return added;
}

/**
 * Detects the run's threats and records the new ones: the one call the run-end and breaker
 * hooks make (inside their transaction, so the history commits with the change). Returns the
 * events found and how many were new.
 */
export async function detectAndRecord(
  sql: Q,
  market: Market,
  runId: number,
  detectedBy: 'detect_threats' | 'run_end' | 'circuit_breaker',
  breaker?: { reason: string; clock: string },
): Promise<{ events: ThreatEvent[]; added: number }> {
  const [row] = await sql`select * from runs where id = ${runId}`;
  const run = toRun(row!);
  const facts = await loadThreatFacts(sql, market, run, breaker);
  const events = detectThreats(facts);
  const added = await recordThreats(sql, run.model_id, events, detectedBy);
  return { events, added };
}

/**
 * The breaker hook: records the threats of the model's running run (if any) with the halt as
 * a circuit_breaker event at the run clock. Called inside the halting transaction, in a
 * savepoint: an analysis that fails is logged with its cause and rolled back alone, and the
 * halt stands (the books never wait on analytics).
 */
export async function recordBreakerThreats(tx: Tx, market: Market, modelId: number, reason: string): Promise<void> {
  const [run] = await tx`select id, clock from runs where model_id = ${modelId} and status = 'running'`;
  if (!run) return;
  try {
    await tx.savepoint((sp) => detectAndRecord(sp, market, run.id as number, 'circuit_breaker', { reason, clock: iso(run.clock)! }));
  } catch (err) {
    logEvent('breaker_analysis_failed', { run_id: run.id, model_id: modelId, ...errorFields(err, !(err instanceof ToolError)) });
  }
}

/**
 * The risk score of one run from the same facts the detectors read, judged against the rules
 * and order throttle frozen with the run once it has finished (the model's current ones while
 * it runs: a change made now applies to its next orders).
 */
export async function runRiskScore(sql: Q, market: Market, run: RunRow, loaded?: RunThreatFacts): Promise<RiskScore & { run_id: number; model_id: number; as_of: string }> {
  const facts = loaded ?? (await loadThreatFacts(sql, market, run));
  const finished = run.status !== 'running';
  const rules = finished ? snapshotRules(run.strategy_snapshot) : await loadActiveRules(sql, run.model_id);
  const score = riskScore({
    ...facts,
    max_orders_per_minute: finished ? snapshotModel(run.strategy_snapshot).max_orders_per_minute : facts.model.max_orders_per_minute,
    rules: rules.map((r) => ({ rule_category: r.ruleCategory, enforcement_params: r.enforcementParams })),
  });
  return { run_id: run.run_id, model_id: run.model_id, as_of: run.clock, ...score };
}

export interface StoredThreat {
  threat_id: number;
  model_id: number;
  run_id: number;
  type: ThreatType;
  severity: Severity;
  clock: string;
  message: string;
  evidence: ThreatEvent['evidence'];
  recommendation: ThreatEvent['recommendation'];
  detected_by: string;
  detected_at: string;
}

export interface ThreatFilter {
  model_id: number;
  run_id?: number;
  /** Events at or after this run-clock instant. */
  since?: string;
  type?: ThreatType;
  /** This severity or worse. */
  min_severity?: Severity;
  limit: number;
  cursor?: string;
}

/**
 * One page of the model's threat history in id (detection) order. The model must be the
 * caller's ("Model N was not found." otherwise).
 */
export async function listThreats(sql: Q, userId: number, f: ThreatFilter): Promise<Page<StoredThreat>> {
  await getOwnedModel(sql, userId, f.model_id);
  const after = decodeCursor(f.cursor, 'number') ?? 0;
  const severities = f.min_severity ? SEVERITIES.slice(SEVERITIES.indexOf(f.min_severity)) : SEVERITIES;
  const rows = await sql`
    select * from threat_events
    where model_id = ${f.model_id} and id > ${after}
      ${f.run_id !== undefined ? sql`and run_id = ${f.run_id}` : sql``}
      ${f.since !== undefined ? sql`and clock >= ${f.since}` : sql``}
      ${f.type !== undefined ? sql`and threat_type = ${f.type}` : sql``}
      and severity = any(${[...severities]}::text[])
    order by id limit ${f.limit + 1}`;
  const items = rows.map(
    (r): StoredThreat => ({
      threat_id: r.id,
      model_id: r.model_id,
      run_id: r.run_id,
      type: r.threat_type,
      severity: r.severity,
      clock: iso(r.clock)!,
      message: r.message,
      evidence: r.evidence,
      recommendation: r.recommendation,
      detected_by: r.detected_by,
      detected_at: iso(r.detected_at)!,
    }),
  );
  return toPage(items, { limit: f.limit, key: (t) => t.threat_id });
}

/** The threats (detected now, not stored: reading a report writes nothing) and the risk score of a run, for its report. */
export async function runThreatReport(sql: Q, market: Market, run: RunRow): Promise<{ events: ThreatEvent[]; risk: RiskScore }> {
  const facts = await loadThreatFacts(sql, market, run);
  return { events: detectThreats(facts), risk: await runRiskScore(sql, market, run, facts) };
}
