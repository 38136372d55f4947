// Approval of a require_approval order in both eras, through real SDK v2 clients:
// - 2026-07-28 with elicitation: input_required with a signed requestState; the client's retry
//   with the person's answer fills or rejects that same order (one order per intent);
// - a forged, altered, foreign or expired requestState is refused in one sentence, nothing changes;
// - a 2025 session with elicitation: the form is waited on for at most AIBT_APPROVAL_WAIT_MS; a
//   person slower than that leaves the order pending, and the agent's retry returns the same
//   pending order (never a second one).
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCommand } from '../../shared/admin/commands.js';
import { requestStateSecret, signState } from '../../shared/mcp/request-state.js';
import { bootSuite, MODERN, ok, type TestSuite } from '../../test/harness.js';
import { runsServer } from '../runs/server.js';
import { tradeServer } from './server.js';

let t: TestSuite;
let owner: { key: string };
let runs: Client;
const WAIT_MS = 1500;
const ELICIT = { elicitation: { form: {} } };

beforeAll(async () => {
  t = await bootSuite({ specs: [tradeServer, runsServer], env: { AIBT_APPROVAL_WAIT_MS: String(WAIT_MS) } });
  const csv = path.join(t.dataDir, 'aprv.csv');
  fs.writeFileSync(csv, ['symbol,timespan,t,open,high,low,close,volume', 'APRV,day,2025-06-10,280,283,278,282,1000000', 'APRV,day,2025-06-11,282,290,281,289,1000000'].join('\n'));
  await runAdminCommand(t.suite.deps, ['import-bars', csv, '--format', 'csv']);
  owner = await t.user();
  runs = await t.client('runs', owner.key);
}, 120_000);
afterAll(() => t?.close());

async function approvalModel(name: string) {
  const model = await ok(runs, 'create_model', { name, initial_cash: 10_000, require_approval: true, max_orders_per_minute: 1000 });
  await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'day', start: '2025-06-10', end: '2025-06-11', symbols: ['APRV'] });
  return model.model_id as number;
}

const orders = async (modelId: number) =>
  (await t.suite.deps.sql`select id, status, decided_by from orders where model_id = ${modelId} order by id`).map((r) => ({ ...r }));

