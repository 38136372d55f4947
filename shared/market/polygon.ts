// Polygon.io as a bar source: unadjusted aggregates, splits and dividends through @polygon.io/client-js,
// with our own pagination, throttling, retries and plain-sentence errors.
//
// Notes on @polygon.io/client-js 8.2.0 (axios underneath):
// - Methods resolve to the response BODY (a response interceptor returns `res.data`), not an
//   axios response; HTTP errors reject with an AxiosError (`response.status`, `response.headers`,
//   `code` such as ECONNABORTED/ECONNREFUSED). The client adds no error mapping of its own.
// - Its `pagination: true` option is broken: it prepends each next page before the previous
//   one (results come out of order) and follows `next_url` to whatever host it names. We leave
//   it off and follow `next_url` ourselves, always on the configured base URL.
// - No method takes a `cursor` argument, but the last argument is an axios request config that
//   is spread into the request, so `{ params: { cursor } }` reaches the query string.
// - The client sets no timeout; we pass one per request.

import { restClient, GetStocksAggregatesSortEnum, ListDividendsOrderEnum, ListDividendsSortEnum, ListStockSplitsOrderEnum, ListStockSplitsSortEnum } from '@polygon.io/client-js';
import type { GetStocksAggregatesTimespanEnum } from '@polygon.io/client-js';
import type { Bar } from '../domain/types.js';
import { nyLocal, nyToUtc } from '../domain/ny-time.js';
import { roundPrice } from '../domain/money.js';

export type PolygonTimespan = 'minute' | 'hour' | 'day';

export interface Split {
  /** YYYY-MM-DD: the first session traded on the new share basis. */
  executionDate: string;
  splitFrom: number;
  splitTo: number;
}

export interface Dividend {
  /** YYYY-MM-DD: the first session the shares trade without the dividend. */
  exDate: string;
  /** Dollars per share. */
  cashAmount: number;
  payDate: string | null;
}

export type ProviderErrorCode = 'AUTH' | 'FORBIDDEN' | 'RATE_LIMITED' | 'TIMEOUT' | 'UNAVAILABLE' | 'BAD_RESPONSE';

