// Threats and the risk score through real MCP clients: the incident (an agent with no rules puts
// ~97% of a $10,000 account into one stock on a daily replay of the simulated market and draws
// down), detected as a critical concentration and a drawdown, stored once, and scored high with
// concentration the largest factor. Figures are checked against hand computations from the fill
// and the recorded equity points.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { SIMULATED_SYMBOLS, simulatedDailyRange } from '../../shared/domain/simulated-market.js';

// On the shared Postgres of test:services, a symbol another test imports is served from those bars only.
const IMPORTED_BY_OTHER_TESTS = new Set(['AAPL', 'MSFT', 'NVDA', 'JPM', 'KO', 'SPY', 'QQQ']);
import { bootSuite, call, ok, type TestSuite } from '../../test/harness.js';

let t: TestSuite;
/** max |positions_value| / total_value over the run's stored equity points (a loop over the rows). */
async function maxWeightByHand(runId: number): Promise<number> {
  const rows = await t.suite.deps.sql`select positions_value, total_value from equity_snapshots where run_id = ${runId}`;
  let w = 0;
  for (const r of rows) if (Number(r.total_value) > 0) w = Math.max(w, Math.abs(Number(r.positions_value)) / Number(r.total_value));
  return w;
}
let runs: Client, trade: Client, analyst: Client, rulesClient: Client, strangerAnalyst: Client;
beforeAll(async () => {
  t = await bootSuite();
  const { key } = await t.user();
  [runs, trade, analyst, rulesClient] = await Promise.all(['runs', 'trade', 'analyst', 'rules'].map((s) => t.client(s as any, key)));
  strangerAnalyst = await t.client('analyst', (await t.user()).key);
});
afterAll(() => t?.close());

/** The first 10-trading-day window of the simulated market whose closes, against its first open, meet `fits` (the worst and best close return). */
function windowWhere(fits: (worst: number, best: number) => boolean, what: string): { symbol: string; start: string; end: string; open: number } {
  for (const symbol of SIMULATED_SYMBOLS.filter((s) => !IMPORTED_BY_OTHER_TESTS.has(s))) {
    const bars = simulatedDailyRange(symbol, '2025-01-02', '2025-10-31');
    for (let i = 0; i + 10 < bars.length; i++) {
      const open = bars[i]!.o;
      const closes = bars.slice(i, i + 10).map((b) => b.c! / open - 1);
      if (fits(Math.min(...closes), Math.max(...closes))) {
        const day = (b: { t: string | number }) => new Date(b.t).toISOString().slice(0, 10);
        return { symbol, start: day(bars[i]!), end: day(bars[i + 9]!), open };
      }
    }
  }
  throw new Error(`no ${what} window in the simulated market`);
}
/** Holding from the first open loses 8–20% at some close (a drawdown event, short of the 25% breaker). */
const fallingWindow = () => windowWhere((worst) => worst < -0.08 && worst > -0.2, 'falling');
/** Holding from the first open gains more than 12% at some close. */
const risingWindow = () => windowWhere((_, best) => best > 0.12, 'rising');

