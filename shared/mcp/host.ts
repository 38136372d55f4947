// The HTTP host every server runs in: a Hono app with MCP streamable HTTP on /mcp, bearer
// auth, Host/Origin checks, /health that really asks the database and the cache, and /metrics.
// /mcp speaks both eras through the SDK's entry: 2026-07-28 per request (no session, version
// and capabilities in each request's _meta) and the 2025 revisions statelessly; a 2025
// client that declared elicitation gets a session (capped, expiring when idle) so it can be
// asked to approve an order. McpServer instances are built once and reused (ServerPool).
import { randomUUID } from 'node:crypto';
import { createMcpHandler, WebStandardStreamableHTTPServerTransport, type McpServer } from '@modelcontextprotocol/server';
import { Hono, type Context } from 'hono';
import { keyCacheFor } from '../auth/key-cache.js';
import { authenticate, hashKey, keyPrefix, type AuthContext } from '../auth/keys.js';
import type { Deps } from '../deps.js';
import { clientAddress, untilBodyEnds } from '../gate.js';
import { errorFields, logEvent } from '../log.js';
import { isStorageUnavailable } from './errors.js';
import type { Refusal } from './limits.js';
import { ServerPool } from './server-spec.js';

export interface HostOptions {
  name: string;
  deps: Deps;
  createServer: () => McpServer;
  /** Enforce loopback Host (DNS-rebinding protection); on when bound to loopback. Origin is checked on any bind. */
  loopbackOnly: boolean;
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  userId: number;
  keyId: number;
  lastSeen: number;
  /** POSTs whose response stream is still open (a tool waiting on an approval prompt counts). */
  inFlight: number;
}

export interface Host {
  app: Hono;
  /** The reused McpServer instances (bench and tests read how many were built). */
  pool: ServerPool;
  sessionCount(): number;
  /** Close sessions idle longer than maxIdleMs; returns how many closed. */
  expireIdle(maxIdleMs: number, now?: number): Promise<number>;
  close(): Promise<void>;
}

