// The facts of a run the analyst explains (equity curve, fills with their orders, decision
// reasoning, snapshot) and the analyses built from them: metrics and FIFO round trips.
// Every analyst tool, the report resource, the prompts and part 2 (threats, suggestions)
// read runs through these functions, so they all agree on one set of numbers.
import os from 'node:os';
import type { Q } from '../db/database.js';
import { logEvent } from '../log.js';
import type { Deps } from '../deps.js';
import { barEnd } from '../domain/calendar.js';
import {
  benchmarkStats,
  curveMetricsOf,
  equityColumns,
  exposureOf,
  pickColumns,
  returnSeriesIndex,
  simpleReturns,
  type ReturnsBasis,
  tradeStats,
  type BenchmarkStats,
  type CurveMetrics,
  type EquityColumns,
  type EquityPoint,
  type TradeStats,
} from '../domain/metrics.js';
import { nyLocal } from '../domain/ny-time.js';
import {
  BarRange,
  excursion,
  exitCause,
  fifoRoundTrips,
  fillNotionalCents,
  openLotPnlCents,
  RoundTripError,
  type Excursion,
  type ExitCause,
  type LotAction,
  type OpenLot,
  type RoundTrip,
  type TradeFill,
} from '../domain/round-trips.js';
import { effectiveAt } from '../domain/corporate-actions.js';
import type { PriceSource, Side, Timespan } from '../domain/types.js';
import { stepTimespan } from '../market/finest-timespan.js';
import { ToolError } from '../mcp/errors.js';
import { notionalCents, toCents } from '../domain/money.js';
import { getOwnedModel } from './models.js';
import { iso } from './rows.js';
import { getOwnedRun, toRun, type RunRow } from './runs.js';

// ---- which runs -----------------------------------------------------------------------------

/**
 * The caller's runs named by `run_id`, or the newest `limit` runs of `model_id` (newest first).
 * Exactly one of the two must be given (ToolError INVALID_ARGUMENT). Another user's run or
 * model is "Run N was not found." / "Model N was not found.", like a missing one.
 */
export async function resolveRuns(sql: Q, userId: number, args: { run_id?: number; model_id?: number }, limit: number): Promise<RunRow[]> {
  if ((args.run_id === undefined) === (args.model_id === undefined)) {
    throw new ToolError('INVALID_ARGUMENT', 'Give either run_id or model_id, not both and not neither.');
  }
  if (args.run_id !== undefined) return [await getOwnedRun(sql, userId, args.run_id)];
  await getOwnedModel(sql, userId, args.model_id!);
  const rows = await sql`select * from runs where model_id = ${args.model_id!} order by run_number desc limit ${limit}`;
  return rows.map((r) => toRun(r));
}

// ---- the facts ------------------------------------------------------------------------------

/**
 * The run's equity curve, one point per clock step as recorded, in time order, values in dollars.
 * The starting value is the first point: a replay records it at start_run; a live run records
 * none, so its initial cash at `started_at` is put first. Read as columns (loadEquityColumns).
 */
export async function loadEquityCurve(sql: Q, run: RunRow): Promise<EquityPoint[]> {
  const { clock, value } = await loadEquityColumns(sql, run);
  const points: EquityPoint[] = new Array(clock.length);
  for (let i = 0; i < clock.length; i++) points[i] = { clock: new Date(clock[i]!).toISOString(), value: value[i]! };
  return points;
}

/**
 * The run's equity curve as columns (epoch ms, dollars), the live run's start value first as
 * loadEquityCurve. A finished run (not running) is read from its pack (migration 028
 * equity_packs: one row of float8 bytes) when the pack's first and last clock are the run's and
 * it decodes to its point count; else its points are read (equityRows) and packed for the next
 * read (writePack). A running run, and a read inside a transaction, read the points and write
 * nothing. The pack holds the doubles the points' read gave, so both give the same bits: clocks
 * whole milliseconds (floor), values cents / 100.
 * 1M points, embedded (bench/metrics.ts): the pack 0.15 s of CPU, the points 1.3–2.0 s.
 */
