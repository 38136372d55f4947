// Graceful shutdown and per-address limits in front of every server's HTTP app (issue 20
// items 6 and 7): a wrapper around the app's fetch, so it holds whatever the MCP host inside does.
// - While draining, a new request gets HTTP 503 with one sentence (and Connection: close);
//   requests already in flight, including their SSE response streams, are counted until
//   their body ends, so the suite closes only once every caller has its answer (or the grace
//   period ran out).
// - Long tools ask stopping(deps) at each step and answer what they did so far.
// - GET /health and GET /metrics are rate limited per client address; while a storage fault
//   (disk full, read-only, damaged: shared/db/faults.ts) is open, /health answers 503 with its cause.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { currentStorageFault, probeStorage } from './db/faults.js';
import type { Deps } from './deps.js';

type Fetch = (req: Request, env?: unknown) => Response | Promise<Response>;

export interface Gate {
  /** The app's fetch behind the gate. */
  wrap(fetch: Fetch): Fetch;
  /** Requests (POSTs and probes) whose response has not ended. */
  inFlight(): number;
  /** Stop accepting: later requests get 503; long tools of `deps` stop at their next step. */
  begin(): void;
  /** Resolves once nothing is in flight (true), or after `ms` with calls still running (false). */
  settle(ms: number): Promise<boolean>;
}

const draining = new WeakSet<object>();
const onBegin = new WeakMap<object, Set<() => void>>();

/** True once the suite serving `deps` began shutting down: a long tool stops at its next step. */
export function stopping(deps: Deps): boolean {
  return draining.has(deps);
}

/** The abort reason of a call's signal when the suite began shutting down (see callSignal). */
export const SHUTDOWN_REASON = 'shutdown';

/**
 * The signal a tool call sees: aborted when the client cancels (the SDK's own signal, its reason
 * kept) or when the suite serving `deps` begins shutting down (reason SHUTDOWN_REASON), so long
 * tools stop at their next step either way. `release` stops listening once the call ended.
 */
export function callSignal(deps: Deps, client: AbortSignal): { signal: AbortSignal; release: () => void } {
  const c = new AbortController();
  if (client.aborted) c.abort(client.reason);
  else if (draining.has(deps)) c.abort(SHUTDOWN_REASON);
  if (c.signal.aborted) return { signal: c.signal, release: () => {} };
  const fromClient = () => c.abort(client.reason);
  const fromShutdown = () => c.abort(SHUTDOWN_REASON);
  client.addEventListener('abort', fromClient, { once: true });
  let set = onBegin.get(deps);
  if (!set) onBegin.set(deps, (set = new Set()));
  set.add(fromShutdown);
  return {
    signal: c.signal,
    release: () => {
      client.removeEventListener('abort', fromClient);
      set.delete(fromShutdown);
    },
  };
}

export const SHUTTING_DOWN = 'The server is shutting down; nothing was done. Retry in a few seconds (against the restarted server or another replica).';

export interface GateOptions {
  /** GET /health and /metrics per client address per second (0: unlimited). */
  probesPerSecond: number;
}

export function createGate(deps: Deps, opts: GateOptions): Gate {
  let active = 0;
  let closing = false;
  const idle = new Set<() => void>();
  const done = () => {
    active--;
    if (active === 0) for (const f of [...idle]) f();
  };
  const probes = opts.probesPerSecond > 0 ? new RateLimiterMemory({ keyPrefix: 'probe', points: opts.probesPerSecond, duration: 1 }) : null;

  return {
    wrap(fetch) {
      return async (req, env) => {
        if (closing) {
          return Response.json({ jsonrpc: '2.0', error: { code: -32000, message: SHUTTING_DOWN }, id: null }, { status: 503, headers: { 'Retry-After': '5', Connection: 'close' } });
        }
        const path = new URL(req.url).pathname;
        if (req.method === 'GET' && path === '/health' && currentStorageFault()) {
          await probeStorage(deps.sql, deps.db.embedded ? deps.config.dataDir : null);
          const fault = currentStorageFault();
          if (fault) return Response.json({ status: 'unavailable', database: 'failed', failed: [`database: ${fault.cause}`], since: fault.since }, { status: 503 });
        }
        if (probes && req.method === 'GET' && (path === '/health' || path === '/metrics')) {
          const refused = await probes.consume(`${path} ${clientAddress(env)}`, 1).then(
            () => null,
            (r: unknown) => (r instanceof RateLimiterRes ? Math.max(1, Math.ceil(r.msBeforeNext / 1000)) : null),
          );
          if (refused !== null) {
            return Response.json(
              { error: `Too many ${path} requests from this address: at most ${opts.probesPerSecond} per second (AIBT_PROBES_PER_SEC). Retry after ${refused} s.` },
              { status: 429, headers: { 'Retry-After': String(refused) } },
            );
          }
        }
        // A GET /mcp is a session's notification stream: it never ends by itself, so it is not waited for.
        if (req.method === 'GET' && path === '/mcp') return fetch(req, env);
        active++;
        let res: Response;
        try {
          res = await fetch(req, env);
        } catch (err) {
          done();
          throw err;
        }
        return untilBodyEnds(res, done);
      };
    },
    inFlight: () => active,
    begin() {
      closing = true;
      draining.add(deps);
      for (const f of [...(onBegin.get(deps) ?? [])]) f();
    },
    settle(ms) {
      if (active === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const finish = (ok: boolean) => {
          clearTimeout(timer);
          idle.delete(onIdle);
          resolve(ok);
        };
        const onIdle = () => finish(true);
        const timer = setTimeout(() => finish(false), ms);
        idle.add(onIdle);
      });
    },
  };
}

/** `done` runs once the response body was read to its end, failed or was cancelled. */
export function untilBodyEnds(res: Response, done: () => void): Response {
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      done();
    }
  };
  if (!res.body) {
    finish();
    return res;
  }
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done: end } = await reader.read();
        if (end) {
          controller.close();
          finish();
        } else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
        finish();
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** The peer's address (@hono/node-server passes the Node request as env.incoming). */
export function clientAddress(env: unknown): string {
  return (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ?? 'unknown';
}
