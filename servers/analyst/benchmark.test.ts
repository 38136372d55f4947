// The benchmark names its source (issue 16 item 7): a run on imported bars measured against a
// symbol only the simulated market serves is refused in one sentence, or, with
// allow_simulated_benchmark, marked simulated; an imported benchmark says imported. Made-up
// daily bars under made-up tickers (HBRK traded, HBMK the imported benchmark), imported as a
// user would; the buy-and-hold return is worked out by hand from the CSV opens and closes.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_SYMBOLS } from '../../shared/domain/simulated-market.js';
import { importDayBars, type DayBars } from '../../test/csv-bars.js';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';

// On the shared Postgres of test:services, a symbol another test imports is served from those bars only.
const IMPORTED_BY_OTHER_TESTS = new Set(['AAPL', 'MSFT', 'NVDA', 'JPM', 'KO', 'SPY', 'QQQ']);
const SIMULATED = SIMULATED_SYMBOLS.find((s) => !IMPORTED_BY_OTHER_TESTS.has(s))!;

const BARS: DayBars = {
  HBRK: [
    ['2025-06-09', 50, 51, 49, 50],
    ['2025-06-10', 50, 52, 49, 51],
    ['2025-06-11', 51, 53, 50, 52],
    ['2025-06-12', 52, 53, 51, 52.5],
  ],
  HBMK: [
    ['2025-06-09', 200, 201, 199, 200],
    ['2025-06-10', 200, 204, 199, 202],
    ['2025-06-11', 202, 206, 201, 205],
    ['2025-06-12', 205, 207, 204, 206],
  ],
};

let t: TestSuite;
let runs: Client, trade: Client, analyst: Client;
let runId: number;
beforeAll(async () => {
  t = await bootSuite();
  await importDayBars(t, 'benchmark.csv', BARS);
  const { key } = await t.user();
  [runs, trade, analyst] = await Promise.all(['runs', 'trade', 'analyst'].map((s) => t.client(s as any, key)));
  const m = await ok(runs, 'create_model', { name: 'Real bars', initial_cash: 10_000 });
  runId = (await ok(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-12', symbols: ['HBRK'] })).run_id;
  expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: 'HBRK', quantity: 100 })).status).toBe('filled');
  await ok(runs, 'advance_run', { run_id: runId, steps: 5 });
});
afterAll(() => t?.close());

describe('the benchmark names its source', () => {
  it('a simulated-only benchmark for a run on imported bars is refused in one sentence that says how to import it', async () => {
    const r = await call(analyst, 'calculate_metrics', { run_id: runId, benchmark: SIMULATED });
    expect(r.isError).toBe(true);
    expect(r.text).toContain(`The benchmark ${SIMULATED} is served only by the simulated market, but run ${runId} trades real bars (HBRK (imported))`);
    expect(r.text).toMatch(/import-bars .*allow_simulated_benchmark: true\.$/);
  });

  it('with allow_simulated_benchmark: true it is measured and marked simulated in the result and its text', async () => {
    const r = await call(analyst, 'calculate_metrics', { run_id: runId, benchmark: SIMULATED, allow_simulated_benchmark: true });
    expect(r.isError).toBeFalsy();
    const m = r.data.runs[0];
    expect(m.benchmark).toMatchObject({ symbol: SIMULATED, source: 'simulated' });
    expect(m.notes.join(' ')).toMatch(new RegExp(`The benchmark ${SIMULATED} is simulated \\(made-up prices\\)`));
    expect(r.text).toContain(`vs ${SIMULATED} (simulated prices)`);
  });

  it('an imported benchmark says imported; its buy-and-hold return is from its own bars', async () => {
    const r = await call(analyst, 'calculate_metrics', { run_id: runId, benchmark: 'HBMK' });
    const m = r.data.runs[0];
    expect(m.benchmark.source).toBe('imported');
    expect(r.text).toContain('vs HBMK (imported)');
    // as-of prices at the run's first and last equity points, read back through get_price
    const clocks = await t.suite.deps.sql`select clock from equity_snapshots where run_id = ${runId} order by clock`;
    const price = await t.client('price', (await t.user()).key);
    const first = await ok(price, 'get_price', { symbol: 'HBMK', at: clocks[0]!.clock.toISOString() });
    const last = await ok(price, 'get_price', { symbol: 'HBMK', at: clocks[clocks.length - 1]!.clock.toISOString() });
    // the run opens 2025-06-10 at its open ($200) and ends at a close of the CSV (202, 205 or 206)
    expect(first.price).toBe(200);
    expect([202, 205, 206]).toContain(last.price);
    expect(m.benchmark.benchmark_return).toBeCloseTo(last.price / 200 - 1, 12);
  });
});
