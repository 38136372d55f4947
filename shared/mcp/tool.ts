// The registration wrapper every tool goes through: scope check, one JSON log line,
// metrics, structured result plus a one-paragraph summary, and errors as one sentence.
import type { ContentBlock, InputRequiredResult, McpServer, ServerContext, ToolAnnotations } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { AuthContext, Scope } from '../auth/keys.js';
import { requireScope } from '../auth/scopes.js';
import type { Deps } from '../deps.js';
import { storageFaultSentence } from '../db/faults.js';
import { callSignal, SHUTDOWN_REASON } from '../gate.js';
import { logEvent } from '../log.js';
import { isStorageUnavailable, ToolError } from './errors.js';
import { refuseControlCharacters, unlisted } from './schemas.js';
import { clip, RESULT_CAP_BYTES, resultBytes } from './paging.js';

/** The SDK's per-request context (signal, progress token in _meta, envelope, HTTP auth). */
export type ToolExtra = ServerContext;

export interface ToolContext {
  deps: Deps;
  auth: AuthContext;
  /** The MCP server serving this request (a 2025 session's, for elicitation). */
  server: McpServer;
  extra: ToolExtra;
  /**
   * Progress for a client that sent a progressToken (notifications/progress, at most one per
   * 100 ms, `done` of `total` in the tool's own unit, e.g. steps); a no-op otherwise. Never throws.
   */
  progress(done: number, total: number, message?: string): Promise<void>;
  /**
   * Aborted when the client cancels the call (or its connection closes), or when the server
   * begins shutting down (reason 'shutdown', shared/gate.ts): stop at the next step.
   */
  signal: AbortSignal;
}

/**
 * Throws CANCELLED when the client cancelled, SHUTTING_DOWN when the server began shutting
 * down: for tools that stop between steps and commit nothing after.
 */
export function stopIfCancelled(ctx: Pick<ToolContext, 'signal'>): void {
  if (!ctx.signal.aborted) return;
  if (ctx.signal.reason === SHUTDOWN_REASON) {
    throw new ToolError('SHUTTING_DOWN', 'The server is shutting down; the call stopped at its next step and nothing after that was done. Retry in a few seconds.');
  }
  throw new ToolError('CANCELLED', 'The client cancelled the call; it stopped at its next step and nothing after that was done.');
}

/** ToolContext.progress for one request. */
function progressFor(extra: ToolExtra): ToolContext['progress'] {
  const token = extra.mcpReq._meta?.progressToken;
  if (token === undefined) return async () => {};
  let last = -Infinity;
  let sentAt = 0;
  return async (done, total, message) => {
    const now = performance.now();
    if (done <= last || (done < total && now - sentAt < 100)) return;
    last = done;
    sentAt = now;
    await extra.mcpReq
      .notify({ method: 'notifications/progress', params: { progressToken: token, progress: done, total, ...(message ? { message } : {}) } })
      .catch(() => {});
  };
}

/** The key a request acts as: HTTP passes it per request; stdio has one key for the process. */
export function authOf(extra: ToolExtra, fixed?: AuthContext): AuthContext | undefined {
  return (extra.http?.authInfo?.extra?.auth as AuthContext | undefined) ?? fixed;
}

export interface ToolResult<O> {
  data: O;
  summary: string;
  /** Metrics/log outcome; defaults to "ok". A refused order says "rejected". */
  outcome?: string;
  /** Content items after the summary, e.g. an image. */
  content?: ContentBlock[];
}

/**
 * A 2026-07-28 answer that needs the person first (built with the SDK's inputRequired()): the
 * client asks, then calls the tool again with the answers and the requestState.
 */
export interface InputRequiredAnswer {
  inputRequired: InputRequiredResult;
}

export interface ToolDef<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  /** The scope a key needs; with several, any one of them. */
  scope: Scope | readonly Scope[];
  input: I;
  output: O;
  annotations: Required<Pick<ToolAnnotations, 'readOnlyHint' | 'destructiveHint' | 'idempotentHint' | 'openWorldHint'>>;
  handler(args: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<ToolResult<z.infer<z.ZodObject<O>>> | InputRequiredAnswer>;
}

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDef<I, O>): ToolDef<I, O> {
  return def;
}

