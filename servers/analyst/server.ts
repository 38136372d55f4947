import type { ServerSpec } from '../../shared/mcp/server-spec.js';

export const analystServer: ServerSpec = {
  name: 'analyst',
  instructions: 'AIBT analyst server. Its tools arrive with their issue.',
  tools: [],
};
