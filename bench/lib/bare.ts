// The bare floor every ratio table states beside the warm no-op (issue 19 item 9): the same
// no-op tool on a bare SDK v2 createMcpHandler server whose factory builds a fresh McpServer
// per request (the SDK's own idiom), no auth, no rate limit, no database, served by
// @hono/node-server in the bench's server process. A faster host cannot hide behind it.
import { serve } from '@hono/node-server';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

export function bareServer(): Promise<{ url: string; close: () => void }> {
  const handler = createMcpHandler(() => {
    const s = new McpServer({ name: 'bare', version: '1.0.0' }, { capabilities: { tools: {} } });
    s.registerTool('noop', { description: 'Does nothing.', inputSchema: z.object({}), outputSchema: z.object({ ok: z.boolean() }) }, async () => ({
      content: [{ type: 'text', text: 'ok' }],
      structuredContent: { ok: true },
    }));
    return s;
  });
  return new Promise((resolve) => {
    const server = serve({ fetch: (req) => handler.fetch(req), port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({ url: `http://127.0.0.1:${info.port}/mcp`, close: () => server.close() }),
    );
  });
}
