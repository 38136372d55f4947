// The market data every server reads through, always as of a clock ("now"): a bar is
// visible only once it has closed (t_end <= now); the price at now is the open of the bar
// that starts at now. Sources, per symbol: imported bars in price_bars first; else Polygon
// (when POLYGON_API_KEY is set, or bars fetched from it are stored); else the simulated
// market for SIMULATED_SYMBOLS. Provider bars are stored in price_bars before they are
// served; the cache holds copies of stored blocks only.
//
// Every method takes an optional query runner `q`: inside a transaction pass it. The
// embedded database has one connection, so a query on the pool would wait forever for the
// caller's own transaction.
import type { Cache } from '../cache.js';
import { getJson, setJson } from '../cache.js';
import { chargeFetch } from '../mcp/limits.js';
import type { Config } from '../config.js';
import type { Q, Sql } from '../db/database.js';
import { barEnd, prevTradingDay, sessionFor, tradingDays } from '../domain/calendar.js';
import { nyLocal } from '../domain/ny-time.js';
import { SIMULATED_SYMBOLS, simulatedBars, simulatedDailyRange } from '../domain/simulated-market.js';
import type { Bar, PriceSource, Timespan } from '../domain/types.js';
import { ToolError } from '../mcp/errors.js';
import {
  coverageSummary,
  getCoverage,
  getDividends,
  getSplits,
  hasStoredBars,
  importedSpans,
  saveDividends,
  saveSplits,
  selectBars,
  setCoverage,
  upsertBars,
  type StoredBar,
  type CoverageRow,
  type StoredSpan,
} from './bars-store.js';
import { blockOf, nextBlock, prevBlock, type Block } from './blocks.js';
import { applySplits, createPolygonSource, ProviderError, type Dividend, type PolygonSource, type Split } from './polygon.js';
import type { CorporateAction } from '../domain/corporate-actions.js';
import { upperBound } from '../domain/counterfactual.js';

export interface Quote {
  symbol: string;
  price: number;
  time: string;
  source: PriceSource;
  /** What the price is (see PriceBasis): lets a caller tell an open at the clock without quoteAt's last-bar search. */
  basis?: PriceBasis;
}

/**
 * open_at_clock: the open of the bar starting at `time`; latest_open: the open of the latest
 * bar that started before `time` (no bar closed since); last_close: the latest close;
 * daily_close: outside the regular session, the official close of the latest session.
 */
export type PriceBasis = 'open_at_clock' | 'latest_open' | 'last_close' | 'daily_close';

export interface TimedBar extends Bar {
  timespan: Timespan;
}

/** A quote with what it is made of: get_price's answer. */
export interface PriceQuote extends Quote {
  basis: PriceBasis;
  /** The bar the price was read from. */
  bar: { t: string; timespan: Timespan };
  /** The latest bar closed at `time` (the most recent close across timespans), or null. */
  lastBar: TimedBar | null;
}

export interface BarsQuery {
  /** Bars starting at or after. With `from`, the earliest `limit` bars; without, the latest. */
  from?: Date;
  /** Bars closed at or before (clamped to asOf). */
  to?: Date;
  limit?: number;
  /** The clock: nothing that closes after it is returned. */
  asOf: Date;
}

export interface BarsResult {
  /** Closed bars only (never an open-only bar), ascending. */
  bars: Bar[];
  source: PriceSource;
  /** More bars matched than `limit`, or the search stopped at its block cap. */
  truncated: boolean;
}

export type SymbolCoverage = Omit<CoverageRow, 'symbol'>;

export interface SymbolInfo {
  symbol: string;
  /** The source this symbol is served from now. */
  source: PriceSource;
  /** Stored bars closed by now; simulated and Polygon symbols fill in on demand. */
  coverage: SymbolCoverage[];
}

