// Property: for random replay runs and clock positions, no tool returns a bar that had not
// closed at the clock, and get_price is the open of the bar starting at the clock.
import type { Client } from '@modelcontextprotocol/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, ok, type TestSuite } from '../../test/harness.js';
import { barEnd, tradingDays } from '../../shared/domain/calendar.js';
import { nyLocal } from '../../shared/domain/ny-time.js';
import { simulatedBars } from '../../shared/domain/simulated-market.js';
import type { Timespan } from '../../shared/domain/types.js';
import { runsServer } from '../runs/server.js';
import { priceServer } from './server.js';

// simulated symbols that are not in the AI-Trader files other tests import
const SYMBOLS = ['JPM', 'XOM', 'PG', 'HD', 'SPY', 'QQQ'];
const DAYS = tradingDays('2024-01-02', '2025-12-31');

let t: TestSuite;
let price: Client;
let runs: Client;
let modelId: number;

beforeAll(async () => {
  t = await bootSuite({ specs: [priceServer, runsServer] });
  const { key } = await t.user();
  price = await t.client('price', key);
  runs = await t.client('runs', key);
  modelId = (await ok(runs, 'create_model', { name: 'asof-property' })).model_id;
});
afterAll(() => t?.close());

function closedBy(timespan: string, bars: { t: string }[], clock: string) {
  for (const b of bars) expect(barEnd(timespan as Timespan, new Date(b.t)).getTime(), `${timespan} bar ${b.t} at ${clock}`).toBeLessThanOrEqual(Date.parse(clock));
}

describe('as-of rule', () => {
  it('holds on every tool for random runs and clock positions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          symbols: fc.subarray(SYMBOLS, { minLength: 1, maxLength: 3 }),
          timespan: fc.constantFrom<'day' | 'minute'>('day', 'minute'),
          day: fc.integer({ min: 0, max: DAYS.length - 12 }),
          startMinute: fc.integer({ min: 0, max: 389 }),
          steps: fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 3 }),
          limit: fc.integer({ min: 1, max: 400 }),
          indicator: fc.constantFrom('sma', 'ema', 'rsi', 'macd', 'bbands', 'atr', 'vwap'),
          fromBackMinutes: fc.integer({ min: 1, max: 3 * 24 * 60 }),
        }),
        async (c) => {
          const startDate = DAYS[c.day]!;
          const start =
            c.timespan === 'day' ? startDate : new Date(Date.parse(simulatedBars('SPY', 'minute', startDate)[0]!.t) + c.startMinute * 60_000).toISOString();
          const run = await ok(runs, 'start_run', { model_id: modelId, kind: 'replay', timespan: c.timespan, start, end: DAYS[c.day + 11]!, symbols: c.symbols });
          try {
            let clock: string = run.clock;
            for (const steps of c.steps) {
              const adv = await ok(runs, 'advance_run', { run_id: run.run_id, steps: c.timespan === 'day' ? Math.min(steps, 5) : steps, include_bars: true });
              for (const s of c.symbols) {
                closedBy(c.timespan, adv.bars[s], adv.clock);
                for (const b of adv.bars[s]) expect(barEnd(c.timespan, new Date(b.t)).getTime()).toBeGreaterThan(Date.parse(clock));
              }
              clock = adv.clock;
              if (adv.done) return;
            }
            const date = nyLocal(new Date(clock)).date;
            for (const symbol of c.symbols) {
              const p = await ok(price, 'get_price', { symbol, run_id: run.run_id });
              const startingNow = simulatedBars(symbol, 'minute', date).find((b) => b.t === clock)!;
              expect(p).toMatchObject({ time: clock, price: startingNow.o, price_basis: 'open_at_clock', source: 'simulated' });
              if (p.last_bar) closedBy(p.last_bar.timespan, [p.last_bar], clock);
              for (const timespan of ['minute', 'hour', 'day'] as const) {
                const latest = await ok(price, 'get_bars', { symbol, timespan, run_id: run.run_id, limit: c.limit, to: '2030-01-01' });
                expect(latest.source).toBe('simulated');
                closedBy(timespan, latest.bars, clock);
                const from = new Date(Date.parse(clock) - c.fromBackMinutes * 60_000).toISOString();
                const ranged = await ok(price, 'get_bars', { symbol, timespan, run_id: run.run_id, from, limit: c.limit });
                closedBy(timespan, ranged.bars, clock);
                const ind = await ok(price, 'get_indicators', { symbol, timespan, run_id: run.run_id, indicators: [{ name: c.indicator }] });
                if (ind.last_bar_t) closedBy(timespan, [{ t: ind.last_bar_t }], clock);
              }
            }
          } finally {
            await ok(runs, 'end_run', { run_id: run.run_id }).catch(() => undefined);
          }
        },
      ),
      { numRuns: 15 },
    );
  });
});