export class ProviderError extends Error {
  constructor(
    public readonly code: ProviderErrorCode,
    message: string,
    public readonly status?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export interface PolygonSourceOptions {
  apiKey: string;
  baseUrl?: string;
  /** Free plans allow 5 requests per minute. */
  requestsPerMinute?: number;
  timeoutMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PolygonSource {
  fetchBars(symbol: string, timespan: PolygonTimespan, fromDate: string, toDate: string): Promise<Bar[]>;
  fetchSplits(symbol: string): Promise<Split[]>;
  /** Cash dividends (every dividend_type: regular, special, capital gains), by ex-date. */
  fetchDividends(symbol: string): Promise<Dividend[]>;
  /**
   * Whether Polygon knows the ticker (its reference endpoint, GET /v3/reference/tickers/{ticker}):
   * false on its 404. Throws ProviderError when it cannot be asked (key, plan, network).
   */
  tickerKnown(symbol: string): Promise<boolean>;
}

export const POLYGON_DEFAULT_BASE_URL = 'https://api.polygon.io';
const WINDOW_MS = 60_000;
const MAX_RATE_LIMIT_RETRIES = 3;
const AGGS_LIMIT = 50_000;
const SPLITS_LIMIT = 1000;
const DIVIDENDS_LIMIT = 1000;

interface AggResult {
  t?: unknown;
  o?: unknown;
  h?: unknown;
  l?: unknown;
  c?: unknown;
  v?: unknown;
}

interface PageBody {
  results?: unknown[];
  next_url?: string;
}

export function createPolygonSource(opts: PolygonSourceOptions): PolygonSource {
  const baseUrl = (opts.baseUrl ?? POLYGON_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const rpm = Math.max(1, opts.requestsPerMinute ?? 5);
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const now = opts.now ?? (() => Date.now());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const client = restClient(opts.apiKey, baseUrl);

  // Sliding window: start times of the requests made in the last minute.
  const sent: number[] = [];
  const prune = (): void => {
    const t = now();
    while (sent.length > 0 && sent[0]! <= t - WINDOW_MS) sent.shift();
  };
  /** How long until the window has room for one more request. */
  const windowWait = (): number => {
    prune();
    if (sent.length < rpm) return 0;
    return Math.max(0, sent[sent.length - rpm]! + WINDOW_MS - now());
  };
  // Serialize requests so concurrent callers share one window.
  let queue: Promise<unknown> = Promise.resolve();

  async function throttled<T>(what: string, call: (axiosOptions: Record<string, unknown>) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        let wait = windowWait();
        while (wait > 0) {
          await sleep(wait);
          wait = windowWait();
        }
        sent.push(now());
        try {
          return await call({ timeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
        } catch (err) {
          const status = httpStatus(err);
          if (status !== 429) throw toProviderError(err, what, timeoutMs);
          if (attempt >= MAX_RATE_LIMIT_RETRIES) {
            throw new ProviderError(
              'RATE_LIMITED',
              `Polygon kept refusing requests for ${what} as over the rate limit (HTTP 429) after ${MAX_RATE_LIMIT_RETRIES} retries: lower POLYGON requests per minute or try again later.`,
              429,
            );
          }
          const retryAfter = retryAfterMs(err);
          // Without Retry-After, treat the window as full: wait for its oldest request to age out.
          prune();
          const pause = retryAfter ?? Math.max(0, (sent[0] ?? now()) + WINDOW_MS - now());
          if (pause > 0) await sleep(pause);
        }
      }
    };
    const p = queue.then(run, run);
    queue = p.catch(() => undefined);
    return p;
  }

  /** Follows next_url page by page; each next page keeps our parameters plus its cursor. */
  async function paginate(
    what: string,
    first: (axiosOptions: Record<string, unknown>) => Promise<PageBody>,
    next: (nextUrl: URL, axiosOptions: Record<string, unknown>) => Promise<PageBody>,
  ): Promise<unknown[]> {
    const all: unknown[] = [];
    let body = await throttled(what, first);
    for (;;) {
      if (body === null || typeof body !== 'object') {
        throw new ProviderError('BAD_RESPONSE', `Polygon answered ${what} with something that is not a JSON object.`);
      }
      if (body.results !== undefined && !Array.isArray(body.results)) {
        throw new ProviderError('BAD_RESPONSE', `Polygon answered ${what} with "results" that is not a list.`);
      }
      all.push(...(body.results ?? []));
      if (!body.next_url) return all;
      let nextUrl: URL;
      try {
        nextUrl = new URL(body.next_url, baseUrl);
      } catch {
        throw new ProviderError('BAD_RESPONSE', `Polygon answered ${what} with an unreadable next_url.`);
      }
      if (!nextUrl.searchParams.get('cursor')) {
        throw new ProviderError('BAD_RESPONSE', `Polygon answered ${what} with a next_url that has no cursor.`);
      }
      body = await throttled(what, (o) => next(nextUrl, o));
    }
  }

  return {
    async fetchBars(symbol, timespan, fromDate, toDate) {
      const what = `${timespan} bars of ${symbol} from ${fromDate} to ${toDate}`;
      const get = (from: string, to: string, cursor: string | undefined, o: Record<string, unknown>) =>
        client.getStocksAggregates(
          symbol,
          1,
          timespan as GetStocksAggregatesTimespanEnum,
          from,
          to,
          false,
          GetStocksAggregatesSortEnum.Asc,
          AGGS_LIMIT,
          cursor ? { ...o, params: { cursor } } : o,
        ) as Promise<PageBody>;
      const raw = await paginate(
        what,
        (o) => get(fromDate, toDate, undefined, o),
        (url, o) => {
          // Polygon's aggregate next_url moves the {from} path segment forward (to a ms timestamp)
          // and the cursor alone does not say where the page starts, so take from/to from it.
          const m = /\/range\/\d+\/[a-z]+\/([^/]+)\/([^/?]+)$/.exec(url.pathname);
          const from = m ? decodeURIComponent(m[1]!) : fromDate;
          const to = m ? decodeURIComponent(m[2]!) : toDate;
          return get(from, to, url.searchParams.get('cursor')!, o);
        },
      );
      const bars = raw.map((r) => toBar(r as AggResult, timespan, what));
      bars.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
      return bars;
    },

    async fetchSplits(symbol) {
      const what = `splits of ${symbol}`;
      const get = (cursor: string | undefined, o: Record<string, unknown>) =>
        client.listStockSplits(
          symbol,
          undefined, undefined, undefined, undefined, undefined, undefined,
          undefined, undefined, undefined, undefined,
          ListStockSplitsOrderEnum.Asc,
          SPLITS_LIMIT,
          ListStockSplitsSortEnum.ExecutionDate,
          cursor ? { ...o, params: { cursor } } : o,
        ) as Promise<PageBody>;
      const raw = await paginate(what, (o) => get(undefined, o), (url, o) => get(url.searchParams.get('cursor')!, o));
      const splits = raw.map((r) => toSplit(r, what));
      splits.sort((a, b) => (a.executionDate < b.executionDate ? -1 : a.executionDate > b.executionDate ? 1 : 0));
      return splits;
    },

    async tickerKnown(symbol) {
      try {
        const body = (await throttled(`reference data of ${symbol}`, (o) => client.getTicker(symbol, undefined, o))) as { results?: unknown } | null;
        return body !== null && typeof body === 'object' && body.results !== undefined && body.results !== null;
      } catch (err) {
        if (err instanceof ProviderError && err.status === 404) return false;
        throw err;
      }
    },

    async fetchDividends(symbol) {
      const what = `dividends of ${symbol}`;
      const get = (cursor: string | undefined, o: Record<string, unknown>) =>
        // 31 optional filters (ex-date, record date, pay date, amount ranges…) come first
        (client.listDividends as (...args: unknown[]) => Promise<unknown>)(
          symbol,
          ...new Array(31).fill(undefined),
          ListDividendsOrderEnum.Asc,
          DIVIDENDS_LIMIT,
          ListDividendsSortEnum.ExDividendDate,
          cursor ? { ...o, params: { cursor } } : o,
        ) as Promise<PageBody>;
      const raw = await paginate(what, (o) => get(undefined, o), (url, o) => get(url.searchParams.get('cursor')!, o));
      const dividends = raw.map((r) => toDividend(r, what));
      dividends.sort((a, b) => (a.exDate < b.exDate ? -1 : a.exDate > b.exDate ? 1 : 0));
      return dividends;
    },
  };
}

function toBar(r: AggResult, timespan: PolygonTimespan, what: string): Bar {
  if (typeof r?.t !== 'number' || typeof r.o !== 'number') {
    throw new ProviderError('BAD_RESPONSE', `Polygon answered ${what} with a bar lacking a numeric "t" or "o".`);
  }
  const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  const price = (x: unknown): number | null => {
    const n = num(x);
    return n === null ? null : roundPrice(n);
  };
  let t: string;
  if (timespan === 'day') {
    // Polygon stamps a daily bar at midnight New York of its date; ours start at the 09:30 open.
    t = nyToUtc(nyLocal(new Date(r.t)).date, '09:30').toISOString();
  } else {
    t = new Date(r.t).toISOString();
  }
  return { t, o: roundPrice(r.o), h: price(r.h), l: price(r.l), c: price(r.c), v: num(r.v) };
}

function toSplit(r: unknown, what: string): Split {
  const s = r as { execution_date?: unknown; split_from?: unknown; split_to?: unknown };
  if (
    typeof s?.execution_date !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}$/.test(s.execution_date) ||
    typeof s.split_from !== 'number' ||
    typeof s.split_to !== 'number' ||
    !(s.split_from > 0) ||
    !(s.split_to > 0)
  ) {
    throw new ProviderError('BAD_RESPONSE', `Polygon answered ${what} with a split lacking execution_date, split_from or split_to.`);
  }
  return { executionDate: s.execution_date, splitFrom: s.split_from, splitTo: s.split_to };
}

function toDividend(r: unknown, what: string): Dividend {
  const d = r as { ex_dividend_date?: unknown; cash_amount?: unknown; pay_date?: unknown };
  if (typeof d?.ex_dividend_date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(d.ex_dividend_date) || typeof d.cash_amount !== 'number' || !(d.cash_amount >= 0)) {
    throw new ProviderError('BAD_RESPONSE', `Polygon answered ${what} with a dividend lacking ex_dividend_date or cash_amount.`);
  }
  return { exDate: d.ex_dividend_date, cashAmount: d.cash_amount, payDate: typeof d.pay_date === 'string' ? d.pay_date : null };
}

/**
 * Split-adjusts unadjusted bars as of a clock: only splits executed on or before asOf's
 * New York date count, so a replay never sees a split from its future. Bars dated before a
 * split's execution date get prices ÷ ratio and volume × ratio (ratio = splitTo / splitFrom).
 */
export function applySplits(bars: Bar[], splits: Split[], asOf: Date): Bar[] {
  const asOfDate = nyLocal(asOf).date;
  const known = splits.filter((s) => s.executionDate <= asOfDate && s.splitFrom > 0 && s.splitTo > 0);
  if (known.length === 0) return bars.map((b) => ({ ...b }));
  return bars.map((b) => {
    const date = nyLocal(new Date(b.t)).date;
    let ratio = 1;
    for (const s of known) if (date < s.executionDate) ratio *= s.splitTo / s.splitFrom;
    if (ratio === 1) return { ...b };
    const adj = (p: number | null): number | null => (p === null ? null : roundPrice(p / ratio));
    return {
      t: b.t,
      o: roundPrice(b.o / ratio),
      h: adj(b.h),
      l: adj(b.l),
      c: adj(b.c),
      v: b.v === null ? null : Math.round(b.v * ratio),
    };
  });
}

// ---- error mapping (the client rejects with AxiosError; we only duck-type it) ----

interface AxiosLikeError {
  code?: string;
  message?: string;
  name?: string;
  response?: { status?: number; headers?: Record<string, unknown> & { get?: (h: string) => unknown }; data?: unknown };
}

function httpStatus(err: unknown): number | undefined {
  const s = (err as AxiosLikeError)?.response?.status;
  return typeof s === 'number' ? s : undefined;
}

function retryAfterMs(err: unknown): number | null {
  const headers = (err as AxiosLikeError)?.response?.headers;
  if (!headers) return null;
  const raw = typeof headers.get === 'function' ? headers.get('retry-after') : headers['retry-after'];
  if (raw === undefined || raw === null || raw === '') return null;
  const secs = Number(raw);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(String(raw));
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

function polygonSays(err: unknown): string {
  const data = (err as AxiosLikeError)?.response?.data as { error?: unknown; message?: unknown } | undefined;
  const text = typeof data?.error === 'string' ? data.error : typeof data?.message === 'string' ? data.message : '';
  return text ? ` Polygon said: "${text}".` : '';
}

function toProviderError(err: unknown, what: string, timeoutMs: number): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as AxiosLikeError;
  const status = httpStatus(err);
  const secs = `${Number((timeoutMs / 1000).toFixed(1))}s`;
  if (status === 401) {
    return new ProviderError('AUTH', `Polygon refused the API key (HTTP 401): check POLYGON_API_KEY.${polygonSays(err)}`, 401);
  }
  if (status === 403) {
    return new ProviderError(
      'FORBIDDEN',
      `Polygon's plan does not include this data (HTTP 403) for ${what}: upgrade the plan or use imported or simulated data.${polygonSays(err)}`,
      403,
    );
  }
  if (status !== undefined && status >= 500) {
    return new ProviderError('UNAVAILABLE', `Polygon failed while serving ${what} (HTTP ${status}); try again later.`, status);
  }
  if (status !== undefined) {
    return new ProviderError('BAD_RESPONSE', `Polygon rejected the request for ${what} (HTTP ${status}).${polygonSays(err)}`, status);
  }
  const code = e?.code ?? '';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED' || e?.name === 'TimeoutError') {
    return new ProviderError('TIMEOUT', `Polygon did not answer within ${secs} for ${what}; try again later.`);
  }
  return new ProviderError(
    'UNAVAILABLE',
    `Polygon could not be reached for ${what}${code ? ` (${code})` : ''}: check the network and POLYGON_BASE_URL.`,
  );
}