export async function loadEquityColumns(sql: Q, run: RunRow): Promise<EquityColumns> {
  const finished = run.status !== 'running';
  let cols = finished ? await equityPack(sql, run.run_id) : null;
  if (!cols) {
    cols = await equityRows(sql, run.run_id);
    if (finished && !('savepoint' in sql)) await writePack(sql, run.run_id, cols);
  }
  const { clock, value } = cols;
  const startAt = Date.parse(run.started_at);
  const recorded = clock.length - 1;
  const prepend = run.kind === 'live' && (recorded === 0 || clock[1]! > startAt);
  if (!prepend) return { clock: clock.subarray(1), value: value.subarray(1) };
  clock[0] = startAt;
  value[0] = run.initial_cash;
  return { clock, value };
}

/**
 * The run's points read row by row: one row comes back, Postgres writing every point as
 * "ms,cents" integers into one text (string_agg in clock order, the primary key's), parsed
 * here into two Float64Arrays with an empty slot first (room for a live run's start value),
 * so no object is made per point. Values are cents / 100 (exact below 2^53 cents).
 */
async function equityRows(sql: Q, runId: number): Promise<{ clock: Float64Array; value: Float64Array }> {
  const [row] = await sql`
    select coalesce(string_agg(floor(extract(epoch from clock) * 1000)::bigint || ',' || (total_value * 100)::bigint, ' ' order by clock), '') as packed,
           count(*)::int as n
    from equity_snapshots where run_id = ${runId}`;
  const packed = row!.packed as string;
  const recorded = row!.n as number;
  const clock = new Float64Array(recorded + 1);
  const value = new Float64Array(recorded + 1);
  // integers as "ms,cents ms,cents …"
  let k = 1;
  let x = 0;
  let neg = false;
  let first = 0;
  for (let i = 0; i <= packed.length; i++) {
    const c = i < packed.length ? packed.charCodeAt(i) : 32;
    if (c >= 48 && c <= 57) x = x * 10 + (c - 48);
    else if (c === 45) neg = true;
    else if (c === 44) {
      first = neg ? -x : x;
      x = 0;
      neg = false;
    } else if (i > 0) {
      clock[k] = first;
      value[k++] = (neg ? -x : x) / 100;
      x = 0;
      neg = false;
    }
  }
  return { clock, value };
}

/**
 * A finished run's pack (equity_packs) as columns with an empty slot first, or null: none, not
 * the run's points any more (first or last clock moved), not decodable to its count, or not
 * readable (logged; the caller reads the points: a pack never fails a read).
 */
async function equityPack(sql: Q, runId: number): Promise<{ clock: Float64Array; value: Float64Array } | null> {
  try {
    const [have] = await sql`
      select points, case when current then clock end as clock, case when current then value end as value
      from (select p.points, p.clock, p.value,
                   p.first_clock = (select min(clock) from equity_snapshots where run_id = ${runId})
                   and p.last_clock = (select max(clock) from equity_snapshots where run_id = ${runId}) as current
            from equity_packs p where p.run_id = ${runId}) p`;
    return have ? unpack(have.points as number, have.clock, have.value) : null;
  } catch (err) {
    logEvent('equity_pack_failed', { run_id: runId, error: err instanceof Error ? err.message : String(err) });
    return null;
  }
}

/**
 * Packs the points just read for a finished run, in one statement: values as big-endian float8s,
 * clocks as runs of evenly spaced clocks (clockRuns) or float8s, sent as base64 text (plain values,
 * so a worker job can send it). Written only if the run is still not running and its first and
 * last clock are still those read (replacing a pack that no longer matched). Best effort: a
 * failure is logged, and the read has its points already.
 */