const STORAGE_DOWN = 'The database is unavailable right now, so the API key cannot be checked; try again shortly.';
/** Larger than any tool's arguments; a bigger body is refused before it is parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function createHost(opts: HostOptions): Host {
  const { deps, name } = opts;
  const sessions = new Map<string, Session>();
  const app = new Hono();
  const perKey = deps.config.AIBT_SESSIONS_PER_KEY;
  const perServer = deps.config.AIBT_SESSIONS_PER_SERVER;
  const pool = new ServerPool(opts.createServer);
  // A stateless 2025 client cancels with notifications/cancelled in a POST of its own, which
  // another instance would serve: requests in flight are found by key and JSON-RPC id instead.
  const cancelKeyOf = new WeakMap<Request, string>();
  const inFlight = new Map<string, McpServer>();
  const mcp = createMcpHandler(
    ({ era, requestInfo }) => {
      const server = pool.take(era);
      const cancelKey = requestInfo && cancelKeyOf.get(requestInfo);
      if (cancelKey) {
        inFlight.set(cancelKey, server);
        const onclose = server.server.onclose;
        server.server.onclose = () => {
          if (inFlight.get(cancelKey) === server) inFlight.delete(cancelKey);
          onclose?.();
        };
      }
      return server;
    },
    { onerror: (err) => logEvent('mcp_refused', { server: name, error: err.message.slice(0, 300) }) },
  );

  const closeSession = async (id: string, s: Session) => {
    sessions.delete(id);
    await s.server.close().catch(() => {});
  };

  /** Closes the oldest idle session (of this key, then of anyone) when a cap is reached; a sentence when none can go. */
  const makeRoom = async (keyId: number): Promise<string | null> => {
    const oldestIdle = (pick: (s: Session) => boolean) =>
      [...sessions].filter(([, s]) => pick(s) && s.inFlight === 0).sort(([, a], [, b]) => a.lastSeen - b.lastSeen)[0];
    if ([...sessions.values()].filter((s) => s.keyId === keyId).length >= perKey) {
      const victim = oldestIdle((s) => s.keyId === keyId);
      if (!victim) return `This key already holds ${perKey} MCP sessions on the ${name} server, all busy; close one (HTTP DELETE) or wait for one to finish.`;
      await closeSession(...victim);
      logEvent('session_evicted', { server: name, reason: 'per_key_cap' });
    }
    if (sessions.size >= perServer) {
      const victim = oldestIdle(() => true);
      if (!victim) return `The ${name} server holds its maximum of ${perServer} MCP sessions, all busy; try again shortly.`;
      await closeSession(...victim);
      logEvent('session_evicted', { server: name, reason: 'per_server_cap' });
    }
    return null;
  };

  // Anything a route did not handle: one JSON log line (a stack only when unexpected) and a
  // JSON-RPC sentence, 503 when storage is down, never Hono's bare 500 with a stack on stderr.
  app.onError((err, c) => {
    const down = isStorageUnavailable(err);
    logEvent('http_error', { server: name, path: c.req.path, ...errorFields(err, !down) });
    if (c.req.path === '/mcp') deps.metrics.recordHttp(name, down ? 503 : 500);
    return down
      ? c.json(jsonRpcError(STORAGE_DOWN), 503, { 'Retry-After': '5' })
      : c.json(jsonRpcError('The server failed on an internal error, which was logged.'), 500);
  });

  app.get('/health', async (c) => {
    const failed: string[] = [];
    await Promise.all([
      // within 1.5 s, so /health itself answers in under 2 s in an outage (issue 19 item 6)
      withTimeout(deps.sql`select 1`, 1500, 'database').catch((e: Error) => failed.push(`database: ${e.message}`)),
      withTimeout(deps.cache.ping(), 1500, 'cache').catch((e: Error) => failed.push(`cache (${deps.cache.kind}): ${e.message}`)),
    ]);
    const dbDown = failed.some((f) => f.startsWith('database'));
    const cacheDown = failed.some((f) => f.startsWith('cache'));
    // The cache is optional: without it every call reads Postgres, so it only degrades.
    const body = {
      status: dbDown ? 'unavailable' : cacheDown ? 'degraded' : 'ok',
      server: name,
      database: dbDown ? 'failed' : 'ok',
      cache: cacheDown ? 'failed' : 'ok',
      ...(failed.length ? { failed } : {}),
    };
    return c.json(body, dbDown ? 503 : 200);
  });

  app.get('/metrics', (c) =>
    c.text(deps.metrics.render(name, sessions.size), 200, { 'content-type': 'text/plain; version=0.0.4' }),
  );

  app.all('/mcp', async (c) => {
    const respond = (res: Response) => {
      deps.metrics.recordHttp(name, res.status);
      return res;
    };
    const refusal = opts.loopbackOnly
      ? checkLoopback(c.req.header('host') ?? new URL(c.req.url).host, c.req.header('origin'), deps.config.allowedOrigins)
      : checkOrigin(c.req.header('origin'), deps.config.allowedOrigins);
    if (refusal) return respond(c.json(jsonRpcError(refusal), 403));
    let auth: Authorized;
    try {
      auth = await authorize(deps, c.req.header('authorization'));
    } catch (err) {
      // The key check needs the database (unless the key is cached): an outage is a 503 sentence.
      if (!isStorageUnavailable(err)) throw err;
      logEvent('auth_unavailable', { server: name, ...errorFields(err, false) });
      return respond(c.json(jsonRpcError(STORAGE_DOWN), 503, { 'Retry-After': '5' }));
    }
    if (!auth.ok) {
      // Wrong keys (per address and per key prefix) are answered ever more slowly; a key that verifies never waits.
      const slowed = await deps.limits.badKey(clientAddress(c.env), presentedPrefix(c.req.header('authorization')));
      if (slowed) return respond(refuse(c, slowed));
      // error_description is what mcp-remote and Claude Desktop show the person (RFC 6750 §3)
      return respond(
        c.json(jsonRpcError(auth.reason), 401, {
          'WWW-Authenticate': `Bearer realm="aibt", error="invalid_token", error_description="${headerSafe(auth.reason)}"`,
        }),
      );
    }
    const limited = await deps.limits.request(auth.ctx);
    if (limited) return respond(refuse(c, limited));
    const authInfo = { token: 'redacted', clientId: auth.ctx.keyPrefix, scopes: auth.ctx.scopes, extra: { auth: auth.ctx } };
    const caller = auth.ctx;
    const sessionId = c.req.header('mcp-session-id');
    const post = c.req.method === 'POST';

    let parsedBody: unknown;
    if (post) {
      const parsed = await readJsonRpc(c.req.raw);
      if ('error' in parsed) return respond(c.json(jsonRpcError(parsed.error, parsed.code), parsed.status));
      parsedBody = parsed.message;
    }

    if (sessionId) {
      const session = sessions.get(sessionId);
      // Another user's session is reported like one that does not exist.
      if (!session || session.userId !== auth.ctx.userId) {
        return respond(
          c.json(
            jsonRpcError('This MCP session is not known here (it expired, was closed, or the server restarted): send initialize again, without Mcp-Session-Id, to start a new one.', -32001),
            404,
          ),
        );
      }
      session.lastSeen = Date.now();
      if (!post) return respond(await session.transport.handleRequest(c.req.raw, { authInfo }));
      session.inFlight++;
      const res = await deps.limits.asCaller(caller, () => session.transport.handleRequest(c.req.raw, { authInfo, parsedBody })).catch((e) => {
        session.inFlight--;
        throw e;
      });
      return respond(untilBodyEnds(res, () => session.inFlight--));
    }

    if (!post) {
      return respond(
        c.json(jsonRpcError(`${c.req.method} /mcp needs an Mcp-Session-Id; clients without sessions only POST (this server keeps no session for them).`), 405, {
          Allow: 'POST',
        }),
      );
    }

    // Sessions only for clients that can be asked something (elicitation); everyone else is
    // served statelessly, so an idle expiry, a restart or another replica never breaks them.
    if (wantsSession(parsedBody)) {
      const full = await makeRoom(auth.ctx.keyId);
      if (full) return respond(c.json(jsonRpcError(full), 429));
      const server = opts.createServer();
      const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        maxRequestBodySize: MAX_BODY_BYTES,
        onsessioninitialized: (id) => {
          sessions.set(id, { transport, server, userId: auth.ctx.userId, keyId: auth.ctx.keyId, lastSeen: Date.now(), inFlight: 0 });
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
        },
      });
      await server.connect(transport);
      const res = await transport.handleRequest(c.req.raw, { authInfo, parsedBody });
      if (!transport.sessionId || !sessions.has(transport.sessionId)) await server.close();
      return respond(res);
    }

    // Everyone else, both eras, per request: the SDK's entry classifies the request (a
    // 2026-07-28 _meta envelope or a 2025 message), validates the modern headers and _meta,
    // and answers with a pooled instance.
    const m = parsedBody as { method?: string; id?: unknown; params?: { requestId?: unknown; reason?: unknown } };
    if (m.method === 'notifications/cancelled') {
      const target = inFlight.get(`${caller.keyId}:${JSON.stringify(m.params?.requestId)}`);
      if (target) {
        (target.server as unknown as { _oncancel(n: unknown): void })._oncancel({ method: m.method, params: m.params });
        return respond(new Response(null, { status: 202 }));
      }
    } else if (typeof m.method === 'string' && m.id !== undefined) {
      cancelKeyOf.set(c.req.raw, `${caller.keyId}:${JSON.stringify(m.id)}`);
    }
    return respond(await deps.limits.asCaller(caller, () => mcp.fetch(c.req.raw, { authInfo, parsedBody })));
  });

  const host: Host = {
    app,
    pool,
    sessionCount: () => sessions.size,
    async expireIdle(maxIdleMs, now = Date.now()) {
      let closed = 0;
      for (const [id, s] of sessions) {
        if (now - s.lastSeen > maxIdleMs) {
          sessions.delete(id);
          await s.server.close().catch(() => {});
          closed++;
        }
      }
      if (closed) logEvent('sessions_expired', { server: name, closed });
      return closed;
    },
    async close() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all([...all.map((s) => s.server.close().catch(() => {})), mcp.close().catch(() => {})]);
    },
  };
  return host;
}

