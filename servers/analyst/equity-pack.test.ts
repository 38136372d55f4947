// A finished run's equity curve is read from its pack (migration 028 equity_packs), written by
// the first read of its points, with the same doubles to the last bit as the points'
// read; a running run reads the rows; anything that changes the points drops or outdates the pack. The expected doubles are
// worked out here independently: JavaScript's Number() of each decimal text (the nearest
// double, ECMA-262 StringToNumber) and Date.parse of each clock's whole milliseconds.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEquityColumns, runMetrics } from '../../shared/store/analyst.js';
import { getOwnedRun, type RunRow } from '../../shared/store/runs.js';
import { bootSuite, ok, type TestSuite } from '../../test/harness.js';

// values that no binary fraction holds, negatives, zero, and the largest cents the rows' read
// holds exactly (2^53 − 1 cents: it divides integer cents by 100)
const VALUES = ['100000.00', '0.10', '0.29', '1234567.89', '-5.05', '0.00', '90071992547409.91', '0.01', '1000000.07', '333.33', '-0.01', '42.42'];
// a clock with microseconds (floored to the millisecond), across New York's DST switch
const CLOCKS = [
  '2025-03-07T20:59:00.000Z',
  '2025-03-07T21:00:00.123456Z',
  '2025-03-10T13:31:00.000Z',
  '2025-03-10T13:32:00.999999Z',
];

let t: TestSuite;
let runs: Client, analyst: Client;
let userId: number;
let runId: number;

const sql = () => t.suite.deps.sql;
const packRow = async () => (await sql()`select points, first_clock, last_clock from equity_packs where run_id = ${runId}`)[0];
/** The first index whose doubles differ in any bit (with both), or null: same bits throughout. */
function firstDiff(a: Float64Array, b: Float64Array): [number, number, number] | null {
  if (a.length !== b.length) return [-1, a.length, b.length];
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return [i, a[i]!, b[i]!];
  return null;
}
const run = (): Promise<RunRow> => getOwnedRun(sql(), userId, runId);

/** n points: the clocks above, then one a minute; values cycling through VALUES. */
function points(n: number): { clock: string; value: string }[] {
  const out = [];
  for (let i = 0; i < n; i++) {
    const clock = i < CLOCKS.length ? CLOCKS[i]! : new Date(Date.parse('2025-03-10T14:00:00Z') + i * 60_000).toISOString();
    out.push({ clock, value: VALUES[i % VALUES.length]! });
  }
  return out;
}
const expected = (pts: { clock: string; value: string }[]) => ({
  clock: Float64Array.from(pts, (p) => Date.parse(p.clock.replace(/(\.\d{3})\d+Z$/, '$1Z'))),
  value: Float64Array.from(pts, (p) => Number(p.value)),
});

async function writePoints(pts: { clock: string; value: string }[]): Promise<void> {
  await sql()`delete from equity_snapshots where run_id = ${runId}`;
  const rows = pts.map((p) => ({ run_id: runId, clock: p.clock, cash: p.value, positions_value: '0', total_value: p.value }));
  for (let i = 0; i < rows.length; i += 1000) await sql()`insert into equity_snapshots ${sql()(rows.slice(i, i + 1000))}`;
}

const PTS = points(5000);

beforeAll(async () => {
  t = await bootSuite();
  const { key, name } = await t.user();
  [runs, analyst] = await Promise.all([t.client('runs', key), t.client('analyst', key)]);
  userId = (await sql()`select id from users where name = ${name}`)[0]!.id as number;
  const m = await ok(runs, 'create_model', { name: 'Packed curve', initial_cash: 100_000 });
  runId = (await ok(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'minute', start: '2025-03-07', end: '2025-03-14', symbols: ['JPM'] })).run_id;
  await writePoints(PTS);
});
afterAll(() => t?.close());

