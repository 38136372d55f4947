// price_bars and its companions: the stored copy of every bar served. SQL only; the as-of
// rule and source resolution live in market.ts.
import type { Q } from '../db/database.js';
import { barEnd } from '../domain/calendar.js';
import type { Bar, PriceSource, Timespan } from '../domain/types.js';
import type { Dividend, Split } from './polygon.js';

const BATCH = 2000;

/** Inserts or replaces bars (by symbol, timespan, t); t_end comes from the calendar. */
export async function upsertBars(q: Q, symbol: string, timespan: Timespan, source: PriceSource, bars: Bar[]): Promise<number> {
  for (let i = 0; i < bars.length; i += BATCH) {
    const rows = bars.slice(i, i + BATCH).map((b) => ({
      symbol,
      timespan,
      t: b.t,
      t_end: barEnd(timespan, new Date(b.t)).toISOString(),
      o: b.o,
      h: b.h,
      l: b.l,
      c: b.c,
      v: b.v === null ? null : Math.round(b.v),
      source,
    }));
    await q`
      insert into price_bars ${q(rows, 'symbol', 'timespan', 't', 't_end', 'o', 'h', 'l', 'c', 'v', 'source')}
      on conflict (symbol, timespan, t) do update
        set t_end = excluded.t_end, o = excluded.o, h = excluded.h, l = excluded.l, c = excluded.c, v = excluded.v, source = excluded.source
        where (price_bars.t_end, price_bars.o, price_bars.h, price_bars.l, price_bars.c, price_bars.v, price_bars.source)
          is distinct from (excluded.t_end, excluded.o, excluded.h, excluded.l, excluded.c, excluded.v, excluded.source)`;
  }
  return bars.length;
}

const toNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A stored bar with its close instant `e` (ms): the as-of filter needs no calendar work. */
export interface StoredBar extends Bar {
  e: number;
}

/** Bars of one source with start in [from, to), ascending. */
export async function selectBars(q: Q, symbol: string, timespan: Timespan, source: PriceSource, from: Date, to: Date): Promise<StoredBar[]> {
  const rows = await q`
    select t, t_end, o, h, l, c, v from price_bars
    where symbol = ${symbol} and timespan = ${timespan} and source = ${source} and t >= ${from} and t < ${to}
    order by t`;
  return rows.map((r) => ({
    t: (r.t as Date).toISOString(),
    o: Number(r.o),
    h: toNum(r.h),
    l: toNum(r.l),
    c: toNum(r.c),
    v: toNum(r.v),
    e: (r.t_end as Date).getTime(),
  }));
}

export interface StoredSpan {
  timespan: Timespan;
  first: string;
  last: string;
}

/** Timespans with imported bars for a symbol, with their first and last bar start. */
export async function importedSpans(q: Q, symbol: string): Promise<StoredSpan[]> {
  const rows = await q`
    select timespan, min(t) as first, max(t) as last from price_bars
    where symbol = ${symbol} and source = 'imported' group by timespan`;
  return rows.map((r) => ({ timespan: r.timespan, first: new Date(r.first).toISOString(), last: new Date(r.last).toISOString() }));
}

export async function hasStoredBars(q: Q, symbol: string, source: PriceSource): Promise<boolean> {
  const rows = await q`select 1 from price_bars where symbol = ${symbol} and source = ${source} limit 1`;
  return rows.length > 0;
}

export interface Coverage {
  fetchedThrough: Date;
  complete: boolean;
}

export async function getCoverage(q: Q, symbol: string, timespan: Timespan, source: PriceSource, block: string): Promise<Coverage | null> {
  const [r] = await q`
    select fetched_through, complete from price_coverage
    where symbol = ${symbol} and timespan = ${timespan} and source = ${source} and block = ${block}`;
  return r ? { fetchedThrough: new Date(r.fetched_through), complete: r.complete } : null;
}

export async function setCoverage(
  q: Q,
  symbol: string,
  timespan: Timespan,
  source: PriceSource,
  block: string,
  fetchedThrough: Date,
  complete: boolean,
  barCount: number,
): Promise<void> {
  await q`
    insert into price_coverage (symbol, timespan, source, block, fetched_through, complete, bar_count)
    values (${symbol}, ${timespan}, ${source}, ${block}, ${fetchedThrough}, ${complete}, ${barCount})
    on conflict (symbol, timespan, source, block) do update
      set fetched_through = excluded.fetched_through, complete = excluded.complete, bar_count = excluded.bar_count`;
}