async function writePack(sql: Q, runId: number, cols: { clock: Float64Array; value: Float64Array }): Promise<void> {
  const n = cols.clock.length - 1;
  if (n === 0) return;
  const clock = clockRuns(cols.clock) ?? float8Bytes(cols.clock.subarray(1));
  const value = float8Bytes(cols.value.subarray(1));
  try {
    await sql`
      insert into equity_packs (run_id, points, first_clock, last_clock, clock, value)
      select ${runId}::int, ${n}::int, b.first, b.last, decode(${clock.toString('base64')}, 'base64'), decode(${value.toString('base64')}, 'base64')
      from (select min(clock) as first, max(clock) as last from equity_snapshots where run_id = ${runId}) b
      where floor(extract(epoch from b.first) * 1000) = ${String(cols.clock[1])}::numeric
        and floor(extract(epoch from b.last) * 1000) = ${String(cols.clock[n])}::numeric
        and (select status from runs where id = ${runId}) <> 'running'
      on conflict (run_id) do update set points = excluded.points, first_clock = excluded.first_clock, last_clock = excluded.last_clock,
        clock = excluded.clock, value = excluded.value, created_at = now()`;
  } catch (err) {
    logEvent('equity_pack_failed', { run_id: runId, error: err instanceof Error ? err.message : String(err) });
  }
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** The doubles as big-endian float8 bytes (float8send's order). */
function float8Bytes(a: Float64Array): Buffer {
  const out = Buffer.from(new Float64Array(a).buffer);
  if (LITTLE_ENDIAN) out.swap64();
  return out;
}

/**
 * Clocks (after the empty first slot) as runs of evenly spaced clocks, three big-endian float8s
 * each (first clock, step, count; a minute replay has one per session), or null when that is
 * not shorter than 8 bytes a clock. A run is extended only while first + j × step gives the
 * clock exactly.
 */
function clockRuns(clock: Float64Array): Buffer | null {
  const n = clock.length - 1;
  const runs: number[] = [];
  for (let i = 1; i <= n; ) {
    const step = i < n ? clock[i + 1]! - clock[i]! : 0;
    let j = i + 1;
    while (j <= n && clock[i]! + (j - i) * step === clock[j]) j++;
    runs.push(clock[i]!, step, j - i);
    i = j;
    if (runs.length >= n) return null;
  }
  return float8Bytes(Float64Array.from(runs));
}

/**
 * The pack's columns into Float64Arrays with an empty slot first; null unless both hold exactly
 * `points` clocks and values. Values: `points` big-endian float8s. Clocks: the same, or runs
 * (clockRuns), told apart by their length (runs are shorter than 8 × points).
 */
function unpack(points: number, clockBytes: unknown, valueBytes: unknown): { clock: Float64Array; value: Float64Array } | null {
  const column = (bytes: unknown): Float64Array | null => {
    if (!(bytes instanceof Uint8Array) || bytes.byteLength !== points * 8) return null;
    const out = new Float64Array(points + 1);
    // copied: the bytes may be a worker job's cached answer, read again
    new Uint8Array(out.buffer, 8).set(bytes);
    if (LITTLE_ENDIAN) Buffer.from(out.buffer, 8, points * 8).swap64();
    return out;
  };
  const value = column(valueBytes);
  const clock = column(clockBytes) ?? clockFromRuns(points, clockBytes);
  return clock && value ? { clock, value } : null;
}

/** Clocks from runs (first, step, count), with an empty slot first; null unless they make exactly `points`. */
function clockFromRuns(points: number, bytes: unknown): Float64Array | null {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength % 24 !== 0 || bytes.byteLength >= points * 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(points + 1);
  let k = 1;
  for (let at = 0; at < bytes.byteLength; at += 24) {
    const first = view.getFloat64(at);
    const step = view.getFloat64(at + 8);
    const count = view.getFloat64(at + 16);
    if (!Number.isInteger(count) || count < 1 || k + count > points + 1) return null;
    for (let j = 0; j < count; j++) out[k++] = first + j * step;
  }
  return k === points + 1 ? out : null;
}

/** A fill with what its order said: source (agent or the exit that fired), reasoning, placement time. */
export interface RunFill extends TradeFill {
  source: string;
  reasoning: string | null;
  /** When the order was written (wall clock), to find the decision logged just before it. */
  order_created_at: string;
}

/** Every fill of the run with its order, in execution order; money as integer cents. */
export async function loadRunFills(sql: Q, runId: number): Promise<RunFill[]> {
  const rows = await sql`
    select f.id, f.order_id, f.symbol, f.side, f.quantity, f.price, f.commission, f.slippage, f.cash_change, f.clock,
           o.source, o.reasoning, o.created_at as order_created_at
    from fills f join orders o on o.id = f.order_id
    where f.run_id = ${runId} order by f.clock, f.id`;
  return rows.map((r) => {
    const side = r.side as Side;
    const commission = toCents(r.commission);
    return {
      fill_id: r.id as number,
      order_id: r.order_id as number,
      symbol: r.symbol as string,
      side,
      quantity: r.quantity as number,
      price: Number(r.price),
      notional_cents: fillNotionalCents(side, toCents(r.cash_change), commission),
      commission_cents: commission,
      slippage_cents: notionalCents(r.quantity, r.slippage),
      clock: iso(r.clock)!,
      source: r.source as string,
      reasoning: (r.reasoning ?? null) as string | null,
      order_created_at: iso(r.order_created_at)!,
    };
  });
}

export interface DecisionEntry {
  id: number;
  content: string;
  /** The run clock it was logged at (UTC ISO). */
  clock: string;
  created_at: string;
}

/**
 * The run's `decision` reasoning entries in the order they were written, without the copies an
 * order's own reasoning leaves in the log (context.order_id): those are the orders' reasoning.
 */
export async function loadDecisions(sql: Q, runId: number): Promise<DecisionEntry[]> {
  const rows = await sql`
    select id, content, clock, created_at from reasoning_log
    where run_id = ${runId} and reasoning_type = 'decision' and (context is null or context->'order_id' is null)
    order by created_at, id`;
  return rows.map((r) => ({ id: r.id as number, content: r.content as string, clock: iso(r.clock)!, created_at: iso(r.created_at)! }));
}

/** The latest decision written at or before `at` (wall clock ISO), or null. `decisions` in write order. */
export function decisionBefore(decisions: readonly DecisionEntry[], at: string): DecisionEntry | null {
  let a = 0;
  let b = decisions.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (decisions[m]!.created_at <= at) a = m + 1;
    else b = m;
  }
  return a > 0 ? decisions[a - 1]! : null;
}

/**
 * The splits and dividends the ledger applied to the run's positions (corporate_action_events),
 * in the order applied, as the round trips follow them, with how many fills were booked before
 * each. A split recorded before its ratio parts were kept reads as split_to = ratio, split_from = 1.
 */
export async function loadRunActions(sql: Q, runId: number): Promise<LotAction[]> {
  // when it was applied: its reasoning-log entry, written with it (clock_timestamp), before the step's fills
  const rows = await sql`
    select e.symbol, e.kind, e.action_date::text as d, e.ratio, e.split_from, e.split_to, e.quantity_before, e.quantity_after, e.cash_change,
           (select count(*)::int from fills f where f.run_id = e.run_id and f.created_at < l.created_at) as fills_before
    from corporate_action_events e
    left join lateral (
      select created_at from reasoning_log l
      where l.run_id = e.run_id and l.reasoning_type = 'event' and l.context->>'corporate_action' = e.kind
        and l.context->>'symbol' = e.symbol and l.context->>'date' = e.action_date::text
      order by l.id limit 1) l on true
    where e.run_id = ${runId} order by e.action_date, e.id`;
  return rows.map((r) => ({
    kind: r.kind as 'split' | 'dividend',
    symbol: r.symbol as string,
    date: r.d as string,
    clock: effectiveAt({ date: r.d as string }).toISOString(),
    split_from: r.kind === 'split' ? Number(r.split_from ?? 1) : null,
    split_to: r.kind === 'split' ? Number(r.split_to ?? r.ratio) : null,
    quantity_before: r.quantity_before as number,
    quantity_after: r.quantity_after as number,
    cash_change_cents: toCents(r.cash_change),
    fills_before: (r.fills_before ?? null) as number | null,
  }));
}

/**
 * fifoRoundTrips of a run's fills and ledger actions; a run whose records cannot be paired is
 * ToolError RUN_NOT_ANALYSABLE with one sentence naming the symbol and the date (never an
 * internal error).
 */
export function runBooks(run: { run_id: number }, fills: readonly TradeFill[], actions: readonly LotAction[]): ReturnType<typeof fifoRoundTrips> {
  try {
    return fifoRoundTrips(fills, actions);
  } catch (err) {
    if (err instanceof RoundTripError) throw new ToolError('RUN_NOT_ANALYSABLE', `Run ${run.run_id} cannot be analysed: ${err.message}`);
    throw err;
  }
}

// ---- round trips ----------------------------------------------------------------------------

export interface AnalyzedRoundTrip extends RoundTrip {
  exit_cause: ExitCause;
  entry_reasoning: string | null;
  exit_reasoning: string | null;
  entry_decision: { id: number; content: string; clock: string } | null;
  exit_decision: { id: number; content: string; clock: string } | null;
  /** MAE/MFE from the fills and the bars seen while open; null only when not asked for (withExcursions: false). */
  excursion: Excursion | null;
  /** The bars the excursion read besides the fills, or null: none closed while open (or the symbol's bars could not be read). */
  excursion_bars: Timespan | null;
}

export interface MarkedOpenLot extends OpenLot {
  /** The last price at the run's clock (as of its end), or null when unpriced. */
  last_price: number | null;
  unrealized_pnl_cents: number | null;
}

export interface RunRoundTrips {
  round_trips: AnalyzedRoundTrip[];
  open_lots: MarkedOpenLot[];
  /** The run's realized P&L as the ledger booked it (average cost), cents. */
  ledger_realized_cents: number;
  /** Why an excursion read only the fills (a symbol whose bars could not be read). */
  notes: string[];
}

/** The instant a run's analysis is as of: its clock (replay) or its end / now (live). */
export function runAsOf(run: RunRow): Date {
  return new Date(run.clock);
}

/**
 * FIFO round trips of a run through its splits and dividends, with exit causes, the reasoning
 * of the entry and exit orders, the nearest decision before each, MAE/MFE from the fills and
 * the finest bars the run followed each symbol on (stepTimespan: hourly bars in a minute
 * replay count) that closed while open, and the open lots marked at the last price as of the
 * run clock. `withExcursions: false` skips the bar reads. Raises RUN_NOT_ANALYSABLE (runBooks).
 */
export async function runRoundTrips(
  deps: Deps,
  run: RunRow,
  opts: { withExcursions?: boolean; fills?: RunFill[]; actions?: LotAction[] } = {},
): Promise<RunRoundTrips> {
  const fills = opts.fills ?? (await loadRunFills(deps.sql, run.run_id));
  const actions = opts.actions ?? (await loadRunActions(deps.sql, run.run_id));
  const decisions = await loadDecisions(deps.sql, run.run_id);
  const { round_trips, open_lots } = runBooks(run, fills, actions);
  const byId = new Map(fills.map((f) => [f.fill_id, f]));
  const asOf = runAsOf(run);
  const notes: string[] = [];
  const ranges = opts.withExcursions === false ? new Map<string, SymbolBars>() : await barRanges(deps, run, fills, asOf, notes);
  const brief = (d: DecisionEntry | null) => (d ? { id: d.id, content: d.content, clock: d.clock } : null);
  const trips = round_trips.map((t): AnalyzedRoundTrip => {
    const entry = byId.get(t.entry_fill_id)!;
    const exit = t.exit_fill_id === null ? null : byId.get(t.exit_fill_id)!;
    const range = ranges.get(t.symbol);
    const seen = range ? range.range.query(Date.parse(t.entry_time), Date.parse(t.exit_time)) : { low: null, high: null };
    // the bars are on the basis as of the run's clock: back to the exit's basis
    const basis = range ? range.factorAfter(Date.parse(t.exit_time)) : 1;
    return {
      ...t,
      exit_cause: exitCause(exit?.source ?? null, exit?.reasoning ?? null),
      entry_reasoning: entry.reasoning,
      exit_reasoning: exit?.reasoning ?? null,
      entry_decision: brief(decisionBefore(decisions, entry.order_created_at)),
      exit_decision: exit ? brief(decisionBefore(decisions, exit.order_created_at)) : null,
      excursion: opts.withExcursions === false ? null : excursion(t, seen.low === null ? null : seen.low * basis, seen.high === null ? null : seen.high * basis),
      excursion_bars: seen.low === null ? null : range!.timespan,
    };
  });
  const prices = new Map<string, number | null>();
  for (const sym of new Set(open_lots.map((l) => l.symbol))) {
    const q = await deps.market.priceAt(sym, asOf, deps.sql);
    prices.set(sym, q?.price ?? null);
  }
  const marked = open_lots.map((l): MarkedOpenLot => {
    const p = prices.get(l.symbol) ?? null;
    return { ...l, last_price: p, unrealized_pnl_cents: p === null ? null : openLotPnlCents(l, p) };
  });
  const [acct] = await deps.sql`select realized_pnl from runs where id = ${run.run_id}`;
  return { round_trips: trips, open_lots: marked, ledger_realized_cents: toCents(acct?.realized_pnl ?? 0), notes };
}

interface SymbolBars {
  timespan: Timespan;
  range: BarRange;
  /** Π split ratios effective in (t, as of]: a price as of the run's clock × this = the price on t's basis. */
  factorAfter(t: number): number;
}

/**
 * Per symbol traded, the bars of the finest timespan the run followed it on, closed between
 * its first fill and `asOf`, as a range index. A symbol whose bars cannot be read gets none,
 * and a note.
 */
async function barRanges(deps: Deps, run: RunRow, fills: readonly RunFill[], asOf: Date, notes: string[]): Promise<Map<string, SymbolBars>> {
  const first = new Map<string, number>();
  for (const f of fills) if (!first.has(f.symbol)) first.set(f.symbol, Date.parse(f.clock));
  const out = new Map<string, SymbolBars>();
  for (const [symbol, from] of first) {
    if (asOf.getTime() <= from) continue;
    try {
      const timespan = await stepTimespan(deps.market, symbol, run.timespan ?? 'minute', deps.sql);
      if (!timespan) continue;
      const bars = await deps.market.barsClosedBetween(symbol, timespan, new Date(from), asOf, deps.sql);
      const splits = (await deps.market.corporateActions(symbol, deps.sql))
        .filter((a) => a.kind === 'split' && effectiveAt(a).getTime() <= asOf.getTime())
        .map((a) => ({ at: effectiveAt(a).getTime(), ratio: a.kind === 'split' ? a.splitTo / a.splitFrom : 1 }));
      out.set(symbol, {
        timespan,
        range: new BarRange(bars.map((b) => ({ t: barEnd(timespan, new Date(b.t)).getTime(), low: b.l ?? b.o, high: b.h ?? b.o }))),
        factorAfter: (t) => splits.reduce((f, s) => (s.at > t ? f * s.ratio : f), 1),
      });
    } catch (err) {
      if (!(err instanceof ToolError)) throw err;
      notes.push(`MAE/MFE of ${symbol} count the fills only: its bars could not be read (${err.message})`);
    }
  }
  return out;
}

/** New York hour of entry ("09"), weekday ("Mon") or symbol: the group keys of analyze_trades. */
export function groupKey(by: 'symbol' | 'hour' | 'weekday', t: { symbol: string; entry_time: string }): string {
  if (by === 'symbol') return t.symbol;
  const local = nyLocal(new Date(t.entry_time));
  if (by === 'hour') return local.hhmm.slice(0, 2);
  return ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][local.weekday]!;
}

