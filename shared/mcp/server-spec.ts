import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ServerName } from '../config.js';
import type { Deps } from '../deps.js';
import { registerPromptsAndResources, type PromptDef, type ResourceDef } from './prompts-resources.js';
import { registerTools, type ToolDef } from './tool.js';

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

/** A fresh McpServer for one session. */
export function buildServer(spec: ServerSpec, deps: Deps): McpServer {
  const server = new McpServer(
    { name: `aibt-${spec.name}`, version: SUITE_VERSION },
    { instructions: spec.instructions, capabilities: { tools: {}, logging: {} } },
  );
  registerTools(server, deps, spec.name, spec.tools);
  registerPromptsAndResources(server, deps, spec.name, spec.prompts ?? [], spec.resources ?? []);
  spec.extend?.(server, deps);
  return server;
}
