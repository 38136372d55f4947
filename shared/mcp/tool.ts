// The registration wrapper every tool goes through: scope check, one JSON log line,
// metrics, structured result plus a one-paragraph summary, and errors as one sentence.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ContentBlock, ServerNotification, ServerRequest, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { AuthContext, Scope } from '../auth/keys.js';
import { requireScope } from '../auth/scopes.js';
import type { Deps } from '../deps.js';
import { storageFaultSentence } from '../db/faults.js';
import { logEvent } from '../log.js';
import { isStorageUnavailable, ToolError } from './errors.js';
import { refuseControlCharacters } from './schemas.js';
import { clip, RESULT_CAP_BYTES, resultBytes } from './paging.js';

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ToolContext {
  deps: Deps;
  auth: AuthContext;
  /** The session's MCP server, for elicitation. */
  server: McpServer;
  extra: ToolExtra;
}

export interface ToolResult<O> {
  data: O;
  summary: string;
  /** Metrics/log outcome; defaults to "ok". A refused order says "rejected". */
  outcome?: string;
  /** Content items after the summary, e.g. an image. */
  content?: ContentBlock[];
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
  handler(args: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<ToolResult<z.infer<z.ZodObject<O>>>>;
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
const callKey = (extra: ToolExtra) => extra.signal;

export function registerTools(server: McpServer, deps: Deps, serverName: string, tools: ToolDef<any, any>[]): void {
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        // strict: an unknown argument is refused, not silently dropped
        inputSchema: z.object(tool.input).strict().superRefine(refuseControlCharacters),
        outputSchema: z.object(tool.output),
        annotations: tool.annotations,
      },
      async (args: unknown, extra: ToolExtra) => {
        const auth = extra.authInfo?.extra?.auth as AuthContext | undefined;
        try {
          if (!auth) throw new ToolError('UNAUTHENTICATED', 'This call carries no authenticated key.');
          requireScope(auth, tool.scope, tool.name);
          const result = await tool.handler(args as never, { deps, auth, server, extra });
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
    instrumentToolCalls(server, deps, serverName);
    withoutDraft07(server);
  }
}

/**
 * The SDK converts zod to JSON Schema draft-07 and says so in `$schema`; MCP assumes 2020-12,
 * and a client that validates 2020-12 refuses a draft-07 `$schema`. The schemas use nothing
 * that differs between the two, so the declaration is dropped.
 */
function withoutDraft07(server: McpServer): void {
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, (req: any, extra: ToolExtra) => Promise<any>> })._requestHandlers;
  const inner = handlers.get('tools/list');
  if (!inner) return;
  handlers.set('tools/list', async (request, extra) => {
    const result = await inner(request, extra);
    for (const tool of result?.tools ?? []) {
      for (const key of ['inputSchema', 'outputSchema'] as const) if (tool[key]) delete tool[key].$schema;
    }
    return result;
  });
}

/**
 * One JSON log line and the metrics for every tools/call, including calls the SDK refuses
 * before a handler runs (bad arguments), whose message is rewritten as plain sentences.
 */
function instrumentToolCalls(server: McpServer, deps: Deps, serverName: string): void {
  // The SDK keeps request handlers in a private map; wrapping the tools/call entry is the
  // one place that sees argument validation too.
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, (req: any, extra: ToolExtra) => Promise<any>> })._requestHandlers;
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
        const invalid = typeof text === 'string' ? invalidArguments(text) : null;
        if (invalid) result.content = [{ type: 'text', text: invalid }];
        outcome = invalid ? 'invalid' : 'error';
      } else {
        outcome = outcomes.get(callKey(extra)) ?? 'ok';
      }
      return result;
    } finally {
      outcomes.delete(callKey(extra));
      const ms = Math.round((performance.now() - started) * 100) / 100;
      const auth = extra.authInfo?.extra?.auth as AuthContext | undefined;
      deps.metrics.recordCall(serverName, tool, outcome, ms);
      logEvent('tool_call', { server: serverName, tool, key: auth?.keyPrefix ?? null, ms, outcome });
    }
  });
}

const INVALID = /^(?:MCP error -?\d+: )?Input validation error: Invalid arguments for tool (\S+): ([\s\S]*)$/;

/** "…Invalid arguments for tool x: a must be 1. at a\nToo big at b" → "Invalid arguments for x: a must be 1. b: Too big." */
export function invalidArguments(text: string): string | null {
  const m = INVALID.exec(text);
  if (!m) return null;
  const sentences = m[2]!.split('\n').map((line) => {
    const at = / at ([\w.\[\]]+)$/.exec(line);
    let msg = at ? line.slice(0, at.index) : line;
    const field = at?.[1];
    if (field && !msg.includes(field.split('.').pop()!)) msg = `${field}: ${msg}`;
    return /[.!?]$/.test(msg) ? msg : `${msg}.`;
  });
  return `Invalid arguments for ${m[1]}: ${sentences.join(' ')}`;
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