type Authorized = { ok: true; ctx: AuthContext } | { ok: false; reason: string };

async function authorize(deps: Deps, header: string | undefined): Promise<Authorized> {
  if (!header) return { ok: false, reason: 'No API key: send the header Authorization: Bearer <key> (npm start prints one; npm run admin -- create-user makes more).' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return { ok: false, reason: 'The Authorization header must be "Bearer <key>", with one space and no quotes.' };
  let ctx: AuthContext | null;
  try {
    ctx = await authenticate(deps.sql, m[1]!);
  } catch (err) {
    // Storage down: a key this process verified recently (and saw no revocation of) keeps
    // working for calls that need no database; any other key gets the 503 sentence.
    const known = isStorageUnavailable(err) ? keyCacheFor(deps.sql).lastVerified(hashKey(m[1]!)) : undefined;
    if (!known || Date.now() - known.verifiedAt > deps.config.AIBT_AUTH_OUTAGE_GRACE_MS) throw err;
    ctx = known.auth;
  }
  if (!ctx) return { ok: false, reason: `The API key beginning ${m[1]!.slice(0, 13)} is unknown or revoked: check the key in your client config, or make a new one with npm run admin -- create-key.` };
  return { ok: true, ctx };
}

/** A quoted-string header value: printable ASCII only, no quotes or backslashes (a key may hold anything). */
function headerSafe(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
}

/** An initialize whose client declared elicitation (it can be asked to approve an order). */
function wantsSession(message: unknown): boolean {
  const m = message as { method?: unknown; params?: { capabilities?: { elicitation?: unknown } } } | null;
  return m?.method === 'initialize' && m.params?.capabilities?.elicitation != null;
}

type ReadResult = { message: unknown } | { error: string; code: number; status: 400 | 413 | 415 };

/**
 * Reads one JSON-RPC message from a POST: a body over MAX_BODY_BYTES, invalid JSON, a batch
 * (removed from MCP in 2025-06-18) or something that is not a JSON-RPC 2.0 message gets an
 * error before any server sees it, so nothing is written.
 */
export async function readJsonRpc(req: Request): Promise<ReadResult> {
  const tooBig = { error: `The request body is over ${MAX_BODY_BYTES / 1024} KB; nothing was done.`, code: -32600, status: 413 } as const;
  if (Number(req.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return tooBig;
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel().catch(() => {});
        return tooBig;
      }
      chunks.push(value);
    }
  }
  let message: unknown;
  try {
    message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return { error: 'Parse error: the request body is not valid JSON.', code: -32700, status: 400 };
  }
  if (Array.isArray(message)) {
    return { error: 'JSON-RPC batches are not supported (MCP 2025-06-18 removed them): send one message per request.', code: -32600, status: 400 };
  }
  const m = message as Record<string, unknown> | null;
  const valid =
    m !== null &&
    typeof m === 'object' &&
    m.jsonrpc === '2.0' &&
    (typeof m.method === 'string' || 'result' in m || 'error' in m) &&
    (m.id === undefined || typeof m.id === 'string' || (typeof m.id === 'number' && Number.isFinite(m.id)));
  if (!valid) return { error: 'Invalid Request: the body must be one JSON-RPC 2.0 message (jsonrpc "2.0", a method, an optional id).', code: -32600, status: 400 };
  return { message };
}

