// The HTTP host every server runs in: a Hono app with MCP streamable HTTP on /mcp
// (sessions that expire when idle), bearer auth, loopback Host/Origin checks,
// /health that really asks the database and the cache, and /metrics.
import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import { authenticate, type AuthContext } from '../auth/keys.js';
import type { Deps } from '../deps.js';
import { errorFields, logEvent } from '../log.js';
import { isStorageUnavailable } from './errors.js';

export interface HostOptions {
  name: string;
  deps: Deps;
  createServer: () => McpServer;
  /** Enforce loopback Host/Origin (DNS-rebinding protection); on when bound to loopback. */
  loopbackOnly: boolean;
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  userId: number;
  lastSeen: number;
}

export interface Host {
  app: Hono;
  sessionCount(): number;
  /** Close sessions idle longer than maxIdleMs; returns how many closed. */
  expireIdle(maxIdleMs: number, now?: number): Promise<number>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const STORAGE_DOWN = 'The database is unavailable right now, so the API key cannot be checked; try again shortly.';
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function createHost(opts: HostOptions): Host {
  const { deps, name } = opts;
  const sessions = new Map<string, Session>();
  const app = new Hono();

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
      withTimeout(deps.sql`select 1`, 3000, 'database').catch((e: Error) => failed.push(`database: ${e.message}`)),
      withTimeout(deps.cache.ping(), 3000, 'cache').catch((e: Error) => failed.push(`cache (${deps.cache.kind}): ${e.message}`)),
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
    if (opts.loopbackOnly) {
      const refusal = checkLoopback(c.req.header('host') ?? new URL(c.req.url).host, c.req.header('origin'), deps.config.allowedOrigins);
      if (refusal) return respond(c.json(jsonRpcError(refusal), 403));
    }
    let auth: AuthContext | null;
    try {
      auth = await authorize(deps, c.req.header('authorization'));
    } catch (err) {
      // The key check needs the database (unless the key is cached): an outage is a 503 sentence.
      if (!isStorageUnavailable(err)) throw err;
      logEvent('auth_unavailable', { server: name, ...errorFields(err, false) });
      return respond(c.json(jsonRpcError(STORAGE_DOWN), 503, { 'Retry-After': '5' }));
    }
    if (!auth) {
      return respond(
        c.json(jsonRpcError('Missing, unknown or revoked API key: send Authorization: Bearer <key>.'), 401, {
          'WWW-Authenticate': 'Bearer realm="aibt", error="invalid_token"',
        }),
      );
    }
    const authInfo = { token: 'redacted', clientId: auth.keyPrefix, scopes: auth.scopes, extra: { auth } };
    const sessionId = c.req.header('mcp-session-id');

    if (sessionId) {
      const session = sessions.get(sessionId);
      // Another user's session is reported like one that does not exist.
      if (!session || session.userId !== auth.userId) {
        return respond(c.json(jsonRpcError('Session not found or expired; start a new one with initialize.'), 404));
      }
      session.lastSeen = Date.now();
      return respond(await session.transport.handleRequest(c.req.raw, { authInfo }));
    }

    if (c.req.method !== 'POST') {
      return respond(c.json(jsonRpcError('Send initialize first: this request has no Mcp-Session-Id.'), 400));
    }
    const server = opts.createServer();
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Large enough that an oversized argument reaches zod and gets a sentence naming it.
      maxRequestBodySize: MAX_BODY_BYTES,
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, userId: auth.userId, lastSeen: Date.now() });
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    await server.connect(transport);
    const res = await transport.handleRequest(c.req.raw, { authInfo });
    if (!transport.sessionId || !sessions.has(transport.sessionId)) await server.close(); // not an initialize
    return respond(res);
  });

  const host: Host = {
    app,
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
      await Promise.all(all.map((s) => s.server.close().catch(() => {})));
    },
  };
  return host;
}

async function authorize(deps: Deps, header: string | undefined): Promise<AuthContext | null> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  return authenticate(deps.sql, m[1]!);
}

/** DNS-rebinding protection for a server bound to loopback. Returns a refusal or null. */
export function checkLoopback(host: string | undefined, origin: string | undefined, allowedOrigins: string[]): string | null {
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (!LOOPBACK.has(hostname)) return `Host '${host ?? ''}' is not allowed: this server only answers loopback hosts.`;
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

function jsonRpcError(message: string) {
  return { jsonrpc: '2.0', error: { code: -32000, message }, id: null };
}

function withTimeout<T>(p: Promise<T> | PromiseLike<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    Promise.resolve(p),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref()),
  ]);
}
