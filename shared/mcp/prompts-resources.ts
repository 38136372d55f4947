// Prompts, resource templates and argument completion, registered the way tools are: a scope
// checked from the caller's key, ownership left to the handler (another user's object reads
// as missing), errors as one sentence, one JSON log line per request.
import { ProtocolError, ProtocolErrorCode, ResourceTemplate, type GetPromptResult, type McpServer, type PromptMessage } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { AuthContext, Scope } from '../auth/keys.js';
import { requireScope } from '../auth/scopes.js';
import type { Deps } from '../deps.js';
import { logEvent } from '../log.js';
import { ToolError } from './errors.js';
import { authOf, errorSentence, type ToolExtra } from './tool.js';

export interface RequestContext {
  deps: Deps;
  auth: AuthContext;
  extra: ToolExtra;
}

/** Suggestions for an argument's value, best first (the client shows at most 100). */
export type Completer = (value: string, ctx: RequestContext, args: Record<string, string>) => Promise<string[]>;

/** A prompt: its arguments are strings (MCP prompt arguments always are). */
export interface PromptDef<A extends Record<string, z.ZodString | z.ZodOptional<z.ZodString>> = Record<string, z.ZodString>> {
  name: string;
  title: string;
  description: string;
  scope: Scope;
  args: A;
  complete?: Partial<Record<keyof A & string, Completer>>;
  handler(args: { [K in keyof A]: z.infer<A[K]> }, ctx: RequestContext): Promise<{ description: string; messages: PromptMessage[] }>;
}

/** A resource template (RFC 6570 level 1, e.g. aibt://runs/{run_id}/report). */
export interface ResourceDef {
  name: string;
  title: string;
  description: string;
  mimeType: string;
  scope: Scope;
  uriTemplate: string;
  /** The concrete resources resources/list shows for the caller. */
  list?(ctx: RequestContext): Promise<{ uri: string; name: string; title?: string; description?: string }[]>;
  complete?: Record<string, Completer>;
  read(vars: Record<string, string>, ctx: RequestContext): Promise<{ text: string } | { blob: Buffer }>;
}

export function definePrompt<A extends Record<string, z.ZodString | z.ZodOptional<z.ZodString>>>(def: PromptDef<A>): PromptDef<A> {
  return def;
}

/** A whole number from a prompt argument or URI variable, or one sentence naming it. */
export function idArgument(value: string | undefined, name: string): number {
  const s = (value ?? '').trim();
  if (!/^\d{1,10}$/.test(s) || Number(s) < 1 || Number(s) > 2_147_483_647) {
    throw new ToolError('BAD_ARGUMENTS', `${name} must be a positive whole number such as 12${s ? `, not '${s.slice(0, 40)}'` : ''}.`);
  }
  return Number(s);
}