/** The visible prefix of the key a request presented, for counting wrong keys. */
function presentedPrefix(header: string | undefined): string {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? keyPrefix(m[1]!) : '(no key)';
}

function refuse(c: Context, r: Refusal): Response {
  return c.json(jsonRpcError(r.message), r.status, { 'Retry-After': String(r.retryAfterSeconds) });
}

/** DNS-rebinding protection for a server bound to loopback. Returns a refusal or null. */
export function checkLoopback(host: string | undefined, origin: string | undefined, allowedOrigins: string[]): string | null {
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (!LOOPBACK.has(hostname)) return `Host '${host ?? ''}' is not allowed: this server only answers loopback hosts.`;
  return checkOrigin(origin, allowedOrigins);
}

/**
 * A browser's Origin, on any bind (MCP's Streamable HTTP transport says servers MUST check
 * it): one in AIBT_ALLOWED_ORIGINS or on loopback passes; any other is refused. A request
 * without Origin (every non-browser client) passes. Returns a refusal or null.
 */
export function checkOrigin(origin: string | undefined, allowedOrigins: string[]): string | null {
  if (origin && origin !== 'null') {
    if (allowedOrigins.includes(origin)) return null;
    let originHost = '';
    try {
      originHost = new URL(origin).hostname.toLowerCase();
    } catch {
      return `Origin '${origin}' is not a valid origin.`;
    }
    if (!LOOPBACK.has(originHost) && !LOOPBACK.has(`[${originHost}]`)) {
      return `Origin '${origin}' is not allowed; add it to AIBT_ALLOWED_ORIGINS to permit it.`;
    }
  }
  return null;
}

function jsonRpcError(message: string, code = -32000) {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

function withTimeout<T>(p: Promise<T> | PromiseLike<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    Promise.resolve(p),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref()),
  ]);
}