export interface Market {
  /** Reads may fetch from a provider over the network (Polygon is configured). */
  readonly fetches: boolean;
  /**
   * The price a trader sees at `at` (CONTRACT §2): the open of the bar that starts at `at`;
   * between bar starts the latest trade known (the open of the latest bar that started, when
   * no bar closed since, else the latest close); outside the regular session the official
   * daily close when the latest session's day bar exists. Null when unpriced.
   */
  priceAt(symbol: string, at: Date, q?: Q): Promise<Quote | null>;
  /** priceAt with its basis and the last completed bar. */
  quoteAt(symbol: string, at: Date, q?: Q): Promise<PriceQuote | null>;
  /** Imported bars, a Polygon key, stored Polygon bars, or a simulated symbol. */
  isKnown(symbol: string, q?: Q): Promise<boolean>;
  sourceOf(symbol: string, q?: Q): Promise<PriceSource | null>;
  /** The timespans the symbol has bars of, finest first: an imported symbol's stored ones, else all three. */
  timespansOf(symbol: string, q?: Q): Promise<Timespan[]>;
  /** Closed bars visible at opts.asOf. Throws UNKNOWN_SYMBOL for a symbol with no source. */
  barsAsOf(symbol: string, timespan: Timespan, opts: BarsQuery, q?: Q): Promise<BarsResult>;
  /** Bars that closed in (after, upTo]: what a clock move from `after` to `upTo` reveals. Empty for an unknown symbol. */
  barsClosedBetween(symbol: string, timespan: Timespan, after: Date, upTo: Date, q?: Q): Promise<Bar[]>;
  /** Symbols with their coverage (bars closed by `now`), filtered by a substring of the ticker. */
  listSymbols(now: Date, query?: string, q?: Q): Promise<SymbolInfo[]>;
  /**
   * The symbol's known splits and cash dividends (Polygon, refreshed daily, or imported),
   * by date, whatever their date: the caller applies those its clock passes. Empty for an
   * unknown or simulated symbol.
   */
  corporateActions(symbol: string, q?: Q): Promise<CorporateAction[]>;
  /** Drops cached knowledge of these symbols (after an import changed their bars). */
  forget(symbols: { symbol: string; timespan: Timespan; blocks: string[] }[]): Promise<void>;
}

export function unknownSymbol(symbol: string): ToolError {
  return new ToolError(
    'UNKNOWN_SYMBOL',
    `Unknown symbol ${symbol}: no imported bars, no Polygon key, and it is not a simulated symbol (list_symbols shows what is available).`,
  );
}

// ---- the as-of logic, over a backend that yields whole blocks ---------------------------------

interface Resolved {
  source: PriceSource | null;
  /** imported: the timespans stored, with their first bar */
  spans?: StoredSpan[];
  /** imported: the splits imported for it */
  splits?: Split[];
}

interface LoadedBlock {
  /** Every stored bar of the block, ascending, open-only and not-yet-closed ones included. */
  bars: StoredBar[];
  /** Bars closing after this (ms) were not final when fetched: treat them as unknown. */
  through: number;
}

interface Backend {
  fetches: boolean;
  resolve(symbol: string, q?: Q): Promise<Resolved>;
  block(symbol: string, timespan: Timespan, source: PriceSource, block: Block, at: Date, q?: Q): Promise<LoadedBlock>;
  splits(symbol: string, source: PriceSource, q?: Q): Promise<Split[]>;
  dividends(symbol: string, source: PriceSource, q?: Q): Promise<Dividend[]>;
  list(now: Date, query: string | undefined, q?: Q): Promise<SymbolInfo[]>;
  forget(symbols: { symbol: string; timespan: Timespan; blocks: string[] }[]): Promise<void>;
}

const ORDER: Timespan[] = ['minute', 'hour', 'day'];
/** How many blocks a search may read: ~40 trading days of minutes, 2 years of hours, 25 years of days. */
const MAX_BLOCKS: Record<Timespan, number> = { minute: 40, hour: 24, day: 25 };
/** Polygon: consecutive empty blocks after which history is taken to have ended. */
const MAX_EMPTY: Record<Timespan, number> = { minute: 5, hour: 3, day: 2 };
const DEFAULT_LIMIT = 100;
/** Longest bar of each timespan (a day bar runs 09:30–16:00). */
const MAX_BAR_MS: Record<Timespan, number> = { minute: 60_000, hour: 3_600_000, day: 7 * 3_600_000 };