// ---- metrics --------------------------------------------------------------------------------

export interface RunMetrics extends CurveMetrics, TradeStats {
  run_id: number;
  /** The series the return metrics used: a daily run's steps, or an intraday run's session closes (or its steps, on request). */
  returns_basis: ReturnsBasis;
  exposure: number | null;
  /** Σ |fill notional| / mean equity value: how many times the book was traded. */
  turnover: number | null;
  commission_paid: number;
  slippage_paid: number;
  benchmark: (BenchmarkStats & { symbol: string; source: PriceSource; benchmark_return: number | null; excess_return: number | null }) | null;
  notes: string[];
}

/**
 * Every metric of CONTRACT §5 for one run, from its recorded equity curve and its FIFO round
 * trips, with an optional buy-and-hold benchmark of `benchmark` over the same clock steps at
 * as-of prices (market.priceAt at each step's clock). The curve is read and computed as columns
 * (loadEquityColumns, curveMetricsOf; `curve` or `points` when the caller has it). Undefined values are null with a note.
 * Throws ToolError UNKNOWN_SYMBOL when the benchmark symbol has no source.
 */
export async function runMetrics(
  deps: Deps,
  run: RunRow,
  opts: { benchmark?: string; allowSimulatedBenchmark?: boolean; points?: EquityPoint[]; curve?: EquityColumns; fills?: RunFill[]; actions?: LotAction[]; returns?: ReturnsBasis } = {},
): Promise<RunMetrics> {
  const notes: string[] = [];
  const cols = opts.curve ?? (opts.points ? equityColumns(opts.points) : await loadEquityColumns(deps.sql, run));
  const fills = opts.fills ?? (await loadRunFills(deps.sql, run.run_id));
  const actions = opts.actions ?? (await loadRunActions(deps.sql, run.run_id));
  const series = returnSeriesIndex(cols.clock, run.timespan, opts.returns, notes);
  const ppy = series.periods_per_year;
  if (series.basis === 'per_step' && run.session === 'extended' && run.timespan !== 'day') {
    notes.push('The run steps through the extended session; periods_per_year stays 252 × 390 (the contract convention for minute steps).');
  }
  const ret = series.index ? pickColumns(cols, series.index) : cols;
  const curve = curveMetricsOf(cols, ppy, notes, ret);
  const { round_trips } = runBooks(run, fills, actions);
  const trades = tradeStats(round_trips.map((t) => t.pnl_cents), notes);
  if (!fills.length) notes.push('The run has no fills: exposure is 0 and turnover 0.');
  const exp = exposureOf(
    cols.clock,
    [
      // a split changes the shares held without a fill (first at its instant: exposure's sort is stable)
      ...actions.filter((a) => a.kind === 'split').map((a) => ({ clock: a.clock, symbol: a.symbol, delta: a.quantity_after - a.quantity_before })),
      ...fills.map((f) => ({ clock: f.clock, symbol: f.symbol, delta: f.side === 'buy' || f.side === 'cover' ? f.quantity : -f.quantity })),
    ],
  );
  if (exp === null) notes.push('exposure is null: the run has fewer than 2 equity points.');
  let traded = 0;
  let commission = 0;
  let slippage = 0;
  for (const f of fills) {
    traded += f.notional_cents;
    commission += f.commission_cents;
    slippage += f.slippage_cents;
  }
  let turnover: number | null = null;
  if (cols.value.length) {
    let sum = 0;
    for (let i = 0; i < cols.value.length; i++) sum += cols.value[i]!;
    const meanValue = sum / cols.value.length;
    if (meanValue > 0) turnover = traded / 100 / meanValue;
    else notes.push('turnover is null: the mean equity value is not positive.');
  } else {
    notes.push('turnover is null: the run has no equity points.');
  }
  const benchmark = opts.benchmark
    ? await benchmarkOf(deps, opts.benchmark, await benchmarkSource(deps, run, fills, opts.benchmark, opts.allowSimulatedBenchmark === true, notes), columnPoints(ret), ppy, curve.total_return, notes)
    : null;
  return {
    run_id: run.run_id,
    returns_basis: series.basis,
    ...curve,
    ...trades,
    exposure: exp,
    turnover,
    commission_paid: commission / 100,
    slippage_paid: slippage / 100,
    benchmark,
    notes,
  };
}