export function registerPromptsAndResources(
  server: McpServer,
  deps: Deps,
  serverName: string,
  prompts: PromptDef<any>[],
  resources: ResourceDef[],
  fixedAuth?: AuthContext,
): void {
  /** Runs one request for the caller: scope, the work, one log line; errors become one sentence. */
  const serve = async <T>(method: string, name: string, scope: Scope, extra: ToolExtra, work: (ctx: RequestContext) => Promise<T>): Promise<T> => {
    const started = performance.now();
    const auth = authOf(extra, fixedAuth);
    let outcome = 'error';
    try {
      if (!auth) throw new ToolError('UNAUTHENTICATED', 'This request carries no authenticated key.');
      requireScope(auth, scope, name);
      const result = await work({ deps, auth, extra });
      outcome = 'ok';
      return result;
    } catch (err) {
      if (err instanceof ProtocolError) throw err;
      throw new ProtocolError(err instanceof ToolError ? ProtocolErrorCode.InvalidParams : ProtocolErrorCode.InternalError, errorSentence(err, serverName, name));
    } finally {
      const ms = Math.round((performance.now() - started) * 100) / 100;
      logEvent(method.replace('/', '_'), { server: serverName, name, key: auth?.keyPrefix ?? null, ms, outcome });
    }
  };

  const promptSchemas = new Map<string, z.ZodObject<any>>();
  for (const p of prompts) {
    const schema = z.object(p.args);
    promptSchemas.set(p.name, schema);
    server.registerPrompt(p.name, { title: p.title, description: p.description, argsSchema: schema }, ((args: Record<string, string>, extra: ToolExtra) =>
      serve('prompts/get', p.name, p.scope, extra, (ctx) => p.handler(args as never, ctx)) as Promise<GetPromptResult>) as never);
  }
  if (prompts.length) promptArgumentsInWords(server, promptSchemas);

  for (const r of resources) {
    const template = new ResourceTemplate(r.uriTemplate, {
      // listing shows nothing to a key without the scope rather than failing the whole list
      list: r.list
        ? async (extra) => {
            const auth = authOf(extra, fixedAuth);
            if (!auth || !auth.scopes.includes(r.scope)) return { resources: [] };
            const items = await serve('resources/list', r.name, r.scope, extra, (ctx) => r.list!(ctx));
            return { resources: items.map((i) => ({ ...i, mimeType: r.mimeType })) };
          }
        : undefined,
    });
    server.registerResource(r.name, template, { title: r.title, description: r.description, mimeType: r.mimeType }, (uri, vars, extra) =>
      serve('resources/read', r.name, r.scope, extra, async (ctx) => {
        const flat = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
        const body = await r.read(flat, ctx);
        return { contents: [{ uri: uri.href, mimeType: r.mimeType, ...('text' in body ? { text: body.text } : { blob: body.blob.toString('base64') }) }] };
      }),
    );
  }

  const completers = new Map<string, { scope: Scope; complete: Partial<Record<string, Completer>> }>();
  for (const p of prompts) if (p.complete) completers.set(`prompt:${p.name}`, { scope: p.scope, complete: p.complete });
  for (const r of resources) if (r.complete) completers.set(`resource:${r.uriTemplate}`, { scope: r.scope, complete: r.complete });
  if (!completers.size) return;
  // Our own completion/complete handler, since the SDK's completers are not told who asks.
  server.server.registerCapabilities({ completions: {} });
  server.server.setRequestHandler('completion/complete', async (request, extra) => {
    const { ref, argument, context } = request.params;
    const key = ref.type === 'ref/prompt' ? `prompt:${ref.name}` : `resource:${ref.uri}`;
    const entry = completers.get(key);
    const complete = entry?.complete[argument.name];
    if (!entry || !complete) return { completion: { values: [], hasMore: false } };
    const values = await serve('completion/complete', key, entry.scope, extra, (ctx) => complete(argument.value, ctx, context?.arguments ?? {}));
    return { completion: { values: values.slice(0, 100), total: values.length, hasMore: values.length > 100 } };
  });
}

/**
 * A prompt's arguments are strings: a bad one gets one sentence naming it (the SDK's text
 * lists zod issues), e.g. "Invalid arguments for prompt review_run: run_id must be a string such as "12"."
 */
function promptArgumentsInWords(server: McpServer, schemas: Map<string, z.ZodObject<any>>): void {
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, (req: any, extra: ToolExtra) => Promise<any>> })._requestHandlers;
  const inner = handlers.get('prompts/get');
  if (!inner) return;
  handlers.set('prompts/get', async (request, extra) => {
    const name = String(request?.params?.name ?? '');
    const schema = schemas.get(name);
    const args = (request?.params?.arguments ?? {}) as Record<string, unknown>;
    const parsed = schema?.safeParse(args);
    if (schema && parsed && !parsed.success) {
      const words = parsed.error.issues.slice(0, 5).map((i) => {
        const arg = i.path.map(String).join('.');
        if (!arg) return i.message.replace(/\.?$/, '.');
        if (i.code === 'invalid_type' && args[arg] === undefined) return `${arg} is required.`;
        return i.code === 'invalid_type' ? `${arg} must be a string such as "12" (prompt arguments are strings).` : `${arg}: ${i.message.replace(/\.?$/, '.')}`;
      });
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid arguments for prompt ${name}: ${words.join(' ')}`);
    }
    return inner(request, extra);
  });
}