const norm = (s: string) => s.trim().toUpperCase();

const plain = ({ t, o, h, l, c, v }: Bar): Bar => ({ t, o, h, l, c, v });

function withEnd(timespan: Timespan, bars: Bar[]): StoredBar[] {
  return bars.map((b) => ({ ...b, e: barEnd(timespan, new Date(b.t)).getTime() }));
}

/** The close of the latest regular session that closed at or before `at`. */
function sessionCloseBefore(at: Date): number {
  const date = nyLocal(at).date;
  const today = sessionFor(date);
  if (today && today.close <= at) return today.close.getTime();
  return sessionFor(prevTradingDay(date))!.close.getTime();
}

/** A block's bar starts and ends (ms), ascending: built once per loaded block, then binary-searched. */
interface BlockIndex {
  starts: number[];
  ends: number[];
}

const indexes = new WeakMap<readonly StoredBar[], BlockIndex>();

function indexOf(bars: readonly StoredBar[]): BlockIndex {
  let ix = indexes.get(bars);
  if (!ix) {
    ix = { starts: bars.map((b) => Date.parse(b.t)), ends: bars.map((b) => b.e) };
    indexes.set(bars, ix);
  }
  return ix;
}

/** Index of the first bar starting at or after `ms` (ms are whole milliseconds). */
function firstStartingAtOrAfter(bars: readonly StoredBar[], ms: number): number {
  return upperBound(indexOf(bars).starts, ms - 1);
}

/** Index of the first bar ending after `ms` (ends ascend with starts within one timespan). */
function firstEndingAfter(bars: readonly StoredBar[], ms: number): number {
  return upperBound(indexOf(bars).ends, ms);
}

function isClosed(b: Bar): boolean {
  return b.h !== null && b.l !== null && b.c !== null;
}

