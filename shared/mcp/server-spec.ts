import { McpServer } from '@modelcontextprotocol/server';
import type { AuthContext } from '../auth/keys.js';
import type { ServerName } from '../config.js';
import type { Deps } from '../deps.js';
import { registerPromptsAndResources, type PromptDef, type ResourceDef } from './prompts-resources.js';
import { registerTools, type ToolDef } from './tool.js';
import { parseToolsets, toolsetOf } from './toolsets.js';

/** One MCP server: its tools, plus prompts/resources where it has them. */
export interface ServerSpec {
  name: ServerName;
  instructions: string;
  tools: ToolDef<any, any>[];
  prompts?: PromptDef<any>[];
  /** Resource templates, with the concrete resources each lists for the caller. */
  resources?: ResourceDef[];
  extend?(server: McpServer, deps: Deps): void;
}

export const SUITE_VERSION = '0.1.0';

export interface BuildOptions {
  /** The server's name in metrics and logs (stdio serves several specs as one). */
  label?: string;
  /** The key every request acts as (stdio); HTTP passes the key per request. */
  fixedAuth?: AuthContext;
}

/** An McpServer with the specs' tools, prompts and resources (one spec over HTTP, several over stdio). */
export function buildServer(specs: ServerSpec | ServerSpec[], deps: Deps, opts: BuildOptions = {}): McpServer {
  const list = Array.isArray(specs) ? specs : [specs];
  const name = list.length === 1 ? `aibt-${list[0]!.name}` : 'aibt';
  const label = opts.label ?? list[0]!.name;
  const server = new McpServer(
    { name, version: SUITE_VERSION },
    { instructions: list.map((s) => s.instructions).join('\n\n'), capabilities: { tools: {}, logging: {} } },
  );
  const tools = toolsOf(list, deps.config.AIBT_TOOLSETS);
  registerTools(server, deps, label, tools, opts.fixedAuth);
  registerPromptsAndResources(server, deps, label, list.flatMap((s) => s.prompts ?? []), list.flatMap((s) => s.resources ?? []), opts.fixedAuth);
  for (const s of list) s.extend?.(server, deps);
  return server;
}

/**
 * The specs' tools in the chosen toolsets (AIBT_TOOLSETS; all when unset), one array per
 * choice, so the listing built once per tool set is shared by every instance.
 */
const combined = new Map<string, ToolDef<any, any>[]>();
function toolsOf(specs: ServerSpec[], toolsets: string | undefined): ToolDef<any, any>[] {
  const sets = parseToolsets(toolsets);
  if (specs.length === 1 && sets.size === 6) return specs[0]!.tools;
  const key = `${specs.map((s) => s.name).join(',')}|${[...sets].join(',')}`;
  let tools = combined.get(key);
  if (!tools) combined.set(key, (tools = specs.flatMap((s) => s.tools.filter((t) => sets.has(toolsetOf(s.name, t))))));
  return tools;
}

type Era = 'legacy' | 'modern';
type Handler = (req: unknown, extra: unknown) => Promise<unknown>;

/**
 * McpServer instances built once and reused: the SDK's HTTP entry asks its factory for an
 * instance per request, and building one (tools, schemas, handlers) costs more than a
 * no-op call. An instance goes back to its era's idle list when its request's transport
 * has closed and no handler of it is still running (so a late progress notification can
 * never reach the next caller). At most `maxIdle` wait per era; more are built under load.
 */
export class ServerPool {
  private readonly idle: Record<Era, McpServer[]> = { legacy: [], modern: [] };
  private readonly running = new WeakMap<McpServer, number>();
  private readonly closed = new WeakSet<McpServer>();
  built = 0;

  constructor(
    private readonly build: () => McpServer,
    private readonly maxIdle = 32,
  ) {}

  take(era: Era): McpServer {
    const server = this.idle[era].pop() ?? this.fresh();
    this.closed.delete(server);
    server.server.onclose = () => {
      this.closed.add(server);
      this.release(server, era);
    };
    return server;
  }

  private fresh(): McpServer {
    const server = this.build();
    this.built++;
    const handlers = (server.server as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers;
    for (const [method, inner] of handlers) {
      handlers.set(method, async (req, extra) => {
        this.running.set(server, (this.running.get(server) ?? 0) + 1);
        try {
          return await inner(req, extra);
        } finally {
          this.running.set(server, this.running.get(server)! - 1);
          if (this.closed.has(server)) this.release(server, null);
        }
      });
    }
    return server;
  }

  private eraOf = new WeakMap<McpServer, Era>();

  private release(server: McpServer, era: Era | null): void {
    if (era) this.eraOf.set(server, era);
    if ((this.running.get(server) ?? 0) > 0 || !this.closed.has(server)) return;
    const to = this.eraOf.get(server);
    this.closed.delete(server);
    this.eraOf.delete(server);
    if (!to) return;
    // what a fresh instance starts with: no client identity from the previous caller
    const s = server.server as unknown as { _clientCapabilities?: unknown; _clientVersion?: unknown };
    s._clientCapabilities = undefined;
    s._clientVersion = undefined;
    server.server.onclose = undefined;
    if (this.idle[to].length < this.maxIdle && !this.idle[to].includes(server)) this.idle[to].push(server);
  }
}