/** A raw 2026-07-28 tools/call (the SDK client hides requestState), with the standard headers. */
async function modernCall(key: string, args: Record<string, unknown>, retry?: { requestState: string; inputResponses: unknown }) {
  const res = await t.suite.hosts.trade!.app.request('/mcp', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${key}`,
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': 'buy',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: {
        name: 'buy',
        arguments: args,
        ...(retry ?? {}),
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientCapabilities': ELICIT,
          'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
        },
      },
    }),
  });
  const text = await res.text();
  const json = text.startsWith('{') ? JSON.parse(text) : JSON.parse(text.split('\n').find((l) => l.startsWith('data: '))!.slice(6));
  return { status: res.status, body: json };
}

describe('approval on 2026-07-28: input_required with a signed requestState', () => {
  it('asks through the client and fills or rejects the one pending order', async () => {
    const modelId = await approvalModel('Modern ask');
    const client = await t.client('trade', owner.key, ELICIT, 'modern');
    const asked: string[] = [];
    let decision = 'approve';
    client.setRequestHandler('elicitation/create', async (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: { decision, note: 'fine' } };
    });
    const filled = await ok(client, 'buy', { model_id: modelId, symbol: 'APRV', quantity: 2 });
    expect(asked[0]).toMatch(/^Approve order \d+: buy 2 APRV at market\?/);
    expect(filled.status).toBe('filled');
    decision = 'reject';
    const rejected = await ok(client, 'buy', { model_id: modelId, symbol: 'APRV', quantity: 1 });
    expect(rejected.status).toBe('rejected');
    // the retry answered the order the first round placed: two calls, two orders
    expect((await orders(modelId)).map((o) => o.status)).toEqual(['filled', 'rejected']);
  });

  it('gives a client without elicitation the pending order at once', async () => {
    const modelId = await approvalModel('Modern plain');
    const client = await t.client('trade', owner.key, {}, 'modern');
    expect((await ok(client, 'buy', { model_id: modelId, symbol: 'APRV', quantity: 1 })).status).toBe('pending_approval');
  });

  it('refuses a forged, altered, foreign or expired requestState in one sentence and changes nothing', async () => {
    const modelId = await approvalModel('Modern state');
    const args = { model_id: modelId, symbol: 'APRV', quantity: 3 };
    const first = await modernCall(owner.key, args);
    expect(first.status).toBe(200);
    expect(first.body.result.resultType).toBe('input_required');
    const state: string = first.body.result.requestState;
    expect(first.body.result.inputRequests.approval.params?.message ?? first.body.result.inputRequests.approval.message).toMatch(/buy 3 APRV/);
    const [pending] = await orders(modelId);
    const answer = { approval: { action: 'accept', content: { decision: 'approve' } } };
    const [body, sig] = state.split('.');
    const altered = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), order_id: pending!.id + 1000 })).toString('base64url')}.${sig}`;
    const secret = await requestStateSecret(t.suite.deps.sql);
    const keyId = JSON.parse(Buffer.from(body!, 'base64url').toString()).key_id;
    const expired = signState(secret, { kind: 'approval', key_id: keyId, exp: Date.now() - 1, order_id: pending!.id });
    const cases: [string, string, RegExp][] = [
      [owner.key, 'forged', /^The requestState is not one this server issued; nothing was changed\./],
      [owner.key, altered, /^The requestState was altered or not signed by this server; nothing was changed\./],
      [owner.key, expired, /^The requestState has expired; nothing was changed\./],
      [(await t.user()).key, state, /^The requestState was issued for another key or request; nothing was changed\./],
    ];
    for (const [key, requestState, sentence] of cases) {
      const r = await modernCall(key, args, { requestState, inputResponses: answer });
      expect(r.body.result?.isError, requestState.slice(0, 20)).toBe(true);
      expect(r.body.result.content[0].text).toMatch(sentence);
    }
    expect(await orders(modelId)).toEqual([{ id: pending!.id, status: 'pending_approval', decided_by: null }]);
    // the genuine state with the answer fills that same order, and nothing else
    const done = await modernCall(owner.key, args, { requestState: state, inputResponses: answer });
    expect(done.body.result.structuredContent).toMatchObject({ order_id: pending!.id, status: 'filled' });
    expect((await orders(modelId)).map((o) => o.status)).toEqual(['filled']);
  });
});

describe('approval on a 2025 session: a bounded wait, one order per intent', () => {
  it('leaves the order pending when the person is slower than the bound, and a retry returns the same order', async () => {
    const modelId = await approvalModel('Legacy slow');
    const client = await t.client('trade', owner.key, ELICIT, 'legacy');
    let delay = WAIT_MS + 1500;
    let asked = 0;
    client.setRequestHandler('elicitation/create', async () => {
      asked++;
      await new Promise((r) => setTimeout(r, delay));
      return { action: 'accept', content: { decision: 'approve' } };
    });
    const started = Date.now();
    const first = await ok(client, 'buy', { model_id: modelId, symbol: 'APRV', quantity: 4 });
    expect(Date.now() - started).toBeLessThan(WAIT_MS + 1200); // answered at the bound, not after the person
    expect(first.status).toBe('pending_approval');
    await new Promise((r) => setTimeout(r, delay)); // the late answer arrives and is ignored
    expect((await orders(modelId)).map((o) => o.status)).toEqual(['pending_approval']);
    // the agent tries again without client_order_id: the same order, asked again, approved in time
    delay = 10;
    const retry = await ok(client, 'buy', { model_id: modelId, symbol: 'APRV', quantity: 4 });
    expect(retry).toMatchObject({ order_id: first.order_id, status: 'filled' });
    expect(asked).toBe(2);
    const rows = await orders(modelId);
    expect(rows.filter((o) => o.status !== 'cancelled').map((o) => [o.id, o.status])).toEqual([[first.order_id, 'filled']]);
    expect(rows.filter((o) => o.status === 'cancelled').map((o) => o.decided_by)).toEqual(['duplicate']);
  }, 60_000);
});
