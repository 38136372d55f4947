import type { ServerSpec } from '../../shared/mcp/server-spec.js';

export const priceServer: ServerSpec = {
  name: 'price',
  instructions: 'AIBT price server. Its tools arrive with their issue.',
  tools: [],
};
