// Fuzz of every tool of every server (hostile values in each argument: NUL and control
// characters, dates out of range, huge and negative numbers, wrong types): never an internal
// error, and a refused call writes nothing. Then the cross-tenant sweep: every tool taking
// an id, called by another user with the owner's ids, answers exactly as for an id that does
// not exist, and writes nothing.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerName } from '../../shared/config.js';
import { bootSuite, call, ok, type TestSuite } from '../harness.js';

const SERVERS: ServerName[] = ['trade', 'price', 'rules', 'runs', 'analyst'];
const HOSTILE: unknown[] = [
  'a\u0000b', 'x\u001b[31m', 'line\nbreak', '1000-01-01', '-000001-01-01', '9999-12-31', 'A'.repeat(100_000),
  -1, 1e300, 2 ** 31, 1.5, null, {}, ['\u0000'], { '\u0000': 1 },
];

let t: TestSuite;
let clients: Record<string, Client>;

/** Rows in every table of the public schema: a refused call must leave them all unchanged. */
async function rowCounts(): Promise<Record<string, number>> {
  const tables = await t.suite.deps.sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
  const out: Record<string, number> = {};
  for (const { table_name } of tables) {
    const [row] = await t.suite.deps.sql.unsafe(`select count(*)::int as n from "${table_name}"`);
    out[table_name] = row!.n as number;
  }
  return out;
}

beforeAll(async () => {
  t = await bootSuite({ env: { AIBT_RATE_LIMIT_PER_SEC: '0' } });
  const { key } = await t.user();
  clients = Object.fromEntries(await Promise.all(SERVERS.map(async (s) => [s, await t.client(s, key)] as const)));
});
afterAll(async () => t?.close());

describe('fuzz of every tool', () => {
  it('answers every hostile argument with a sentence, never an internal error, and writes nothing', async () => {
    let before = await rowCounts();
    let calls = 0;
    let accepted = 0;
    const internal: string[] = [];
    for (const server of SERVERS) {
      const { tools } = await clients[server]!.listTools();
      for (const tool of tools) {
        const props = Object.keys((tool.inputSchema as { properties?: Record<string, unknown> }).properties ?? {});
        for (const prop of [...props, 'unexpected_field']) {
          for (const value of HOSTILE) {
            const r = await call(clients[server]!, tool.name, { [prop]: value });
            calls++;
            if (!r.isError) {
              // A value that is valid after all (create_model named '9999-12-31'): its write is
              // legitimate; only refused calls must leave every table as it was.
              accepted++;
              before = await rowCounts();
            } else if (calls % 200 === 0) {
              expect(await rowCounts(), `after ${tool.name}(${prop}=…)`).toEqual(before);
            }
            if (/internal error/i.test(r.text) || r.text.trim() === '') internal.push(`${tool.name}.${prop}=${JSON.stringify(value)?.slice(0, 40)}: ${r.text}`);
          }
        }
      }
    }
    const after = await rowCounts();
    console.log(JSON.stringify({ attack: 'fuzz', calls, accepted, internal_errors: internal.length }));
    expect(internal).toEqual([]);
    expect(after).toEqual(before);
  }, 600_000);
});

describe('cross-tenant sweep', () => {
  it('reports every id of another user exactly like a missing one, for every id-taking tool', async () => {
    const owner = await t.user();
    const o = Object.fromEntries(await Promise.all(SERVERS.map(async (s) => [s, await t.client(s, owner.key)] as const)));
    const model = await ok(o.runs!, 'create_model', { name: 'owned', initial_cash: 10_000, require_approval: true });
    const run = await ok(o.runs!, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-13', symbols: ['AAPL'] });
    const order = await ok(o.trade!, 'buy', { model_id: model.model_id, symbol: 'AAPL', quantity: 1 });
    const rule = await ok(o.rules!, 'create_rule', {
      model_id: model.model_id,
      rule_name: 'cap',
      rule_category: 'position_sizing',
      enforcement_params: { max_position_pct: 0.5 },
    }).catch(() => null);
    const ids: Record<string, number> = { model_id: model.model_id, run_id: run.run_id, order_id: order.order_id, ...(rule ? { rule_id: rule.rule_id } : {}) };
    const MISSING = 2_000_000_000;
    // Plausible values for the other required arguments, so the id is what decides.
    const filler: Record<string, unknown> = {
      symbol: 'AAPL', side: 'buy', quantity: 1, timespan: 'day', kind: 'replay', start: '2025-06-10', end: '2025-06-13',
      reasoning_type: 'plan', content: 'x', reason: 'x', active: true, template: 'day_trader', indicators: [{ name: 'sma', period: 5 }],
      rule_name: 'r', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.5 },
    };
    const { key: intruderKey } = await t.user();
    const before = await rowCounts();
    let swept = 0;
    const leaks: string[] = [];
    for (const server of SERVERS) {
      const intruder = await t.client(server, intruderKey);
      const { tools } = await intruder.listTools();
      for (const tool of tools) {
        const schema = tool.inputSchema as { properties?: Record<string, unknown>; required?: string[] };
        const idProps = Object.keys(schema.properties ?? {}).filter((p) => p in ids);
        if (!idProps.length) continue;
        const base: Record<string, unknown> = {};
        for (const p of schema.required ?? []) if (!(p in ids) && p in filler) base[p] = filler[p];
        for (const idProp of idProps) {
          const args = { ...base, [idProp]: ids[idProp] };
          for (const other of idProps) if (other !== idProp && (schema.required ?? []).includes(other)) args[other] = ids[other];
          const theirs = await call(intruder, tool.name, args);
          const missing = await call(intruder, tool.name, { ...args, [idProp]: MISSING });
          swept++;
          const norm = (s: string) => s.replaceAll(String(ids[idProp]), '#').replaceAll(String(MISSING), '#');
          if (theirs.isError !== missing.isError || norm(theirs.text) !== norm(missing.text)) {
            leaks.push(`${tool.name}(${idProp}): theirs=${theirs.text.slice(0, 120)} | missing=${missing.text.slice(0, 120)}`);
          }
        }
      }
    }
    const after = await rowCounts();
    console.log(JSON.stringify({ attack: 'cross-tenant', calls: swept * 2, tools_with_ids: swept, leaks: leaks.length }));
    expect(swept).toBeGreaterThan(10);
    expect(leaks).toEqual([]);
    expect(after).toEqual(before);
  }, 600_000);
});
