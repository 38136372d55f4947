// equity_chart through a real MCP client: a PNG image content item with the curve, the
// drawdown and the fills, for one run and several; bad input refused in one sentence.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_COLOR, EXIT_COLOR, RUN_COLORS } from '../../shared/chart/equity-chart.js';
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';
import { decodePng, pixelsNear } from '../../test/png.js';
import { priceServer } from '../price/server.js';
import { runsServer } from '../runs/server.js';
import { tradeServer } from '../trade/server.js';
import { analystServer } from './server.js';

let t: TestSuite;
let runs: Client;
let trade: Client;
let analyst: Client;

beforeAll(async () => {
  t = await bootSuite({ specs: [runsServer, tradeServer, priceServer, analystServer] });
  const { key } = await t.user();
  [runs, trade, analyst] = await Promise.all([t.client('runs', key), t.client('trade', key), t.client('analyst', key)]);
});
afterAll(() => t?.close());

/** 90 minutes of SPY replayed (simulated market): buy 5 after 15 minutes, sell them 45 minutes later. */
async function tradedRun(model_id: number) {
  const run = await ok(runs, 'start_run', { model_id, kind: 'replay', timespan: 'minute', start: '2025-06-10T13:30:00Z', end: '2025-06-10T15:00:00Z', symbols: ['SPY'] });
  await ok(runs, 'advance_run', { run_id: run.run_id, steps: 15 });
  const entry = await ok(trade, 'buy', { model_id, symbol: 'SPY', quantity: 5, reasoning: 'test entry' });
  expect(entry.status, JSON.stringify(entry.rejections)).toBe('filled');
  await ok(runs, 'advance_run', { run_id: run.run_id, steps: 45 });
  expect((await ok(trade, 'sell', { model_id, symbol: 'SPY', quantity: 5, reasoning: 'test exit' })).status).toBe('filled');
  let done = false;
  while (!done) done = (await ok(runs, 'advance_run', { run_id: run.run_id, steps: 390 })).done;
  return run;
}

async function image(name: string, args: Record<string, unknown>) {
  const res = (await analyst.callTool({ name, arguments: args })) as any;
  expect(res.isError, res.content?.[0]?.text).toBeFalsy();
  const img = res.content.find((c: any) => c.type === 'image');
  expect(img.mimeType).toBe('image/png');
  return { png: Buffer.from(img.data, 'base64'), data: res.structuredContent, text: res.content[0].text as string };
}

describe('equity_chart', () => {
  it('returns a PNG of one run: curve, drawdown, entry and exit marked, titled with model and run number', async () => {
    const model = await ok(runs, 'create_model', { name: 'Chart one', initial_cash: 25_000 });
    const run = await tradedRun(model.model_id);
    const { png, data, text } = await image('equity_chart', { run_id: run.run_id, width: 900, height: 520 });
    const img = decodePng(png);
    expect([img.width, img.height]).toEqual([900, 520]);
    expect(data).toMatchObject({ title: 'Chart one — run #1', width: 900, height: 520, scale: 'value', png_bytes: png.length });
    const [{ n }] = (await t.suite.deps.sql`select count(*)::int as n from equity_snapshots where run_id = ${run.run_id}`) as any;
    expect(data.runs).toEqual([
      expect.objectContaining({ run_id: run.run_id, run_number: 1, model_name: 'Chart one', color: RUN_COLORS[0], equity_points: n, fills: 2, fill_markers_drawn: 2 }),
    ]);
    expect(n).toBe(91); // the start and 90 minute steps
    const got = await ok(runs, 'get_run', { run_id: run.run_id });
    expect(data.runs[0].end_value).toBe(got.final_stats.final_value);
    // the curve in its colour; one entry (green) and one exit (red) below the title and legend
    expect(pixelsNear(png, RUN_COLORS[0], { fromRow: 90 })).toBeGreaterThan(400);
    expect(pixelsNear(png, ENTRY_COLOR, { fromRow: 90 })).toBeGreaterThan(5);
    expect(pixelsNear(png, EXIT_COLOR, { fromRow: 90 })).toBeGreaterThan(5);
    expect(text).toMatch(/^Equity chart "Chart one — run #1", 900×520 PNG/);
  });

  it('draws up to five runs together, each in its colour, and refuses bad input in one sentence', async () => {
    const model = await ok(runs, 'create_model', { name: 'Chart two', initial_cash: 10_000 });
    const a = await tradedRun(model.model_id);
    const b = await tradedRun(model.model_id);
    const { png, data } = await image('equity_chart', { run_ids: [a.run_id, b.run_id] });
    expect(decodePng(png).width).toBe(1000);
    expect(data.title).toBe('Chart two — runs #1, #2');
    expect(data.runs.map((r: any) => r.color)).toEqual([RUN_COLORS[0], RUN_COLORS[1]]);
    expect(pixelsNear(png, RUN_COLORS[1], { fromRow: 90 })).toBeGreaterThan(300);

    const stranger = await t.client('analyst', (await t.user()).key);
    expect(await call(stranger, 'equity_chart', { run_id: a.run_id })).toMatchObject({ isError: true, text: `Run ${a.run_id} was not found.` });
    expect((await call(analyst, 'equity_chart', { run_id: 99_999_999 })).text).toBe('Run 99999999 was not found.');
    expect((await call(analyst, 'equity_chart', { run_id: a.run_id, run_ids: [b.run_id] })).text).toBe('Give either run_id or run_ids (not both, not neither).');
    expect((await call(analyst, 'equity_chart', { run_ids: [a.run_id, a.run_id] })).text).toMatch(/run_ids must not name a run twice\./);
    expect((await call(analyst, 'equity_chart', { run_ids: [1, 2, 3, 4, 5, 6] })).text).toMatch(/run_ids can name at most 5 runs\./);
    expect((await call(analyst, 'equity_chart', { run_id: a.run_id, width: 5000 })).text).toMatch(/width must be at most 2400 pixels\./);
  });

  it('draws a run with no equity recorded yet from its starting cash', async () => {
    const model = await ok(runs, 'create_model', { name: 'Chart empty', initial_cash: 7_000 });
    const live = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'live' });
    const { png, data } = await image('equity_chart', { run_id: live.run_id, width: 400, height: 300 });
    expect(decodePng(png).height).toBe(300);
    expect(data.runs[0]).toMatchObject({ equity_points: 1, end_value: 7000, fills: 0 });
  });
});
