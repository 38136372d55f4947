// A tool call's signal (shared/gate.ts callSignal): long tools stop at their next step when
// the client cancels or when the suite begins shutting down, and say which in one sentence.
import { describe, expect, it } from 'vitest';
import type { Deps } from './deps.js';
import { callSignal, createGate, SHUTDOWN_REASON } from './gate.js';
import { stopIfCancelled } from './mcp/tool.js';

const fakeDeps = () => ({}) as Deps; // the gate keys its state by the deps object only

describe('callSignal', () => {
  it('aborts every running call when the gate begins shutting down, with the shutdown sentence', () => {
    const deps = fakeDeps();
    const gate = createGate(deps, { probesPerSecond: 0 });
    const a = callSignal(deps, new AbortController().signal);
    const b = callSignal(deps, new AbortController().signal);
    b.release(); // b ended before the shutdown
    expect(() => stopIfCancelled(a)).not.toThrow();
    gate.begin();
    expect(a.signal.aborted).toBe(true);
    expect(a.signal.reason).toBe(SHUTDOWN_REASON);
    expect(b.signal.aborted).toBe(false);
    expect(() => stopIfCancelled(a)).toThrow(/^The server is shutting down; the call stopped at its next step and nothing after that was done\./);
    // a call that starts while shutting down is stopped from the start
    expect(callSignal(deps, new AbortController().signal).signal.reason).toBe(SHUTDOWN_REASON);
  });

  it("passes the client's cancel through and leaves other suites' calls alone", () => {
    const deps = fakeDeps();
    const other = fakeDeps();
    const client = new AbortController();
    const call = callSignal(deps, client.signal);
    const elsewhere = callSignal(other, new AbortController().signal);
    client.abort('cancelled by the client');
    expect(call.signal.aborted).toBe(true);
    expect(() => stopIfCancelled(call)).toThrow(/^The client cancelled the call/);
    createGate(deps, { probesPerSecond: 0 }).begin();
    expect(elsewhere.signal.aborted).toBe(false);
  });
});
