// A minute replay over one regular session for 10 symbols, advanced one step per MCP call,
// against a no-op tool on the same stack in the same process.
import { SIMULATED_SYMBOLS } from '../shared/domain/simulated-market.js';
import { bootSuite, ok } from '../test/harness.js';
import { runsServer } from '../servers/runs/server.js';
import { withNoop } from './noop.js';

const SESSION = '2025-03-12';
// Simulated symbols that no test file imports, so a shared Postgres serves them simulated too.
const SYMBOLS = ['JPM', 'V', 'UNH', 'XOM', 'JNJ', 'WMT', 'PG', 'MA', 'HD', 'KO'].filter((s) => SIMULATED_SYMBOLS.includes(s));

export async function main(): Promise<void> {
  const t = await bootSuite({ specs: [withNoop(runsServer)] });
  try {
    const { key } = await t.user();
    const runs = await t.client('runs', key);
    for (let i = 0; i < 50; i++) await ok(runs, 'noop'); // warm the MCP path

    const noopCalls = 389;
    let t0 = performance.now();
    for (let i = 0; i < noopCalls; i++) await ok(runs, 'noop');
    const noopPerSec = noopCalls / ((performance.now() - t0) / 1000);

    const model = await ok(runs, 'create_model', { name: 'bench' });
    const run = await ok(runs, 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: SESSION, end: SESSION, symbols: SYMBOLS });
    let steps = 0;
    let bars = 0;
    let firstMs = 0;
    t0 = performance.now();
    for (;;) {
      const s0 = performance.now();
      const r = await ok(runs, 'advance_run', { run_id: run.run_id });
      if (steps === 0) firstMs = performance.now() - s0;
      if (r.done) break;
      steps++;
      for (const s of Object.values(r.symbols) as { bars_closed: number }[]) bars += s.bars_closed;
    }
    const seconds = (performance.now() - t0) / 1000;
    const stepsPerSec = steps / seconds;
    const warmPerSec = (steps - 1) / (seconds - firstMs / 1000);
    const line = (k: string, v: string) => process.stdout.write(`${k.padEnd(44)} ${v}\n`);
    line('session / symbols', `${SESSION} regular, ${SYMBOLS.length} symbols (simulated), ${steps} steps, ${bars} bars returned`);
    line('no-op tool calls/s', noopPerSec.toFixed(0));
    line('advance_run steps/s (all, incl. first fill)', stepsPerSec.toFixed(1));
    line('advance_run steps/s (after the first step)', warmPerSec.toFixed(1));
    line('first step (generates + stores 10 sessions)', `${firstMs.toFixed(0)} ms`);
    line('ratio no-op / advance_run (all)', `${(noopPerSec / stepsPerSec).toFixed(2)}x`);
    line('ratio no-op / advance_run (after first)', `${(noopPerSec / warmPerSec).toFixed(2)}x`);
  } finally {
    await t.close();
  }
}