/**
 * Where the benchmark's prices come from. A run that traded real bars (imported or Polygon)
 * measured against a symbol only the simulated market serves is refused (ToolError
 * SIMULATED_BENCHMARK) unless `allowSimulated`, then a note says so. Throws UNKNOWN_SYMBOL
 * when nothing serves the symbol.
 */
async function benchmarkSource(deps: Deps, run: RunRow, fills: readonly RunFill[], symbol: string, allowSimulated: boolean, notes: string[]): Promise<PriceSource> {
  const source = await deps.market.sourceOf(symbol, deps.sql);
  if (!source) throw new ToolError('UNKNOWN_SYMBOL', `Unknown benchmark symbol ${symbol}: no source serves it (list_symbols shows what is available).`);
  if (source !== 'simulated') return source;
  const real: string[] = [];
  for (const s of new Set([...run.symbols, ...fills.map((f) => f.symbol)])) {
    const src = await deps.market.sourceOf(s, deps.sql);
    if (src === 'imported' || src === 'polygon') real.push(`${s} (${src})`);
  }
  if (!real.length) return source;
  if (!allowSimulated) {
    throw new ToolError(
      'SIMULATED_BENCHMARK',
      `The benchmark ${symbol} is served only by the simulated market, but run ${run.run_id} trades real bars (${real.slice(0, 3).join(', ')}): import ${symbol}'s bars for the run's dates (npm run admin -- import-bars FILE) or pass allow_simulated_benchmark: true.`,
    );
  }
  notes.push(`The benchmark ${symbol} is simulated (made-up prices), while the run traded real bars: its figures compare against no real market.`);
  return source;
}