export const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

/**
 * Outcomes handlers reported (e.g. "rejected") for the call-level log line, keyed by the
 * request's own AbortSignal: stateless clients have no session id, and request ids repeat.
 */
const outcomes = new WeakMap<AbortSignal, string>();
const callKey = (extra: ToolExtra) => extra.mcpReq.signal;

/** A tool's zod schemas, built once per definition and shared by every server instance. */
interface Compiled {
  input: z.ZodType;
  output: z.ZodObject<any>;
}
const compiled = new WeakMap<ToolDef<any, any>, Compiled>();
function compile(tool: ToolDef<any, any>): Compiled {
  let c = compiled.get(tool);
  if (!c) {
    // strict: an unknown argument is refused, not silently dropped (said in the refusal, not in tools/list)
    c = { input: z.object(tool.input).strict().superRefine(refuseControlCharacters).meta(unlisted('additionalProperties')), output: z.object(tool.output) };
    compiled.set(tool, c);
  }
  return c;
}

export function registerTools(server: McpServer, deps: Deps, serverName: string, tools: ToolDef<any, any>[], fixedAuth?: AuthContext): void {
  for (const tool of tools) {
    const schemas = compile(tool);
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: schemas.input as z.ZodObject<any>,
        outputSchema: schemas.output,
        annotations: tool.annotations,
      },
      async (args: unknown, extra: ToolExtra) => {
        const auth = authOf(extra, fixedAuth);
        try {
          if (!auth) throw new ToolError('UNAUTHENTICATED', 'This call carries no authenticated key.');
          requireScope(auth, tool.scope, tool.name);
          const call = callSignal(deps, extra.mcpReq.signal);
          let result: Awaited<ReturnType<typeof tool.handler>>;
          try {
            result = await tool.handler(args as never, { deps, auth, server, extra, progress: progressFor(extra), signal: call.signal });
          } finally {
            call.release();
          }
          if ('inputRequired' in result) return result.inputRequired;
          const answer = {
            // the summary is one paragraph; clipped so it never crowds the structured result
            content: [{ type: 'text' as const, text: clip(result.summary) }] as ContentBlock[],
            structuredContent: result.data as Record<string, unknown>,
          };
          const bytes = resultBytes(answer);
          if (bytes > RESULT_CAP_BYTES) logEvent('result_over_cap', { server: serverName, tool: tool.name, bytes, cap: RESULT_CAP_BYTES });
          // an image or other media the tool asked for is not part of the JSON cap
          if (result.content) answer.content.push(...result.content);
          if (result.outcome) outcomes.set(callKey(extra), result.outcome);
          return answer;
        } catch (err) {
          return { content: [{ type: 'text' as const, text: errorSentence(err, serverName, tool.name) }], isError: true };
        }
      },
    );
  }
  deps.metrics.knowTools(serverName, tools.map((t) => t.name));
  if (tools.length) {
    instrumentToolCalls(server, deps, serverName, new Map(tools.map((t) => [t.name, t])), fixedAuth);
    listOnce(server, tools);
  }
}