function marketOver(backend: Backend): Market {
  const spansOf = (r: Resolved): Timespan[] =>
    r.source === 'imported' ? ORDER.filter((ts) => r.spans!.some((s) => s.timespan === ts)) : ORDER;

  async function adjust(symbol: string, source: PriceSource, bars: Bar[], asOf: Date, q?: Q): Promise<Bar[]> {
    // bars before a split known at asOf are shown on the new share basis (Polygon and imported alike)
    if (source === 'simulated' || bars.length === 0) return bars;
    // imported splits ride on the resolved (cached) symbol: no extra round trip per read
    const splits = source === 'imported' ? ((await backend.resolve(symbol, q)).splits ?? []) : await backend.splits(symbol, source, q);
    return splits.length ? applySplits(bars, splits, asOf) : bars;
  }

  /** Closed bars visible at upTo (and after `after`), walking blocks back from upTo's until `limit`. */
  async function latest(symbol: string, r: Resolved, timespan: Timespan, upTo: Date, limit: number, maxBlocks: number, from: Date | null, q?: Q) {
    const source = r.source!;
    const earliest = r.spans?.find((s) => s.timespan === timespan)?.first;
    const floor = Math.max(from?.getTime() ?? -Infinity, earliest ? Date.parse(earliest) : -Infinity);
    const upMs = upTo.getTime();
    const chunks: StoredBar[][] = [];
    let count = 0;
    let empty = 0;
    let b = blockOf(timespan, upTo);
    let walked = 0;
    let exhausted = false;
    for (;;) {
      if (b.end.getTime() <= floor) {
        exhausted = true;
        break;
      }
      if (walked >= maxBlocks || count >= limit) break;
      const { bars, through } = await backend.block(symbol, timespan, source, b, upTo, q);
      const cut = Math.min(upMs, through);
      // Only the newest limit+1 visible bars matter (the result and whether it is truncated).
      const visible: StoredBar[] = [];
      const { starts } = indexOf(bars);
      for (let i = firstEndingAfter(bars, cut) - 1; i >= 0 && count + visible.length <= limit; i--) {
        const x = bars[i]!;
        if (starts[i]! < floor) break;
        if (isClosed(x)) visible.push(x);
      }
      visible.reverse();
      chunks.unshift(visible);
      count += visible.length;
      walked++;
      empty = bars.length === 0 ? empty + 1 : 0;
      if (source === 'polygon' && empty >= MAX_EMPTY[timespan]) {
        exhausted = true;
        break;
      }
      b = prevBlock(timespan, b);
    }
    const all = chunks.flat();
    return { bars: all.slice(-limit), truncated: all.length > limit || (!exhausted && count < limit && walked >= maxBlocks) };
  }

  /** Closed bars with t >= from visible at upTo, walking blocks forward, the first `limit`. */
  async function earliestFrom(symbol: string, r: Resolved, timespan: Timespan, from: Date, upTo: Date, limit: number, after: number | null, q?: Q) {
    const source = r.source!;
    const first = r.spans?.find((s) => s.timespan === timespan)?.first;
    const start = new Date(Math.max(from.getTime(), first ? Date.parse(first) : -Infinity));
    const upMs = upTo.getTime();
    const fromMs = from.getTime();
    const out: StoredBar[] = [];
    let b = blockOf(timespan, start);
    let walked = 0;
    let capped = false;
    while (b.start.getTime() <= upMs && out.length <= limit) {
      if (walked >= MAX_BLOCKS[timespan] * 4) {
        capped = true;
        break;
      }
      const { bars, through } = await backend.block(symbol, timespan, source, b, upTo, q);
      const cut = Math.min(upMs, through);
      // Binary search to the first candidate, then only the bars in range: a replay step
      // reads one or two bars of a 390-bar block, not all of them.
      const stop = firstEndingAfter(bars, cut);
      for (let i = Math.max(firstStartingAtOrAfter(bars, fromMs), after === null ? 0 : firstEndingAfter(bars, after)); i < stop; i++) {
        if (isClosed(bars[i]!)) out.push(bars[i]!);
      }
      walked++;
      b = nextBlock(timespan, b);
    }
    return { bars: out.slice(0, limit), truncated: out.length > limit || capped };
  }

  async function quote(symbol: string, at: Date, withLast: boolean, q?: Q): Promise<PriceQuote | null> {
    const sym = norm(symbol);
    const r = await backend.resolve(sym, q);
    if (!r.source) return null;
    const source = r.source;
    const atIso = at.toISOString();
    const atMs = at.getTime();
    // Providers have every timespan: at a regular open the day bar starts too (same opening
    // price; one block per year instead of one per day), otherwise the minute bar.
    const session = sessionFor(nyLocal(at).date);
    const openOrder: Timespan[] =
      source === 'imported' ? spansOf(r) : session && session.open.getTime() === atMs ? ['day'] : ['minute'];
    let open: { bar: StoredBar; timespan: Timespan } | null = null;
    // the latest bar that started before `at` (its open is a trade seen by then)
    let started: { bar: StoredBar; timespan: Timespan; start: number } | null = null;
    for (const ts of openOrder) {
      const { bars, through } = await backend.block(sym, ts, source, blockOf(ts, at), at, q);
      const { starts } = indexOf(bars);
      const i = firstStartingAtOrAfter(bars, atMs);
      const hit = starts[i] === atMs ? bars[i] : undefined;
      // a block fetched before `at` may lack bars starting at `at`; those it has are real
      if (hit && atMs <= through) {
        open = { bar: hit, timespan: ts };
        break;
      }
      const j = firstStartingAtOrAfter(bars, Math.min(atMs, through) + 1) - 1;
      if (j >= 0 && (!started || starts[j]! > started.start)) started = { bar: bars[j]!, timespan: ts, start: starts[j]! };
    }
    let lastBar: (StoredBar & { timespan: Timespan }) | null = null;
    let lastDay: StoredBar | null = null;
    if (withLast || !open) {
      const lastOrder: Timespan[] = source === 'imported' ? spansOf(r) : ['minute', 'day'];
      for (const ts of lastOrder) {
        // providers: today's minutes only (yesterday's close is the day bar's)
        const blocks = source !== 'imported' && ts === 'minute' ? 1 : 3;
        const { bars } = await latest(sym, r, ts, at, 1, blocks, null, q);
        const b = bars.at(-1);
        if (!b) continue;
        if (ts === 'day') lastDay = b;
        // coarser wins a tie: a day bar's close is the official close, an hour's is not
        if (!lastBar || b.e >= lastBar.e) lastBar = { ...b, timespan: ts };
      }
    }
    if (!open) {
      const regular = session !== null && atMs >= session.open.getTime() && atMs < session.close.getTime();
      if (!regular && lastDay && lastDay.e >= sessionCloseBefore(at)) {
        // after the close and on closed days: the official close of the latest session
        const [adj] = await adjust(sym, source, [plain(lastDay)], at, q);
        const adjLast = lastBar ? { ...(await adjust(sym, source, [plain(lastBar)], at, q))[0]!, timespan: lastBar.timespan } : null;
        return { symbol: sym, price: adj!.c!, time: atIso, source, basis: 'daily_close', bar: { t: lastDay.t, timespan: 'day' }, lastBar: adjLast };
      }
      // between bar starts: the open of the latest bar that started, when no bar closed since
      if (started && (!lastBar || started.start >= lastBar.e)) {
        const [adj] = await adjust(sym, source, [plain(started.bar)], at, q);
        const adjLast = lastBar ? { ...(await adjust(sym, source, [plain(lastBar)], at, q))[0]!, timespan: lastBar.timespan } : null;
        return { symbol: sym, price: adj!.o, time: atIso, source, basis: 'latest_open', bar: { t: started.bar.t, timespan: started.timespan }, lastBar: adjLast };
      }
    }
    if (!open && !lastBar) return null;
    const [adjOpen] = open ? await adjust(sym, source, [plain(open.bar)], at, q) : [];
    let adjLast: TimedBar | null = null;
    if (lastBar) {
      const [a] = await adjust(sym, source, [plain(lastBar)], at, q);
      adjLast = { ...a!, timespan: lastBar.timespan };
    }
    return open
      ? { symbol: sym, price: adjOpen!.o, time: atIso, source, basis: 'open_at_clock', bar: { t: open.bar.t, timespan: open.timespan }, lastBar: adjLast }
      : { symbol: sym, price: adjLast!.c!, time: atIso, source, basis: 'last_close', bar: { t: adjLast!.t, timespan: adjLast!.timespan }, lastBar: adjLast };
  }

  return {
    fetches: backend.fetches,
    async priceAt(symbol, at, q) {
      const full = await quote(symbol, at, false, q);
      return full && { symbol: full.symbol, price: full.price, time: full.time, source: full.source, basis: full.basis };
    },
    quoteAt: (symbol, at, q) => quote(symbol, at, true, q),
    async isKnown(symbol, q) {
      return (await backend.resolve(norm(symbol), q)).source !== null;
    },
    async sourceOf(symbol, q) {
      return (await backend.resolve(norm(symbol), q)).source;
    },
    async timespansOf(symbol, q) {
      return spansOf(await backend.resolve(norm(symbol), q));
    },
    async barsAsOf(symbol, timespan, opts, q) {
      const sym = norm(symbol);
      const r = await backend.resolve(sym, q);
      if (!r.source) throw unknownSymbol(sym);
      const source = r.source;
      const upTo = new Date(Math.min(opts.to?.getTime() ?? Infinity, opts.asOf.getTime()));
      const limit = opts.limit ?? DEFAULT_LIMIT;
      if (!spansOf(r).includes(timespan) || (opts.from && opts.from > upTo)) return { bars: [], source, truncated: false };
      const found = opts.from
        ? await earliestFrom(sym, r, timespan, opts.from, upTo, limit, null, q)
        : await latest(sym, r, timespan, upTo, limit, MAX_BLOCKS[timespan], null, q);
      return { bars: await adjust(sym, source, found.bars.map(plain), opts.asOf, q), source, truncated: found.truncated };
    },
    async barsClosedBetween(symbol, timespan, after, upTo, q) {
      const sym = norm(symbol);
      const r = await backend.resolve(sym, q);
      if (!r.source || !spansOf(r).includes(timespan) || upTo <= after) return [];
      // a bar closing after `after` starts less than one bar length before it
      const from = new Date(after.getTime() - MAX_BAR_MS[timespan]);
      const found = await earliestFrom(sym, r, timespan, from, upTo, 100_000, after.getTime(), q);
      return adjust(sym, r.source, found.bars.map(plain), upTo, q);
    },
    listSymbols: (now, query, q) => backend.list(now, query, q),
    async corporateActions(symbol, q) {
      const sym = norm(symbol);
      const { source } = await backend.resolve(sym, q);
      if (!source || source === 'simulated') return [];
      const splits = await backend.splits(sym, source, q);
      const dividends = await backend.dividends(sym, source, q);
      return [
        ...splits.map((s): CorporateAction => ({ kind: 'split', symbol: sym, date: s.executionDate, splitFrom: s.splitFrom, splitTo: s.splitTo })),
        ...dividends.map((d): CorporateAction => ({ kind: 'dividend', symbol: sym, date: d.exDate, cashAmount: d.cashAmount })),
      ];
    },
    forget: (symbols) => backend.forget(symbols),
  };
}

