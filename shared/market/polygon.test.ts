import { afterEach, describe, expect, it } from 'vitest';
import { applySplits, createPolygonSource, ProviderError, type Split } from './polygon.js';
import { polygonDayMs, startPolygonFake, type FakeAgg, type PolygonFake } from './polygon-fake.js';
import type { Bar } from '../domain/types.js';

const KEY = 'test-key';
let fake: PolygonFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** A fake clock: sleeping advances it instantly and is recorded. */
function fakeClock() {
  const clock = { t: 0, sleeps: [] as number[] };
  return {
    clock,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
}

function minuteAggs(n: number, startIso = '2025-10-29T13:30:00.000Z'): FakeAgg[] {
  const start = Date.parse(startIso);
  return Array.from({ length: n }, (_, i) => ({
    t: start + i * 60_000,
    o: 100 + i,
    h: 101 + i,
    l: 99 + i,
    c: 100.5 + i,
    v: 1000 + i,
  }));
}

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a rejection');
}

describe('createPolygonSource against the fake', () => {
  it('follows next_url cursors across three pages and returns every bar in order', async () => {
    const aggs = minuteAggs(7);
    fake = await startPolygonFake({ aggs: { AAPL: aggs }, pageSize: 3, apiKey: KEY });
    const c = fakeClock();
    const src = createPolygonSource({ apiKey: KEY, baseUrl: fake.url, now: c.now, sleep: c.sleep });

    const bars = await src.fetchBars('AAPL', 'minute', '2025-10-29', '2025-10-29');

    expect(bars.map((b) => b.t)).toEqual(aggs.map((a) => new Date(a.t).toISOString()));
    expect(bars[0]).toEqual({ t: '2025-10-29T13:30:00.000Z', o: 100, h: 101, l: 99, c: 100.5, v: 1000 });
    expect(fake.requests).toHaveLength(3);
    const [first, second, third] = fake.requests;
    expect(first!.path).toBe('/v2/aggs/ticker/AAPL/range/1/minute/2025-10-29/2025-10-29');
    expect(first!.query).toMatchObject({ adjusted: 'false', sort: 'asc', limit: '50000', apiKey: KEY });
    expect(first!.query.cursor).toBeUndefined();
    for (const [r, startsAt] of [[second!, aggs[3]!.t], [third!, aggs[6]!.t]] as const) {
      expect(r.query.cursor).toBeTruthy();
      expect(r.query).toMatchObject({ adjusted: 'false', apiKey: KEY });
      expect(r.path).toBe(`/v2/aggs/ticker/AAPL/range/1/minute/${startsAt}/2025-10-29`);
    }
    expect(c.clock.sleeps).toEqual([]); // 3 requests fit in the default 5 per minute
  });

  it('spaces requests to requestsPerMinute', async () => {
    fake = await startPolygonFake({ aggs: { AAPL: minuteAggs(7) }, pageSize: 3 });
    const c = fakeClock();
    const src = createPolygonSource({ apiKey: KEY, baseUrl: fake.url, requestsPerMinute: 2, now: c.now, sleep: c.sleep });
    const bars = await src.fetchBars('AAPL', 'minute', '2025-10-29', '2025-10-29');
    expect(bars).toHaveLength(7);
    expect(c.clock.sleeps).toEqual([60_000]); // the third request waits for the first to age out
  });

  it('retries a 429 after Retry-After and succeeds', async () => {
    fake = await startPolygonFake({ aggs: { AAPL: minuteAggs(2) }, rateLimitFirst: 1, retryAfterSeconds: 2 });
    const c = fakeClock();
    const src = createPolygonSource({ apiKey: KEY, baseUrl: fake.url, now: c.now, sleep: c.sleep });
    const bars = await src.fetchBars('AAPL', 'minute', '2025-10-29', '2025-10-29');
    expect(bars).toHaveLength(2);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(c.clock.sleeps).toEqual([2000]);
  });

  it('without Retry-After, waits until the throttle window allows, then retries', async () => {
    fake = await startPolygonFake({ aggs: { AAPL: minuteAggs(2) }, rateLimitFirst: 1, retryAfterSeconds: null });
    const c = fakeClock();
    const src = createPolygonSource({ apiKey: KEY, baseUrl: fake.url, now: c.now, sleep: c.sleep });
    const bars = await src.fetchBars('AAPL', 'minute', '2025-10-29', '2025-10-29');
    expect(bars).toHaveLength(2);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(c.clock.sleeps).toEqual([60_000]);
  });

  it('gives up after 3 retries of 429 with a clear sentence', async () => {
    fake = await startPolygonFake({ aggs: { AAPL: minuteAggs(2) }, rateLimitFirst: 10, retryAfterSeconds: 1 });
    const c = fakeClock();
    const src = createPolygonSource({ apiKey: KEY, baseUrl: fake.url, now: c.now, sleep: c.sleep });
    const err = await rejection(src.fetchBars('AAPL', 'minute', '2025-10-29', '2025-10-29'));
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.message).toMatch(/rate limit \(HTTP 429\) after 3 retries/);
    expect(fake.requests).toHaveLength(4);
  });

  it('reports 401 as a refused API key', async () => {
    fake = await startPolygonFake({ mode: 'unauthorized' });
    const src = createPolygonSource({ apiKey: 'bad', baseUrl: fake.url });
    const err = await rejection(src.fetchBars('AAPL', 'day', '2025-10-01', '2025-10-30'));
    expect(err.code).toBe('AUTH');
    expect(err.message).toBe('Polygon refused the API key (HTTP 401): check POLYGON_API_KEY. Polygon said: "Unknown API Key".');
    expect(fake.requests).toHaveLength(1);
  });

  it('reports 403 as data outside the plan', async () => {
    fake = await startPolygonFake({ mode: 'forbidden' });
    const src = createPolygonSource({ apiKey: KEY, baseUrl: fake.url });
    const err = await rejection(src.fetchBars('AAPL', 'minute', '2025-10-01', '2025-10-30'));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toMatch(/^Polygon's plan does not include this data \(HTTP 403\)/);
  });

  it('reports a silent server as a timeout', async () => {
    fake = await startPolygonFake({ mode: 'hang' });
    const src = createPolygonSource({ apiKey: KEY, baseUrl: fake.url, timeoutMs: 200 });
    const err = await rejection(src.fetchSplits('AAPL'));
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toMatch(/^Polygon did not answer within 0\.2s/);
  });

  it('reports an unreachable host as unavailable', async () => {
    fake = await startPolygonFake();
    const url = fake.url;
    await fake.close();
    fake = undefined;
    const src = createPolygonSource({ apiKey: KEY, baseUrl: url, timeoutMs: 2000 });
    const err = await rejection(src.fetchSplits('AAPL'));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/^Polygon could not be reached/);
  });

  it('stamps daily bars at the 09:30 New York open of their date (EDT and EST)', async () => {
    const day = (date: string, o: number): FakeAgg => ({ t: polygonDayMs(date), o, h: o + 1, l: o - 1, c: o, v: 10 });
    fake = await startPolygonFake({ aggs: { 'AAPL/day': [day('2025-10-29', 269.275), day('2025-11-10', 269.5312345)] } });
    const src = createPolygonSource({ apiKey: KEY, baseUrl: fake.url });
    const bars = await src.fetchBars('AAPL', 'day', '2025-10-01', '2025-11-30');
    expect(polygonDayMs('2025-10-29')).toBe(Date.parse('2025-10-29T04:00:00Z'));
    expect(bars.map((b) => b.t)).toEqual(['2025-10-29T13:30:00.000Z', '2025-11-10T14:30:00.000Z']);
    expect(bars[0]!.o).toBe(269.275);
    expect(bars[1]!.o).toBe(269.5312); // ≤ 4 decimals
  });

  it('fetches splits across pages by cursor', async () => {
    fake = await startPolygonFake({
      pageSize: 2,
      splits: {
        NVDA: [
          { execution_date: '2024-06-10', split_from: 1, split_to: 10 },
          { execution_date: '2021-07-20', split_from: 1, split_to: 4 },
          { execution_date: '2007-09-11', split_from: 2, split_to: 3 },
        ],
      },
    });
    const src = createPolygonSource({ apiKey: KEY, baseUrl: fake.url });
    const splits = await src.fetchSplits('NVDA');
    expect(splits).toEqual([
      { executionDate: '2007-09-11', splitFrom: 2, splitTo: 3 },
      { executionDate: '2021-07-20', splitFrom: 1, splitTo: 4 },
      { executionDate: '2024-06-10', splitFrom: 1, splitTo: 10 },
    ]);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]!.query).toMatchObject({ ticker: 'NVDA', order: 'asc', sort: 'execution_date', apiKey: KEY });
    expect(fake.requests[1]!.query.cursor).toBeTruthy();
  });

  it('fetches cash dividends across pages by cursor, by ex-date', async () => {
    // AAPL's 2025 quarterly dividends (Apple investor relations: $0.25, then $0.26 from May)
    fake = await startPolygonFake({
      pageSize: 2,
      dividends: {
        AAPL: [
          { ex_dividend_date: '2025-08-11', cash_amount: 0.26, pay_date: '2025-08-14', dividend_type: 'CD' },
          { ex_dividend_date: '2025-05-12', cash_amount: 0.26, pay_date: '2025-05-15', dividend_type: 'CD' },
          { ex_dividend_date: '2025-02-10', cash_amount: 0.25, pay_date: '2025-02-13', dividend_type: 'CD' },
        ],
      },
    });
    const src = createPolygonSource({ apiKey: KEY, baseUrl: fake.url });
    expect(await src.fetchDividends('AAPL')).toEqual([
      { exDate: '2025-02-10', cashAmount: 0.25, payDate: '2025-02-13' },
      { exDate: '2025-05-12', cashAmount: 0.26, payDate: '2025-05-15' },
      { exDate: '2025-08-11', cashAmount: 0.26, payDate: '2025-08-14' },
    ]);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]!.path).toBe('/v3/reference/dividends');
    expect(fake.requests[0]!.query).toMatchObject({ ticker: 'AAPL', order: 'asc', sort: 'ex_dividend_date', apiKey: KEY });
    expect(await src.fetchDividends('MSFT')).toEqual([]);
  });
});

