import type { ServerSpec } from '../../shared/mcp/server-spec.js';

export const rulesServer: ServerSpec = {
  name: 'rules',
  instructions: 'AIBT rules server. Its tools arrive with their issue.',
  tools: [],
};