// ---- the stored market: price_bars, Polygon, the simulated market, and the cache ----------------

export interface MarketOptions {
  sql: Sql;
  cache: Cache;
  config: Pick<Config, 'POLYGON_API_KEY' | 'POLYGON_BASE_URL' | 'POLYGON_REQUESTS_PER_MINUTE'>;
  /** Defaults to a Polygon source when config has POLYGON_API_KEY. */
  polygon?: PolygonSource | null;
  /** The wall clock (tests). */
  now?: () => Date;
}

const RESOLVE_TTL = 60;
/** Seconds a Polygon reference answer (the ticker exists or not) is kept. */
const REFERENCE_TTL = 86_400;
const BLOCK_TTL_COMPLETE = 900;
const BLOCK_TTL_PARTIAL = 20;
const SPLITS_TTL = 3600;
/** An incomplete Polygon block is fetched again at most this often. */
const REFETCH_MS = 60_000;
const SPLITS_RECHECK_MS = 86_400_000;

const inTransaction = (q: Q): boolean => 'savepoint' in q;

function generateSimulated(symbol: string, timespan: Timespan, b: Block): Bar[] {
  if (timespan === 'minute') return simulatedBars(symbol, 'minute', b.id);
  if (timespan === 'day') return simulatedDailyRange(symbol, b.firstDate, b.lastDate);
  return tradingDays(b.firstDate, b.lastDate).flatMap((d) => simulatedBars(symbol, 'hour', d));
}

