// The registration wrapper every tool goes through: scope check, one JSON log line,
// metrics, structured result plus a one-paragraph summary, and errors as one sentence.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { AuthContext, Scope } from '../auth/keys.js';
import { requireScope } from '../auth/scopes.js';
import type { Deps } from '../deps.js';
import { logEvent } from '../log.js';
import { isStorageUnavailable, ToolError } from './errors.js';

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
}

export interface ToolDef<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  scope: Scope;
  input: I;
  output: O;
  annotations: Required<Pick<ToolAnnotations, 'readOnlyHint' | 'destructiveHint' | 'idempotentHint' | 'openWorldHint'>>;
  handler(args: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<ToolResult<z.infer<z.ZodObject<O>>>>;
}

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDef<I, O>): ToolDef<I, O> {
  return def;
}

export const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

export function registerTools(server: McpServer, deps: Deps, serverName: string, tools: ToolDef<any, any>[]): void {
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        // strict: an unknown argument is refused, not silently dropped
        inputSchema: z.object(tool.input).strict(),
        outputSchema: z.object(tool.output),
        annotations: tool.annotations,
      },
      async (args: unknown, extra: ToolExtra) => {
        const started = performance.now();
        const auth = extra.authInfo?.extra?.auth as AuthContext | undefined;
        let outcome = 'ok';
        try {
          if (!auth) throw new ToolError('UNAUTHENTICATED', 'This call carries no authenticated key.');
          requireScope(auth, tool.scope, tool.name);
          const result = await tool.handler(args as never, { deps, auth, server, extra });
          outcome = result.outcome ?? 'ok';
          return {
            content: [{ type: 'text' as const, text: result.summary }],
            structuredContent: result.data as Record<string, unknown>,
          };
        } catch (err) {
          outcome = 'error';
          return { content: [{ type: 'text' as const, text: errorSentence(err, serverName, tool.name) }], isError: true };
        } finally {
          const ms = Math.round((performance.now() - started) * 100) / 100;
          deps.metrics.recordCall(serverName, tool.name, outcome, ms);
          logEvent('tool_call', { server: serverName, tool: tool.name, key: auth?.keyPrefix ?? null, ms, outcome });
        }
      },
    );
  }
}

function errorSentence(err: unknown, serverName: string, toolName: string): string {
  if (err instanceof ToolError) return err.message;
  if (isStorageUnavailable(err)) return 'The database is unavailable right now; nothing was changed. Try again shortly.';
  logEvent('tool_error', {
    server: serverName,
    tool: toolName,
    error: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
  return `${toolName} failed on an internal error, which was logged; check the server log.`;
}