export interface CoverageRow {
  symbol: string;
  timespan: Timespan;
  source: PriceSource;
  from: string;
  /** Start of the latest closed bar (an open-only bar never counts as closed); null if none. */
  to: string | null;
  bars: number;
  open_only: number;
}

/** What is stored per symbol, timespan and source, of the bars whose close is at or before `now`. */
export async function coverageSummary(q: Q, now: Date, query?: string): Promise<CoverageRow[]> {
  const like = query ? `%${query.toUpperCase().replace(/[\\%_]/g, (m) => '\\' + m)}%` : null;
  const rows = await q`
    select symbol, timespan, source, min(t) as first, max(t) filter (where c is not null) as last, count(*)::int as bars,
           count(*) filter (where c is null)::int as open_only
    from price_bars
    where t_end <= ${now} ${like ? q`and symbol like ${like}` : q``}
    group by symbol, timespan, source
    order by symbol, timespan, source`;
  return rows.map((r) => ({
    symbol: r.symbol,
    timespan: r.timespan,
    source: r.source,
    from: new Date(r.first).toISOString(),
    to: r.last === null ? null : new Date(r.last).toISOString(),
    bars: r.bars,
    open_only: r.open_only,
  }));
}

export async function getSplits(q: Q, symbol: string): Promise<{ checkedAt: Date | null; splits: Split[] }> {
  const [check] = await q`select checked_at from price_split_checks where symbol = ${symbol}`;
  const rows = await q`select execution_date::text as d, split_from, split_to from price_splits where symbol = ${symbol} order by execution_date`;
  return {
    checkedAt: check ? new Date(check.checked_at) : null,
    splits: rows.map((r) => ({ executionDate: r.d, splitFrom: Number(r.split_from), splitTo: Number(r.split_to) })),
  };
}

/** Stores splits; with `checkedAt`, records that the provider was asked then (imports pass null). */
export async function saveSplits(q: Q, symbol: string, splits: Split[], checkedAt: Date | null): Promise<void> {
  for (const s of splits) {
    await q`
      insert into price_splits (symbol, execution_date, split_from, split_to)
      values (${symbol}, ${s.executionDate}, ${s.splitFrom}, ${s.splitTo})
      on conflict (symbol, execution_date) do update set split_from = excluded.split_from, split_to = excluded.split_to`;
  }
  if (!checkedAt) return;
  await q`
    insert into price_split_checks (symbol, checked_at) values (${symbol}, ${checkedAt})
    on conflict (symbol) do update set checked_at = excluded.checked_at`;
}

export async function getDividends(q: Q, symbol: string): Promise<{ checkedAt: Date | null; dividends: Dividend[] }> {
  const [check] = await q`select checked_at from price_dividend_checks where symbol = ${symbol}`;
  const rows = await q`select ex_date::text as d, cash_amount, pay_date::text as p from price_dividends where symbol = ${symbol} order by ex_date`;
  return {
    checkedAt: check ? new Date(check.checked_at) : null,
    dividends: rows.map((r) => ({ exDate: r.d, cashAmount: Number(r.cash_amount), payDate: r.p ?? null })),
  };
}

/** Stores dividends; with `checkedAt`, records that the provider was asked then. */
export async function saveDividends(q: Q, symbol: string, dividends: Dividend[], checkedAt: Date | null): Promise<void> {
  for (const d of dividends) {
    await q`
      insert into price_dividends (symbol, ex_date, cash_amount, pay_date)
      values (${symbol}, ${d.exDate}, ${d.cashAmount}, ${d.payDate})
      on conflict (symbol, ex_date) do update set cash_amount = excluded.cash_amount, pay_date = excluded.pay_date`;
  }
  if (checkedAt) {
    await q`
      insert into price_dividend_checks (symbol, checked_at) values (${symbol}, ${checkedAt})
      on conflict (symbol) do update set checked_at = excluded.checked_at`;
  }
}

