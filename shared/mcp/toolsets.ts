// Toolsets: groups of tools a deployment or a stdio client can choose (AIBT_TOOLSETS,
// `aibt stdio --toolsets`), so an agent pays only for the tools/list it uses. A tool's set is
// its server's, except the person's and operator's controls, which are `admin`.
import type { ServerName } from '../config.js';
import type { ToolDef } from './tool.js';

export const TOOLSETS = ['trading', 'market', 'rules', 'runs', 'analysis', 'admin'] as const;
export type Toolset = (typeof TOOLSETS)[number];

const BY_SERVER: Record<ServerName, Toolset> = { trade: 'trading', price: 'market', rules: 'rules', runs: 'runs', analyst: 'analysis' };
/** Approvals and halts: a person's or an operator's controls, not an agent's everyday tools. */
const ADMIN_TOOLS = new Set(['approve_order', 'reject_order', 'halt_trading', 'resume_trading']);

export function toolsetOf(server: ServerName, tool: ToolDef<any, any>): Toolset {
  return ADMIN_TOOLS.has(tool.name) ? 'admin' : BY_SERVER[server];
}

/**
 * The toolsets a comma-separated list names ("trading,market"); empty or "all" is every set.
 * Throws one sentence naming an unknown set.
 */
export function parseToolsets(value: string | undefined): ReadonlySet<Toolset> {
  const names = (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (!names.length || names.includes('all')) return new Set(TOOLSETS);
  for (const n of names) {
    if (!(TOOLSETS as readonly string[]).includes(n)) throw new Error(`Unknown toolset '${n}': choose from ${TOOLSETS.join(', ')} (or all).`);
  }
  return new Set(names as Toolset[]);
}