type Handler = (req: any, extra: ToolExtra) => Promise<any>;
/** The SDK keeps request handlers in a private map; wrapping an entry is the one place that sees every call. */
function handlersOf(server: McpServer): Map<string, Handler> {
  return (server.server as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers;
}

const listings = new WeakMap<ToolDef<any, any>[], unknown[]>();

/**
 * tools/list answered from a listing built once per tool set (the SDK converts every schema
 * to JSON Schema on every list). `$schema` is left out: MCP assumes 2020-12.
 */
function listOnce(server: McpServer, tools: ToolDef<any, any>[]): void {
  const handlers = handlersOf(server);
  const inner = handlers.get('tools/list');
  if (!inner) return;
  handlers.set('tools/list', async (request, extra) => {
    let list = listings.get(tools);
    if (!list) {
      const result = await inner(request, extra);
      list = (result?.tools ?? []) as unknown[];
      for (const tool of list as Record<string, Record<string, unknown> | undefined>[]) {
        for (const key of ['inputSchema', 'outputSchema'] as const) if (tool[key]) delete tool[key]!.$schema;
      }
      listings.set(tools, list);
    }
    return { tools: list };
  });
}

/**
 * One JSON log line and the metrics for every tools/call, including calls the SDK refuses
 * before a handler runs (bad arguments), whose message is rewritten as plain sentences.
 */
function instrumentToolCalls(server: McpServer, deps: Deps, serverName: string, byName: Map<string, ToolDef<any, any>>, fixedAuth?: AuthContext): void {
  const handlers = handlersOf(server);
  const inner = handlers.get('tools/call');
  if (!inner) return;
  handlers.set('tools/call', async (request, extra) => {
    const started = performance.now();
    const tool = String(request?.params?.name ?? 'unknown');
    let outcome = 'error';
    try {
      const result = await inner(request, extra);
      if (result?.isError) {
        const text = result.content?.[0]?.text;
        const def = byName.get(tool);
        // the SDK refused the arguments before the handler ran: say it again in our words
        const invalid = def && typeof text === 'string' && /^(?:MCP error -?\d+: )?(?:Input validation error|Invalid arguments)/.test(text) ? argumentsSentence(def, request?.params?.arguments) : null;
        if (invalid) result.content = [{ type: 'text', text: invalid }];
        outcome = invalid ? 'invalid' : 'error';
      } else {
        outcome = outcomes.get(callKey(extra)) ?? 'ok';
      }
      return result;
    } finally {
      outcomes.delete(callKey(extra));
      const ms = Math.round((performance.now() - started) * 100) / 100;
      const auth = authOf(extra, fixedAuth);
      deps.metrics.recordCall(serverName, tool, outcome, ms);
      logEvent('tool_call', { server: serverName, tool, key: auth?.keyPrefix ?? null, ms, outcome });
    }
  });
}

/**
 * One sentence per problem, naming the argument: "Invalid arguments for x: a must be 1.
 * max_orders_per_minute: Too big: expected number to be <=10000. Unrecognized key: "leverage"."
 */
export function argumentsSentence(tool: ToolDef<any, any>, args: unknown): string {
  const r = compile(tool).input.safeParse(args ?? {});
  if (r.success) return `Invalid arguments for ${tool.name}.`;
  const seen = new Set<string>();
  const sentences: string[] = [];
  for (const issue of r.error.issues) {
    const field = issue.path.reduce<string>((at, p) => (typeof p === 'number' ? `${at}[${p}]` : at ? `${at}.${String(p)}` : String(p)), '');
    // one sentence per argument: the first problem found (a denormal price breaks two checks)
    if (field && seen.has(field)) continue;
    seen.add(field);
    let msg = issue.message;
    const named = issue.path.filter((p) => typeof p === 'string').pop();
    // the message names the argument itself only when it holds the name as a whole word
    const namesIt = named !== undefined && new RegExp(`(^|[^A-Za-z0-9_])${String(named).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_])`).test(msg);
    if (field && !namesIt) msg = `${field}: ${msg}`;
    sentences.push(/[.!?]$/.test(msg) ? msg : `${msg}.`);
    if (sentences.length === 5) break;
  }
  return `Invalid arguments for ${tool.name}: ${sentences.join(' ')}`;
}

export function errorSentence(err: unknown, serverName: string, toolName: string): string {
  if (err instanceof ToolError) return err.message;
  if (isStorageUnavailable(err)) return 'The database is unavailable right now; nothing was changed. Try again shortly.';
  const fault = storageFaultSentence(err); // disk full, read-only, damaged: one log line per episode
  if (fault) return fault;
  logEvent('tool_error', {
    server: serverName,
    tool: toolName,
    error: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
  return `${toolName} failed on an internal error, which was logged; check the server log.`;
}
