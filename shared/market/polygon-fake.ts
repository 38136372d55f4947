// A loopback stand-in for api.polygon.io, answering in Polygon's documented shapes for
// aggregates, splits and dividends, with pagination, auth failures and rate limiting on demand.
// Tests point POLYGON_BASE_URL (or createPolygonSource's baseUrl) at `url`.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nyToUtc } from '../domain/ny-time.js';

/** One aggregate as Polygon returns it: t is the bar start in ms (daily: NY midnight). */
export interface FakeAgg {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  vw?: number;
  n?: number;
}

export interface FakeSplit {
  execution_date: string;
  split_from: number;
  split_to: number;
}

export interface FakeDividend {
  ex_dividend_date: string;
  cash_amount: number;
  pay_date?: string;
  dividend_type?: string;
}

export interface PolygonFakeOptions {
  /** Aggregates per "TICKER/timespan" (e.g. "AAPL/day"), or per "TICKER" for every timespan. */
  aggs?: Record<string, FakeAgg[]>;
  splits?: Record<string, FakeSplit[]>;
  dividends?: Record<string, FakeDividend[]>;
  /**
   * Tickers the reference endpoint (/v3/reference/tickers/{ticker}) knows; default: every
   * ticker with aggregates, splits or dividends here. Any other ticker gets Polygon's 404.
   */
  tickers?: string[];
  /** Results per page (default: all in one page). */
  pageSize?: number;
  /** When set, any other apiKey gets 401. A missing apiKey always gets 401. */
  apiKey?: string;
  /** 'unauthorized' → 401, 'forbidden' → 403, 'hang' → never answers, 'error' → 500. */
  mode?: 'ok' | 'unauthorized' | 'forbidden' | 'hang' | 'error';
  /** Answer 429 to this many requests before serving normally. */
  rateLimitFirst?: number;
  /** Retry-After (seconds) sent with each 429; null sends none. Default 1. */
  retryAfterSeconds?: number | null;
  /** Awaited before each request is answered (tests observe what the caller holds meanwhile). */
  onRequest?: (path: string) => Promise<void> | void;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

export interface PolygonFake {
  url: string;
  requests: FakeRequest[];
  set(patch: Partial<PolygonFakeOptions>): void;
  close(): Promise<void>;
}

const AGGS_PATH = /^\/v2\/aggs\/ticker\/([^/]+)\/range\/(\d+)\/([a-z]+)\/([^/]+)\/([^/]+)$/;

export async function startPolygonFake(initial: PolygonFakeOptions = {}): Promise<PolygonFake> {
  const opts: PolygonFakeOptions = { retryAfterSeconds: 1, ...initial };
  const requests: FakeRequest[] = [];
  let limited = 0;
  let requestSeq = 0;
  let url = '';

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const hook = opts.onRequest;
    if (!hook) return answer(req, res);
    void Promise.resolve()
      .then(() => hook(decodeURIComponent(new URL(req.url ?? '/', 'http://fake').pathname)))
      .then(
        () => answer(req, res),
        () => answer(req, res),
      );
  };

  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const u = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(u.searchParams.entries());
    const record: FakeRequest = { method: req.method ?? 'GET', path: decodeURIComponent(u.pathname), query, status: 0 };
    requests.push(record);
    const requestId = `fake-${++requestSeq}`;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };

    if (opts.mode === 'hang') return; // the client's timeout must end this
    if (opts.mode === 'error') return send(500, { status: 'ERROR', request_id: requestId, error: 'Internal error' });
    if (!query.apiKey) {
      return send(401, { status: 'ERROR', request_id: requestId, error: 'API Key was not provided' });
    }
    if (opts.mode === 'unauthorized' || (opts.apiKey !== undefined && query.apiKey !== opts.apiKey)) {
      return send(401, { status: 'ERROR', request_id: requestId, error: 'Unknown API Key' });
    }
    if (opts.mode === 'forbidden') {
      return send(403, {
        status: 'NOT_AUTHORIZED',
        request_id: requestId,
        message: 'You are not entitled to this data. Please upgrade your plan at https://polygon.io/pricing',
      });
    }
    if (limited < (opts.rateLimitFirst ?? 0)) {
      limited++;
      const headers: Record<string, string> = {};
      if (opts.retryAfterSeconds !== null && opts.retryAfterSeconds !== undefined) {
        headers['retry-after'] = String(opts.retryAfterSeconds);
      }
      return send(
        429,
        {
          status: 'ERROR',
          request_id: requestId,
          error: "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue.",
        },
        headers,
      );
    }

    const aggs = AGGS_PATH.exec(u.pathname);
    if (aggs) {
      const [, rawTicker, multiplier, timespan, from, to] = aggs as unknown as [string, string, string, string, string, string];
      const ticker = decodeURIComponent(rawTicker);
      const all = opts.aggs?.[`${ticker}/${timespan}`] ?? opts.aggs?.[ticker] ?? [];
      const lo = boundMs(decodeURIComponent(from), 'from');
      const hi = boundMs(decodeURIComponent(to), 'to');
      const desc = query.sort === 'desc';
      const inRange = all.filter((a) => a.t >= lo && a.t <= hi).sort((a, b) => (desc ? b.t - a.t : a.t - b.t));
      const limit = Math.min(Number(query.limit ?? 5000) || 5000, opts.pageSize ?? Infinity);
      const page = inRange.slice(0, limit);
      const body: Record<string, unknown> = {
        ticker,
        queryCount: page.length,
        resultsCount: page.length,
        adjusted: query.adjusted !== 'false',
        results: page,
        status: 'OK',
        request_id: requestId,
      };
      if (inRange.length > limit && !desc) {
        // Like Polygon: the next page's start moves into the {from} segment (a ms timestamp)
        // and the cursor carries the paging parameters.
        const nextFrom = inRange[limit]!.t;
        const cursor = Buffer.from(`limit=${limit}&sort=asc`).toString('base64url');
        body.next_url = `${url}/v2/aggs/ticker/${encodeURIComponent(ticker)}/range/${multiplier}/${timespan}/${nextFrom}/${to}?cursor=${cursor}`;
      }
      return send(200, body);
    }

    // v3 ticker details: known tickers answer with a results object, others 404 as Polygon does
    const details = /^\/v3\/reference\/tickers\/([^/]+)$/.exec(u.pathname);
    if (details) {
      const ticker = decodeURIComponent(details[1]!);
      const known =
        opts.tickers ??
        [...Object.keys(opts.aggs ?? {}).map((k) => k.split('/')[0]!), ...Object.keys(opts.splits ?? {}), ...Object.keys(opts.dividends ?? {})];
      if (!known.includes(ticker)) return send(404, { status: 'NOT_FOUND', request_id: requestId, message: 'Ticker not found.' });
      return send(200, { results: { ticker, name: `${ticker} (fake)`, market: 'stocks', locale: 'us', active: true }, status: 'OK', request_id: requestId });
    }

    // v3 reference lists (splits, dividends): one ticker, by date, paged by an offset cursor
    const v3Lists: Record<string, { all: () => Record<string, Record<string, unknown>[]>; date: string }> = {
      '/v3/reference/splits': { all: () => (opts.splits ?? {}) as any, date: 'execution_date' },
      '/v3/reference/dividends': { all: () => (opts.dividends ?? {}) as any, date: 'ex_dividend_date' },
    };
    const list = v3Lists[u.pathname];
    if (list) {
      let offset = 0;
      let ticker = query.ticker;
      if (query.cursor) {
        // v3 cursors carry the whole query, the offset included.
        const c = new URLSearchParams(Buffer.from(query.cursor, 'base64url').toString());
        offset = Number(c.get('offset') ?? 0);
        ticker = c.get('ticker') ?? ticker;
      }
      const byTicker = list.all();
      const key = (x: Record<string, unknown>) => String(x[list.date]);
      const all = [...(ticker ? (byTicker[ticker] ?? []) : Object.values(byTicker).flat())].sort((a, b) =>
        query.order === 'desc' ? key(b).localeCompare(key(a)) : key(a).localeCompare(key(b)),
      );
      const limit = Math.min(Number(query.limit ?? 10) || 10, opts.pageSize ?? Infinity);
      const page = all.slice(offset, offset + limit).map((s) => ({ ...s, ticker: ticker ?? '' }));
      const body: Record<string, unknown> = { results: page, status: 'OK', request_id: requestId };
      if (offset + limit < all.length) {
        const cursor = Buffer.from(`ticker=${ticker ?? ''}&offset=${offset + limit}&limit=${limit}`).toString('base64url');
        body.next_url = `${url}${u.pathname}?cursor=${cursor}`;
      }
      return send(200, body);
    }

    return send(404, { status: 'NOT_FOUND', request_id: requestId, message: 'Not found' });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    set(patch) {
      Object.assign(opts, patch);
      if (patch.rateLimitFirst !== undefined) limited = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** A from/to path segment (YYYY-MM-DD or ms) as an inclusive ms bound, dates in New York. */
function boundMs(segment: string, side: 'from' | 'to'): number {
  if (/^\d+$/.test(segment)) return Number(segment);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(segment)) return side === 'from' ? Infinity : -Infinity;
  const start = nyToUtc(segment, '00:00').getTime();
  if (side === 'from') return start;
  const next = new Date(Date.UTC(Number(segment.slice(0, 4)), Number(segment.slice(5, 7)) - 1, Number(segment.slice(8, 10)) + 1));
  return nyToUtc(next.toISOString().slice(0, 10), '00:00').getTime() - 1;
}

/** Polygon's stamp for a daily bar: midnight New York of the date, in ms. */
export function polygonDayMs(date: string): number {
  return nyToUtc(date, '00:00').getTime();
}