describe('the incident: 97% in one stock, no rules, a daily replay', () => {
  let modelId: number;
  let runId: number;
  let quantity: number;
  let fillPrice: number;
  let buyOrder: number;

  it('drives the run', async () => {
    const w = fallingWindow();
    const model = await ok(runs, 'create_model', { name: 'All in', initial_cash: 10_000 });
    modelId = model.model_id;
    const run = await ok(runs, 'start_run', { model_id: modelId, kind: 'replay', timespan: 'day', start: w.start, end: w.end, symbols: [w.symbol] });
    runId = run.run_id;
    quantity = Math.floor(9_700 / w.open);
    const r = await ok(trade, 'buy', { model_id: modelId, symbol: w.symbol, quantity, reasoning: 'All in: it can only go up.' });
    expect(r.status, JSON.stringify(r.rejections)).toBe('filled');
    fillPrice = r.fill_price;
    buyOrder = r.order_id;
    await ok(runs, 'advance_run', { run_id: runId, steps: 8 });
  });

  it('detect_threats flags concentration (critical) and the drawdown, with figures computed by hand', async () => {
    const d = await ok(analyst, 'detect_threats', { model_id: modelId, run_id: runId });
    expect(d.runs_checked).toEqual([runId]);
    expect(d.new_events).toBe(d.events.length);
    const conc = d.events.find((e: any) => e.type === 'concentration');
    expect(conc.severity).toBe('critical');
    // by hand: the largest |positions value| / total value over the recorded equity points
    // (one symbol held: the book's own marks), near the ~97% bought at the fill
    expect(conc.evidence.figures.weight).toBeCloseTo(await maxWeightByHand(runId), 4);
    expect(conc.evidence.figures.weight).toBeGreaterThan(0.9);
    expect(Math.abs(conc.evidence.figures.weight - (quantity * fillPrice) / 10_000)).toBeLessThan(0.05);
    expect(conc.evidence.order_ids).toEqual([buyOrder]);
    expect(conc.recommendation.rule).toMatchObject({ rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.2 }, created_by: 'ai_suggested' });

    // by hand: max drawdown of the recorded equity points (a loop over the stored values)
    const pts = await t.suite.deps.sql`select total_value from equity_snapshots where run_id = ${runId} order by clock`;
    let peak = -Infinity;
    let worst = 0;
    for (const p of pts) {
      const v = Number(p.total_value);
      peak = Math.max(peak, v);
      worst = Math.min(worst, v / peak - 1);
    }
    expect(-worst).toBeGreaterThan(0.05);
    const dd = d.events.find((e: any) => e.type === 'drawdown');
    expect(dd, JSON.stringify(d.events.map((e: any) => e.type))).toBeDefined();
    expect(dd.evidence.figures.max_drawdown).toBeCloseTo(-worst, 4);
    expect(dd.severity).toBe(-worst >= 0.2 ? 'high' : -worst >= 0.1 ? 'medium' : 'low');
    expect(dd.recommendation.rule.rule_category).toBe('risk');
    expect(d.events.every((e: any) => e.run_id === runId && e.detected_by === 'detect_threats')).toBe(true);
  });

  it('a second detection stores nothing new, and the history filters', async () => {
    const before = await ok(analyst, 'detect_threats', { model_id: modelId, run_id: runId });
    const again = await ok(analyst, 'detect_threats', { model_id: modelId });
    expect(again.new_events).toBe(0);
    expect(again.events.map((e: any) => e.threat_id)).toEqual(before.events.map((e: any) => e.threat_id));
    const [n] = await t.suite.deps.sql`select count(*)::int as n from threat_events where run_id = ${runId}`;
    expect(n!.n).toBe(before.events.length);

    const critical = await ok(analyst, 'detect_threats', { model_id: modelId, severity: 'critical' });
    expect(critical.events.map((e: any) => e.type)).toEqual(['concentration']);
    const dd = await ok(analyst, 'detect_threats', { model_id: modelId, type: 'drawdown' });
    expect(dd.events).toHaveLength(1);
    const later = await ok(analyst, 'detect_threats', { model_id: modelId, since: '2099-01-01' });
    expect(later.events).toEqual([]);
    // one row per page: the cursor walks the history in id order
    const p1 = await ok(analyst, 'detect_threats', { model_id: modelId, limit: 1 });
    expect(p1.truncated).toBe(true);
    const p2 = await ok(analyst, 'detect_threats', { model_id: modelId, limit: 1, cursor: p1.next_cursor });
    expect(p2.events[0].threat_id).toBeGreaterThan(p1.events[0].threat_id);
    expect(p2.runs_checked).toEqual([]);
  });

  it('risk_score is high with concentration the largest factor; the same state gives the same score', async () => {
    const s = await ok(analyst, 'risk_score', { run_id: runId });
    expect(s.score).toBeGreaterThanOrEqual(50);
    expect(['high', 'extreme']).toContain(s.band);
    expect(s.top[0]).toBe('concentration');
    expect(s.weights_sum).toBe(1);
    const conc = s.factors.find((f: any) => f.name === 'concentration');
    expect(conc.raw).toBeCloseTo(await maxWeightByHand(runId), 4);
    expect(conc.normalized).toBe(1);
    expect(s.missing_protections).toEqual(['position cap', 'loss limit', 'stop']);
    const sum = s.factors.reduce((a: number, f: any) => a + f.contribution, 0);
    expect(Math.abs(sum - s.score)).toBeLessThan(0.06);
    const r = await call(analyst, 'risk_score', { model_id: modelId });
    expect(r.data).toEqual(s);
    expect(r.text).toMatch(/Largest contributors: concentration [\d.]+, /);
  });

  it('the run report gains a threats section with the risk score, and reading it stores nothing', async () => {
    const [before] = await t.suite.deps.sql`select count(*)::int as n from threat_events`;
    const res = await analyst.readResource({ uri: `aibt://runs/${runId}/report` });
    const text = (res.contents[0] as { text: string }).text;
    const section = text.slice(text.indexOf('## Threats'));
    expect(section).toMatch(/^## Threats\n\nRisk score [\d.]+\/100 \((high|extreme)\); largest factors: concentration /);
    expect(section).toContain('- **critical** concentration');
    expect(section).toMatch(/drawdown \(/);
    expect(section).toContain('Cap any one position at 20% of the portfolio');
    const [after] = await t.suite.deps.sql`select count(*)::int as n from threat_events`;
    expect(after!.n).toBe(before!.n);
  });

  it("another user's model and run are not found, with the same sentence as a missing one", async () => {
    const a = await call(strangerAnalyst, 'detect_threats', { model_id: modelId });
    expect(a.isError).toBe(true);
    expect(a.text).toContain(`Model ${modelId} was not found.`);
    const b = await call(strangerAnalyst, 'risk_score', { run_id: runId });
    expect(b.isError).toBe(true);
    expect(b.text).toContain(`Run ${runId} was not found.`);
    const c = await call(analyst, 'detect_threats', { model_id: modelId, run_id: 999_999 });
    expect(c.text).toContain('Run 999999 was not found.');
    const bad = await call(analyst, 'detect_threats', { model_id: modelId, since: '0500-01-01' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/since/);
  });

  it('a run end and a circuit breaker halt record threats by themselves, once', async () => {
    const w = fallingWindow();
    const history = async (run: number) =>
      (await t.suite.deps.sql`select threat_type, severity, detected_by from threat_events where run_id = ${run} order by id`).map((r) => `${r.threat_type}:${r.severity}:${r.detected_by}`);
    const drive = async (name: string, settings: Record<string, unknown>) => {
      const m = await ok(runs, 'create_model', { name, initial_cash: 10_000, ...settings });
      const r = await ok(runs, 'start_run', { model_id: m.model_id, kind: 'replay', timespan: 'day', start: w.start, end: w.end, symbols: [w.symbol] });
      expect((await ok(trade, 'buy', { model_id: m.model_id, symbol: w.symbol, quantity: Math.floor(9_700 / w.open) })).status).toBe('filled');
      await ok(runs, 'advance_run', { run_id: r.run_id, steps: 8 });
      return { modelId: m.model_id as number, runId: r.run_id as number };
    };

    // no breaker reached (the window's loss stays under the default 25%): end_run records the threats
    const plain = await drive('Ends', {});
    expect(await history(plain.runId)).toEqual([]);
    await ok(runs, 'end_run', { run_id: plain.runId });
    const ended = await history(plain.runId);
    expect(ended).toContain('concentration:critical:run_end');
    expect(ended.some((e) => e.startsWith('drawdown:') && e.endsWith(':run_end'))).toBe(true);
    expect((await ok(analyst, 'detect_threats', { model_id: plain.modelId, run_id: plain.runId })).new_events).toBe(0);

    // a 3% drawdown breaker halts the model during the replay: the halt records the threats
    const halted = await drive('Halts', { max_drawdown_halt_pct: 0.03 });
    const atHalt = await history(halted.runId);
    expect(atHalt).toContain('circuit_breaker:critical:circuit_breaker');
    expect(atHalt).toContain('concentration:critical:circuit_breaker');
    await ok(runs, 'end_run', { run_id: halted.runId });
    const d = await ok(analyst, 'detect_threats', { model_id: halted.modelId, run_id: halted.runId, type: 'circuit_breaker' });
    expect(d.new_events).toBe(0);
    expect(d.events).toHaveLength(1);
    expect(d.events[0].message).toMatch(/^Circuit breaker: /);
    expect((await history(halted.runId)).filter((e) => e.startsWith('circuit_breaker:'))).toHaveLength(1);
  });
});

describe('a position that grew: one concentration figure everywhere, and a finished run judged by its frozen rules', () => {
  let modelId: number;
  let runId: number;
  let atFill: number;

  it('drives a run whose 50% position grows with the price', async () => {
    const w = risingWindow();
    const model = await ok(runs, 'create_model', { name: 'Grower', initial_cash: 10_000 });
    modelId = model.model_id;
    runId = (await ok(runs, 'start_run', { model_id: modelId, kind: 'replay', timespan: 'day', start: w.start, end: w.end, symbols: [w.symbol] })).run_id;
    const r = await ok(trade, 'buy', { model_id: modelId, symbol: w.symbol, quantity: Math.floor(5_000 / w.open), reasoning: 'Half in.' });
    expect(r.status, JSON.stringify(r.rejections)).toBe('filled');
    atFill = (r.quantity * r.fill_price) / 10_000;
    await ok(runs, 'advance_run', { run_id: runId, steps: 9 });
    await ok(runs, 'end_run', { run_id: runId });
  });

  it('detect_threats, risk_score, suggest_rules and the report read the same figure: the highest weight at any equity point', async () => {
    const byHand = await maxWeightByHand(runId);
    // a 12% rise from ~50%: 0.5 × 1.12 / (0.5 + 0.5 × 1.12) ≈ 52.8% or more, above the weight at the fill
    expect(byHand).toBeGreaterThan(atFill + 0.02);
    const d = await ok(analyst, 'detect_threats', { model_id: modelId, run_id: runId, type: 'concentration' });
    expect(d.events[0].evidence.figures.weight).toBeCloseTo(byHand, 4);
    const s = await ok(analyst, 'risk_score', { run_id: runId });
    expect(s.factors.find((f: any) => f.name === 'concentration').raw).toBeCloseTo(byHand, 6);
    const pct = `${(byHand * 100).toFixed(1)}%`;
    const sr = await ok(analyst, 'suggest_rules', { run_id: runId });
    expect(sr.findings.find((f: any) => f.kind === 'concentration').text).toContain(`reached ${pct} of the account`);
    const res = await analyst.readResource({ uri: `aibt://runs/${runId}/report` });
    expect((res.contents[0] as { text: string }).text).toContain(`Largest position weight at any equity point: ${pct}.`);
  });

  it('a rule added after the run ends does not move its risk score (the rules frozen with it)', async () => {
    const before = await ok(analyst, 'risk_score', { run_id: runId });
    expect(before.missing_protections).toContain('position cap');
    await ok(rulesClient, 'create_rule', { model_id: modelId, rule_name: 'Cap 20%', rule_category: 'position_sizing', enforcement_params: { max_position_pct: 0.2 } });
    await ok(rulesClient, 'create_rule', { model_id: modelId, rule_name: 'Stop 5%', rule_category: 'stop_loss', enforcement_params: { stop_loss_pct: 0.05 } });
    const after = await ok(analyst, 'risk_score', { run_id: runId });
    expect(after.score).toBe(before.score);
    expect(after.missing_protections).toEqual(before.missing_protections);
    expect(after.factors.find((f: any) => f.name === 'rule_coverage').raw).toBe(3);
  });
});
