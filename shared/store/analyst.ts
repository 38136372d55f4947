// The facts of a run the analyst explains (equity curve, fills with their orders, decision
// reasoning, snapshot) and the analyses built from them: metrics and FIFO round trips.
// Every analyst tool, the report resource, the prompts and part 2 (threats, suggestions)
// read runs through these functions, so they all agree on one set of numbers.
import type { Q } from '../db/database.js';
import type { Deps } from '../deps.js';
import { barEnd } from '../domain/calendar.js';
import {
  benchmarkStats,
  curveMetrics,
  exposure,
  returnSeries,
  simpleReturns,
  type ReturnsBasis,
  tradeStats,
  type BenchmarkStats,
  type CurveMetrics,
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
  type Excursion,
  type ExitCause,
  type OpenLot,
  type RoundTrip,
  type TradeFill,
} from '../domain/round-trips.js';
import type { Side } from '../domain/types.js';
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
 * none, so its initial cash at `started_at` is put first.
 */
export async function loadEquityCurve(sql: Q, run: RunRow): Promise<EquityPoint[]> {
  const rows = await sql`select clock, total_value from equity_snapshots where run_id = ${run.run_id} order by clock`;
  const points: EquityPoint[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) points[i] = { clock: iso(rows[i]!.clock)!, value: Number(rows[i]!.total_value) };
  if (run.kind === 'live' && (!points.length || points[0]!.clock > run.started_at)) {
    points.unshift({ clock: run.started_at, value: run.initial_cash });
  }
  return points;
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

// ---- round trips ----------------------------------------------------------------------------

export interface AnalyzedRoundTrip extends RoundTrip {
  exit_cause: ExitCause;
  entry_reasoning: string | null;
  exit_reasoning: string | null;
  entry_decision: { id: number; content: string; clock: string } | null;
  exit_decision: { id: number; content: string; clock: string } | null;
  /** Max adverse / favourable excursion from the bars that closed while it was open; null when none did. */
  excursion: Excursion | null;
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
}

/** The instant a run's analysis is as of: its clock (replay) or its end / now (live). */
export function runAsOf(run: RunRow): Date {
  return new Date(run.clock);
}

/**
 * FIFO round trips of a run with exit causes, the reasoning of the entry and exit orders, the
 * nearest decision before each, MAE/MFE from the bars of the run's timespan (minute for live
 * runs) that closed while open, and the open lots marked at the last price as of the run clock.
 * `withExcursions: false` skips the bar reads.
 */
export async function runRoundTrips(deps: Deps, run: RunRow, opts: { withExcursions?: boolean; fills?: RunFill[] } = {}): Promise<RunRoundTrips> {
  const fills = opts.fills ?? (await loadRunFills(deps.sql, run.run_id));
  const decisions = await loadDecisions(deps.sql, run.run_id);
  const { round_trips, open_lots } = fifoRoundTrips(fills);
  const byId = new Map(fills.map((f) => [f.fill_id, f]));
  const asOf = runAsOf(run);
  const ranges = opts.withExcursions === false ? new Map<string, BarRange>() : await barRanges(deps, run, fills, asOf);
  const brief = (d: DecisionEntry | null) => (d ? { id: d.id, content: d.content, clock: d.clock } : null);
  const trips = round_trips.map((t): AnalyzedRoundTrip => {
    const entry = byId.get(t.entry_fill_id)!;
    const exit = byId.get(t.exit_fill_id)!;
    const range = ranges.get(t.symbol);
    const seen = range ? range.query(Date.parse(t.entry_time), Date.parse(t.exit_time)) : { low: null, high: null };
    return {
      ...t,
      exit_cause: exitCause(exit.source, exit.reasoning),
      entry_reasoning: entry.reasoning,
      exit_reasoning: exit.reasoning,
      entry_decision: brief(decisionBefore(decisions, entry.order_created_at)),
      exit_decision: brief(decisionBefore(decisions, exit.order_created_at)),
      excursion: excursion(t.direction, t.entry_price, t.quantity, seen.low, seen.high),
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
  return { round_trips: trips, open_lots: marked, ledger_realized_cents: toCents(acct?.realized_pnl ?? 0) };
}

/** Per symbol traded, the bars (run timespan) closed between its first fill and `asOf`, as a range index. */
async function barRanges(deps: Deps, run: RunRow, fills: readonly RunFill[], asOf: Date): Promise<Map<string, BarRange>> {
  const timespan = run.timespan ?? 'minute';
  const first = new Map<string, number>();
  for (const f of fills) if (!first.has(f.symbol)) first.set(f.symbol, Date.parse(f.clock));
  const out = new Map<string, BarRange>();
  for (const [symbol, from] of first) {
    if (asOf.getTime() <= from) continue;
    const bars = await deps.market.barsClosedBetween(symbol, timespan, new Date(from), asOf, deps.sql);
    out.set(
      symbol,
      new BarRange(
        bars.map((b) => ({ t: barEnd(timespan, new Date(b.t)).getTime(), low: b.l ?? b.o, high: b.h ?? b.o })),
      ),
    );
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
  benchmark: (BenchmarkStats & { symbol: string; benchmark_return: number | null; excess_return: number | null }) | null;
  notes: string[];
}

/**
 * Every metric of CONTRACT §5 for one run, from its recorded equity curve and its FIFO round
 * trips, with an optional buy-and-hold benchmark of `benchmark` over the same clock steps at
 * as-of prices (market.priceAt at each step's clock). Undefined values are null with a note.
 * Throws ToolError UNKNOWN_SYMBOL when the benchmark symbol has no source.
 */
export async function runMetrics(
  deps: Deps,
  run: RunRow,
  opts: { benchmark?: string; points?: EquityPoint[]; fills?: RunFill[]; returns?: ReturnsBasis } = {},
): Promise<RunMetrics> {
  const notes: string[] = [];
  const points = opts.points ?? (await loadEquityCurve(deps.sql, run));
  const fills = opts.fills ?? (await loadRunFills(deps.sql, run.run_id));
  const series = returnSeries(points, run.timespan, opts.returns, notes);
  const ppy = series.periods_per_year;
  if (series.basis === 'per_step' && run.session === 'extended' && run.timespan !== 'day') {
    notes.push('The run steps through the extended session; periods_per_year stays 252 × 390 (the contract convention for minute steps).');
  }
  const curve = curveMetrics(points, ppy, notes, series.points);
  const { round_trips } = fifoRoundTrips(fills);
  const trades = tradeStats(round_trips.map((t) => t.pnl_cents), notes);
  if (!fills.length) notes.push('The run has no fills: exposure is 0 and turnover 0.');
  const exp = exposure(
    points,
    fills.map((f) => ({ clock: f.clock, symbol: f.symbol, delta: f.side === 'buy' || f.side === 'cover' ? f.quantity : -f.quantity })),
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
  if (points.length) {
    const meanValue = points.reduce((s, p) => s + p.value, 0) / points.length;
    if (meanValue > 0) turnover = traded / 100 / meanValue;
    else notes.push('turnover is null: the mean equity value is not positive.');
  } else {
    notes.push('turnover is null: the run has no equity points.');
  }
  const benchmark = opts.benchmark ? await benchmarkOf(deps, opts.benchmark, series.points, ppy, curve.total_return, notes) : null;
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

async function benchmarkOf(deps: Deps, symbol: string, points: readonly EquityPoint[], ppy: number, totalReturn: number | null, notes: string[]): Promise<RunMetrics['benchmark']> {
  const base = { symbol, benchmark_return: null, excess_return: null, beta: null, alpha: null, correlation: null, tracking_error: null, information_ratio: null };
  if (!(await deps.market.isKnown(symbol, deps.sql))) {
    throw new ToolError('UNKNOWN_SYMBOL', `Unknown benchmark symbol ${symbol}: no source serves it (list_symbols shows what is available).`);
  }
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
