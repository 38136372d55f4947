// The price between bar starts (CONTRACT §2, issue 8 item 4) and calendar questions about the
// future (item 8), through real MCP clients on a few imported AAPL bars the test writes itself.
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { runAdminCommand } from '../../shared/admin/commands.js';
import { priceServer } from './server.js';
import { aiTraderLine } from '../../test/ai-trader-fixture.js';
import { AAPL_OCT_DAY, AAPL_OCT_HOUR } from '../../test/ai-trader-quotes.js';

// Imported under a made-up ticker: on the one Postgres of test:services, price.test.ts imports
// made-up AAPL bars for the same days, and an imported symbol is served from its rows only.
const SYMBOL = 'PAAPL';
// AI-Trader's AAPL rows of 2025-10-14 .. 10-17 (test/ai-trader-quotes.ts names the source).
const DAILY = AAPL_OCT_DAY;
const HOURLY = AAPL_OCT_HOUR;

let t: TestSuite;
let price: Client;

beforeAll(async () => {
  t = await bootSuite({ specs: [priceServer] });
  const daily = path.join(t.dataDir, 'aapl_daily.jsonl');
  const hourly = path.join(t.dataDir, 'aapl_hourly.jsonl');
  fs.writeFileSync(daily, aiTraderLine(SYMBOL, DAILY, 'Time Series (Daily)') + '\n');
  fs.writeFileSync(hourly, aiTraderLine(SYMBOL, HOURLY, 'Time Series (60min)') + '\n');
  await runAdminCommand(t.suite.deps, ['import-bars', daily, '--format', 'ai-trader']);
  await runAdminCommand(t.suite.deps, ['import-bars', hourly, '--format', 'ai-trader']);
  price = await t.client('price', (await t.user()).key);
}, 120_000);
afterAll(() => t?.close());

describe('the price between bar starts is the latest known trade price', () => {
  it('09:31 ET: the 09:30 open of the day bar, not the previous day’s close', async () => {
    // 2025-10-15 opened at 249.485 (daily "1. buy price"); no bar has closed since (the
    // 10-14 15:00 hour bar closed at 16:00 the day before, at 247.6111).
    const p = await ok(price, 'get_price', { symbol: SYMBOL, at: '2025-10-15T13:31:00Z' });
    expect(p).toMatchObject({ price: 249.485, price_basis: 'latest_open', bar: { t: '2025-10-15T13:30:00.000Z', timespan: 'day' } });
    expect(p.last_bar).toMatchObject({ t: '2025-10-14T13:30:00.000Z', timespan: 'day', c: 247.77 });
  });

  it('10:01 ET: the open of the 10:00 hour bar', async () => {
    const p = await ok(price, 'get_price', { symbol: SYMBOL, at: '2025-10-15T14:01:00Z' });
    expect(p).toMatchObject({ price: 250.5083, price_basis: 'latest_open', bar: { t: '2025-10-15T14:00:00.000Z', timespan: 'hour' } });
  });

  it('11:30 ET, after the 10:00 bar closed: that bar’s close', async () => {
    // the 11:00 bar started at 15:00Z, after the 10:00 bar closed at 15:00Z: its open 250.3085
    const p = await ok(price, 'get_price', { symbol: SYMBOL, at: '2025-10-15T15:30:00Z' });
    expect(p).toMatchObject({ price: 250.3085, price_basis: 'latest_open' });
  });

  it('on the weekend: the official daily close, not the last hour bar’s close', async () => {
    // Friday 2025-10-17 closed at 252.29 (daily "4. sell price"); its 15:00 hour bar at 252.0568.
    const p = await ok(price, 'get_price', { symbol: SYMBOL, at: '2025-10-18' });
    expect(p).toMatchObject({ price: 252.29, price_basis: 'daily_close', bar: { t: '2025-10-17T13:30:00.000Z', timespan: 'day' } });
    // after the close on a weekday too
    const evening = await ok(price, 'get_price', { symbol: SYMBOL, at: '2025-10-16T21:00:00Z' });
    expect(evening).toMatchObject({ price: 247.45, price_basis: 'daily_close' });
  });
});

describe('calendar questions about the future are answered from the calendar', () => {
  it('2026-12-24 is a half day; 2027-12-24 is closed (Christmas 2027 observed on Friday)', async () => {
    // NYSE holidays and early closes (nyse.com/markets/hours-calendars): 2026-12-24 closes at
    // 1:00 pm; Christmas 2027 falls on a Saturday and is observed Friday 2027-12-24.
    const half = await ok(price, 'get_market_status', { at: '2026-12-24' });
    expect(half).toMatchObject({ session: 'regular', is_half_day: true, is_holiday: false, next_close: '2026-12-24T18:00:00.000Z', as_of: '2026-12-24T14:30:00.000Z' });
    const closed = await ok(price, 'get_market_status', { at: '2027-12-24' });
    expect(closed).toMatchObject({ session: 'closed', is_holiday: true, is_half_day: false, next_open: '2027-12-27T14:30:00.000Z' });
  });

  it('prices and bars stay bounded by the wall clock', async () => {
    const before = Date.now();
    const p = await ok(price, 'get_price', { symbol: SYMBOL, at: '2099-01-02T15:00:00Z' });
    expect(Date.parse(p.as_of)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(p.as_of)).toBeLessThanOrEqual(Date.now());
    const bars = await ok(price, 'get_bars', { symbol: SYMBOL, timespan: 'day', at: '2099-01-02' });
    expect(Date.parse(bars.as_of)).toBeLessThanOrEqual(Date.now());
    expect(await call(price, 'get_market_status', { at: '2099-01-02' })).toMatchObject({
      isError: true,
      text: 'The NYSE calendar here covers 2020–2027; 2099-01-02 is outside it.',
    });
  });
});