const columnPoints = (c: EquityColumns): EquityPoint[] => Array.from(c.clock, (t, i) => ({ clock: new Date(t).toISOString(), value: c.value[i]! }));

async function benchmarkOf(deps: Deps, symbol: string, source: PriceSource, points: readonly EquityPoint[], ppy: number, totalReturn: number | null, notes: string[]): Promise<RunMetrics['benchmark']> {
  const base = { symbol, source, benchmark_return: null, excess_return: null, beta: null, alpha: null, correlation: null, tracking_error: null, information_ratio: null };
  if (points.length < 2) {
    notes.push(`The benchmark ${symbol} needs at least 2 equity points.`);
    return base;
  }
  const prices: (number | null)[] = [];
  // Batches keep the number of concurrent reads small on a one-connection database.
  for (let i = 0; i < points.length; i += 32) {
    const batch = points.slice(i, i + 32);
    prices.push(...(await Promise.all(batch.map(async (p) => (await deps.market.priceAt(symbol, new Date(p.clock), deps.sql))?.price ?? null))));
  }
  const firstPriced = prices.findIndex((p) => p !== null);
  if (firstPriced !== 0) {
    notes.push(`The benchmark ${symbol} has no price at the run's first step (${points[0]!.clock}): benchmark figures are null.`);
    return base;
  }
  // An unpriced later step carries the last price (the holding is still worth what it last traded at).
  const filled: number[] = [];
  for (const p of prices) filled.push(p ?? filled[filled.length - 1]!);
  const r: number[] = [];
  const b: number[] = [];
  const rr = simpleReturns(points.map((p) => p.value));
  const br = simpleReturns(filled);
  for (let i = 0; i < rr.length; i++) {
    if (rr[i] === null || br[i] === null) continue;
    r.push(rr[i]!);
    b.push(br[i]!);
  }
  const benchmarkReturn = filled[filled.length - 1]! / filled[0]! - 1;
  return {
    ...base,
    benchmark_return: benchmarkReturn,
    excess_return: totalReturn === null ? null : totalReturn - benchmarkReturn,
    ...benchmarkStats(r, b, ppy, notes),
  };
}
