// A tool that does nothing, registered only in bench ServerSpecs: the baseline every
// benchmark divides by (same host, auth, session, wrapper and MCP round trip).
import { z } from 'zod';
import type { ServerSpec } from '../shared/mcp/server-spec.js';
import { defineTool, READ_ONLY } from '../shared/mcp/tool.js';

export const noopTool = defineTool({
  name: 'noop',
  title: 'No-op',
  description: 'Does nothing; the baseline for benchmarks.',
  scope: 'read',
  input: {},
  output: { ok: z.boolean() },
  annotations: READ_ONLY,
  async handler() {
    return { data: { ok: true }, summary: 'ok' };
  },
});

/** The same server with the no-op tool added. */
export function withNoop(spec: ServerSpec): ServerSpec {
  return { ...spec, tools: [...spec.tools, noopTool] };
}