describe('applySplits', () => {
  const bar = (t: string, o: number, v: number): Bar => ({ t, o, h: o + 10, l: o - 10, c: o + 5, v });
  const bars = [
    bar('2024-06-07T13:30:00.000Z', 1200, 1000), // Friday before NVDA's 10-for-1
    bar('2024-06-10T13:30:00.000Z', 120, 10_000), // execution date: already post-split
    bar('2024-06-11T13:30:00.000Z', 121, 9_000),
  ];
  const splits: Split[] = [
    { executionDate: '2024-06-10', splitFrom: 1, splitTo: 10 },
    { executionDate: '2030-01-02', splitFrom: 1, splitTo: 2 }, // from the future: never applied
  ];

  it('ignores splits after the clock', () => {
    const asOf = new Date('2024-06-07T20:00:00.000Z');
    expect(applySplits(bars, splits, asOf)).toEqual(bars);
  });

  it('adjusts bars before a split once the clock reaches its execution date', () => {
    const out = applySplits(bars, splits, new Date('2024-06-10T13:30:00.000Z'));
    expect(out[0]).toEqual({ t: '2024-06-07T13:30:00.000Z', o: 120, h: 121, l: 119, c: 120.5, v: 10_000 });
    expect(out.slice(1)).toEqual(bars.slice(1));
    expect(bars[0]!.o).toBe(1200); // pure: the input is untouched
  });

  it('compounds several splits and handles reverse splits, keeping ≤ 4 decimals', () => {
    const b = [bar('2020-01-02T14:30:00.000Z', 100, 3000)];
    const s: Split[] = [
      { executionDate: '2021-01-04', splitFrom: 1, splitTo: 3 },
      { executionDate: '2022-01-03', splitFrom: 2, splitTo: 1 },
    ];
    const out = applySplits(b, s, new Date('2023-01-01T00:00:00Z'));
    expect(out[0]!.o).toBe(66.6667); // 100 / (3 × 0.5)
    expect(out[0]!.v).toBe(4500);
  });
});
