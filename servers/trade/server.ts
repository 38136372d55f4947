import type { ServerSpec } from '../../shared/mcp/server-spec.js';

export const tradeServer: ServerSpec = {
  name: 'trade',
  instructions: 'AIBT trade server. Its tools arrive with their issue.',
  tools: [],
};