describe('a finished run reads its curve from one packed row', () => {
  it('a running run reads its rows and writes no pack', async () => {
    const r = await run();
    expect(r.status).toBe('running');
    const cols = await loadEquityColumns(sql(), r);
    expect(firstDiff(cols.clock, expected(PTS).clock)).toBeNull();
    expect(firstDiff(cols.value, expected(PTS).value)).toBeNull();
    expect(await packRow()).toBeUndefined();
  });

  it('the first read of the finished run writes the pack; it and the next read give the rows’ doubles to the last bit', async () => {
    await sql()`update runs set status = 'completed', ended_at = now(), clock = ${PTS[PTS.length - 1]!.clock} where id = ${runId}`;
    const r = await run();
    const first = await loadEquityColumns(sql(), r);
    const pack = await packRow();
    expect(pack).toMatchObject({ points: PTS.length });
    expect(new Date(pack!.first_clock).toISOString()).toBe('2025-03-07T20:59:00.000Z');
    const again = await loadEquityColumns(sql(), r);
    // the rows, read as a running run reads them
    const rows = await loadEquityColumns(sql(), { ...r, status: 'running' });
    const want = expected(PTS);
    for (const c of [first, again, rows]) {
      expect(c.clock.length).toBe(PTS.length);
      expect(firstDiff(c.clock, want.clock)).toBeNull();
      expect(firstDiff(c.value, want.value)).toBeNull();
    }
    // the clocks are kept as runs of evenly spaced clocks: 3 here (two pairs of uneven ones, then one a minute)
    const [{ bytes }] = (await sql()`select octet_length(clock) as bytes from equity_packs where run_id = ${runId}`) as any;
    expect(bytes).toBe(3 * 24);
    // a pack whose clocks are float8s (as first written) reads the same
    await sql()`update equity_packs set clock = (select string_agg(float8send(floor(extract(epoch from clock) * 1000)::float8), ''::bytea order by clock) from equity_snapshots where run_id = ${runId}) where run_id = ${runId}`;
    const float8 = await loadEquityColumns(sql(), r);
    expect(firstDiff(float8.clock, want.clock)).toBeNull();
    expect(firstDiff(float8.value, want.value)).toBeNull();
    expect(Object.is(again.value[4], -5.05)).toBe(true);
    expect(Object.is(again.value[5], 0)).toBe(true);
    expect(again.clock[1]).toBe(Date.parse('2025-03-07T21:00:00.123Z'));
  });

  it('the next read is answered by the pack (a mark written into the pack comes back)', async () => {
    // 1.5 as a big-endian float8 in place of the second value
    await sql()`update equity_packs set value = overlay(value placing ${Buffer.from('3ff8000000000000', 'hex')} from 9 for 8) where run_id = ${runId}`;
    expect((await loadEquityColumns(sql(), await run())).value[1]).toBe(1.5);
    await sql()`delete from equity_packs where run_id = ${runId}`;
  });

  it('calculate_metrics through MCP (a worker job) packs the run and gives the figures of the rows', async () => {
    const r = await run();
    const fromRows = await runMetrics(t.suite.deps, r, { curve: await loadEquityColumns(sql(), { ...r, status: 'running' }) });
    const packing = (await ok(analyst, 'calculate_metrics', { run_id: runId, returns: 'per_step' })).runs[0];
    expect(await packRow()).toMatchObject({ points: PTS.length });
    const packed = (await ok(analyst, 'calculate_metrics', { run_id: runId, returns: 'per_step' })).runs[0];
    const perStep = await runMetrics(t.suite.deps, r, { curve: await loadEquityColumns(sql(), { ...r, status: 'running' }), returns: 'per_step' });
    expect(packed).toEqual(packing);
    expect(packed.sharpe).toBe(perStep.sharpe);
    expect(packed.max_drawdown).toBe(perStep.max_drawdown);
    expect(packed.total_return).toBe(perStep.total_return);
    expect(fromRows.periods).toBeGreaterThan(0);
  });

  it('a changed point drops the pack; a deleted point drops it; a point added after the last is seen', async () => {
    await loadEquityColumns(sql(), await run());
    expect(await packRow()).toBeDefined();
    // the same value written again leaves it
    await sql()`update equity_snapshots set total_value = total_value where run_id = ${runId} and clock = ${PTS[10]!.clock}`;
    expect(await packRow()).toBeDefined();
    await sql()`update equity_snapshots set total_value = 777.77 where run_id = ${runId} and clock = ${PTS[10]!.clock}`;
    expect(await packRow()).toBeUndefined();
    expect((await loadEquityColumns(sql(), await run())).value[10]).toBe(777.77);
    expect(await packRow()).toBeDefined();

    await sql()`delete from equity_snapshots where run_id = ${runId} and clock = ${PTS[20]!.clock}`;
    expect(await packRow()).toBeUndefined();
    const shorter = await loadEquityColumns(sql(), await run());
    expect(shorter.clock.length).toBe(PTS.length - 1);
    expect(shorter.value[20]).toBe(Number(PTS[21]!.value));

    // inserted without an update or delete: the pack's last clock no longer matches
    const later = new Date(Date.parse(PTS[PTS.length - 1]!.clock) + 60_000).toISOString();
    await sql()`insert into equity_snapshots (run_id, clock, cash, positions_value, total_value) values (${runId}, ${later}, 1, 0, 123.45)`;
    const longer = await loadEquityColumns(sql(), await run());
    expect(longer.clock.length).toBe(PTS.length);
    expect(longer.value[longer.value.length - 1]).toBe(123.45);
    expect(await packRow()).toMatchObject({ points: PTS.length });
  });

  it('beyond 2^53 cents the pack holds what the points read gives (cents / 100), bit for bit', async () => {
    await sql()`update equity_snapshots set total_value = 9999999999999999.99 where run_id = ${runId} and clock = ${PTS[30]!.clock}`;
    expect(await packRow()).toBeUndefined();
    const r = await run();
    const rows = await loadEquityColumns(sql(), r);
    expect(await packRow()).toBeDefined();
    const packed = await loadEquityColumns(sql(), r);
    // PTS[20] was deleted above: PTS[30] is at 29 now
    const at = packed.clock.indexOf(Date.parse(PTS[30]!.clock));
    expect(at).toBe(29);
    expect(firstDiff(packed.value, rows.value)).toBeNull();
    expect(firstDiff(packed.clock, rows.clock)).toBeNull();
    // the points' read itself is within a few ulps there (digits accumulated past 2^53)
    expect(Math.abs(packed.value[at]! - 1e16)).toBeLessThanOrEqual(4);
  });

  it('a read inside a transaction writes nothing', async () => {
    await sql()`delete from equity_packs where run_id = ${runId}`;
    const r = await run();
    const n = await sql().begin(async (tx) => (await loadEquityColumns(tx, r)).clock.length);
    expect(n).toBe(PTS.length);
    expect(await packRow()).toBeUndefined();
  });

  it('a deleted run leaves no pack', async () => {
    await loadEquityColumns(sql(), await run());
    expect(await packRow()).toBeDefined();
    await sql()`delete from runs where id = ${runId}`;
    expect(await packRow()).toBeUndefined();
  });
});