function providerError(err: unknown): never {
  if (err instanceof ProviderError) throw new ToolError(`POLYGON_${err.code}`, err.message);
  throw err;
}

/** The market of every server: createMarket({ sql, cache, config }) in buildDeps. */
export function createMarket(opts: MarketOptions): Market {
  const { sql, cache, config } = opts;
  const wall = opts.now ?? (() => new Date());
  const polygon =
    opts.polygon !== undefined
      ? opts.polygon
      : config.POLYGON_API_KEY
        ? createPolygonSource({
            apiKey: config.POLYGON_API_KEY,
            baseUrl: config.POLYGON_BASE_URL,
            requestsPerMinute: config.POLYGON_REQUESTS_PER_MINUTE,
          })
        : null;
  const simulated = new Set(SIMULATED_SYMBOLS);
  // Transactions that stored bars or splits: what they read may yet be rolled back, so they
  // never write the cache (a later read in the same transaction would see its own writes).
  const wroteIn = new WeakSet<Q>();
  const mayCache = (q: Q) => !(inTransaction(q) && wroteIn.has(q));
  // Parsed copies of cached blocks: a replay reads the same block every step, and the
  // in-process cache hands back the same string, so the parse is skipped when it matches.
  const parsed = new Map<string, { raw: string; value: unknown }>();
  async function cachedJson<T>(key: string): Promise<T | null> {
    const raw = await cache.get(key);
    if (raw === null) return null;
    const memo = parsed.get(key);
    if (memo && memo.raw === raw) return memo.value as T;
    const value = JSON.parse(raw) as T;
    if (parsed.size > 500) parsed.clear();
    parsed.set(key, { raw, value });
    return value;
  }
  const resolveKey = (s: string) => `mkt:src:${s}`;
  const blockKey = (s: string, ts: Timespan, src: PriceSource, id: string) => `mkt:b:${src}:${s}:${ts}:${id}`;

  /**
   * Polygon's reference endpoint says whether a ticker exists (cached a day: it costs one of
   * the plan's requests per minute). When it cannot be asked (key, plan, network) the symbol
   * counts as Polygon's, as before, and the bars' fetch reports the provider's sentence.
   */
  async function polygonKnows(symbol: string): Promise<boolean> {
    const key = `mkt:ref:${symbol}`;
    const hit = await cache.get(key);
    if (hit !== null) return hit === '1';
    let known: boolean;
    try {
      known = await polygon!.tickerKnown(symbol);
    } catch (err) {
      if (err instanceof ProviderError) return true;
      throw err;
    }
    await cache.set(key, known ? '1' : '0', REFERENCE_TTL);
    return known;
  }

  const backend: Backend = {
    fetches: polygon !== null,
    async resolve(symbol, q = sql) {
      const hit = await cachedJson<Resolved>(resolveKey(symbol));
      if (hit) return hit;
      let r: Resolved;
      const spans = await importedSpans(q, symbol);
      if (spans.length) r = { source: 'imported', spans, splits: (await getSplits(q, symbol)).splits };
      else if ((await hasStoredBars(q, symbol, 'polygon')) || (polygon && (await polygonKnows(symbol)))) r = { source: 'polygon' };
      else if (simulated.has(symbol)) r = { source: 'simulated' };
      else r = { source: null };
      if (mayCache(q)) await setJson(cache, resolveKey(symbol), r, RESOLVE_TTL);
      return r;
    },

    async block(symbol, timespan, source, b, at, q = sql) {
      const key = blockKey(symbol, timespan, source, b.id);
      const hit = await cachedJson<{ bars: StoredBar[]; through: number | null }>(key);
      const atMs = at.getTime();
      if (hit) {
        const through = hit.through ?? Infinity; // JSON has no Infinity
        if (through === Infinity || atMs <= through) return { bars: hit.bars, through };
      }
      let through = Infinity;
      if (source === 'simulated' || (source === 'polygon' && polygon)) {
        const cov = await getCoverage(q, symbol, timespan, source, b.id);
        if (cov && !cov.complete) through = cov.fetchedThrough.getTime();
        if (!cov || (!cov.complete && atMs > through && atMs - through >= REFETCH_MS)) {
          await chargeFetch(`${symbol} ${timespan} bars for ${b.id}`); // bars a key's reads may store
          const now = wall();
          let bars: Bar[];
          let complete = true;
          if (source === 'simulated') bars = generateSimulated(symbol, timespan, b);
          else if (b.start > now) {
            bars = [];
            complete = false;
          } else {
            const today = nyLocal(now).date;
            const to = b.lastDate < today ? b.lastDate : today;
            bars = await polygon!.fetchBars(symbol, timespan, b.firstDate, to).catch(providerError);
            const lo = b.start.getTime();
            const hi = b.end.getTime();
            bars = bars.filter((x) => Date.parse(x.t) >= lo && Date.parse(x.t) < hi);
            complete = now >= b.end;
          }
          if (inTransaction(q)) wroteIn.add(q);
          await upsertBars(q, symbol, timespan, source, bars);
          await setCoverage(q, symbol, timespan, source, b.id, now, complete, bars.length);
          through = complete ? Infinity : now.getTime();
        }
      }
      const bars = await selectBars(q, symbol, timespan, source, b.start, b.end);
      if (mayCache(q)) {
        await setJson(cache, key, { bars, through: through === Infinity ? null : through }, through === Infinity ? BLOCK_TTL_COMPLETE : BLOCK_TTL_PARTIAL);
      }
      return { bars, through };
    },

    async splits(symbol, source, q = sql) {
      if (source === 'imported') return (await backend.resolve(symbol, q)).splits ?? [];
      const key = `mkt:splits:${symbol}`;
      const hit = await getJson<Split[]>(cache, key);
      if (hit) return hit;
      let { checkedAt, splits } = await getSplits(q, symbol);
      const now = wall();
      if (source === 'polygon' && polygon && (!checkedAt || now.getTime() - checkedAt.getTime() > SPLITS_RECHECK_MS)) {
        splits = await polygon.fetchSplits(symbol).catch(providerError);
        if (inTransaction(q)) wroteIn.add(q);
        await saveSplits(q, symbol, splits, now);
      }
      if (mayCache(q)) await setJson(cache, key, splits, SPLITS_TTL);
      return splits;
    },

    async dividends(symbol, source, q = sql) {
      const key = `mkt:dividends:${symbol}`;
      const hit = await getJson<Dividend[]>(cache, key);
      if (hit) return hit;
      let { checkedAt, dividends } = await getDividends(q, symbol);
      const now = wall();
      if (source === 'polygon' && polygon && (!checkedAt || now.getTime() - checkedAt.getTime() > SPLITS_RECHECK_MS)) {
        dividends = await polygon.fetchDividends(symbol).catch(providerError);
        if (inTransaction(q)) wroteIn.add(q);
        await saveDividends(q, symbol, dividends, now);
      }
      if (mayCache(q)) await setJson(cache, key, dividends, SPLITS_TTL);
      return dividends;
    },

    async list(now, query, q = sql) {
      const rows = await coverageSummary(q, now, query);
      const bySymbol = new Map<string, SymbolCoverage[]>();
      for (const { symbol, ...c } of rows) {
        if (!bySymbol.has(symbol)) bySymbol.set(symbol, []);
        bySymbol.get(symbol)!.push(c);
      }
      const needle = query?.toUpperCase();
      for (const s of SIMULATED_SYMBOLS) if (!bySymbol.has(s) && (!needle || s.includes(needle))) bySymbol.set(s, []);
      const out: SymbolInfo[] = [];
      for (const [symbol, coverage] of bySymbol) {
        const source: PriceSource = coverage.some((c) => c.source === 'imported')
          ? 'imported'
          : polygon || coverage.some((c) => c.source === 'polygon')
            ? 'polygon'
            : 'simulated';
        if (source === 'simulated' && !simulated.has(symbol)) continue;
        // show only what that symbol is served from
        out.push({ symbol, source, coverage: coverage.filter((c) => c.source === source) });
      }
      return out.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
    },

    async forget(symbols) {
      for (const { symbol, timespan, blocks } of symbols) {
        await cache.del(resolveKey(symbol));
        await cache.del(`mkt:splits:${symbol}`);
        await cache.del(`mkt:dividends:${symbol}`);
        for (const id of blocks) await cache.del(blockKey(symbol, timespan, 'imported', id));
      }
    },
  };
  return marketOver(backend);
}

/** Simulated-only market without storage: deterministic, needs no data and no key (unit tests). */
export function simulatedMarket(): Market {
  const simulated = new Set(SIMULATED_SYMBOLS);
  const blocks = new Map<string, StoredBar[]>();
  return marketOver({
    fetches: false,
    async resolve(symbol) {
      return { source: simulated.has(symbol) ? 'simulated' : null };
    },
    async block(symbol, timespan, _source, b) {
      const key = `${symbol}|${timespan}|${b.id}`;
      let bars = blocks.get(key);
      if (!bars) {
        if (blocks.size > 5_000) blocks.clear();
        bars = withEnd(timespan, generateSimulated(symbol, timespan, b));
        blocks.set(key, bars);
      }
      return { bars, through: Infinity };
    },
    async splits() {
      return [];
    },
    async dividends() {
      return [];
    },
    async list() {
      return SIMULATED_SYMBOLS.map((symbol) => ({ symbol, source: 'simulated' as const, coverage: [] }));
    },
    async forget() {},
  });
}
