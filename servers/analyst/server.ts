import type { ServerSpec } from '../../shared/mcp/server-spec.js';
import { ANALYST_PROMPTS } from './prompts.js';
import { ANALYST_RESOURCES } from './resources.js';
import { analyzeTradesTool } from './tools/analyze_trades.js';
import { calculateMetricsTool } from './tools/calculate_metrics.js';
import { compareRunsTool } from './tools/compare_runs.js';
import { detectThreatsTool } from './tools/detect_threats.js';
import { riskScoreTool } from './tools/risk_score.js';
import { equityChartTool } from './tools/equity_chart.js';
import { getConversationTool } from './tools/get_conversation.js';
import { saveConversationTurnTool } from './tools/save_conversation_turn.js';
import { replayWithRulesTool } from './tools/replay_with_rules.js';
import { suggestRulesTool } from './tools/suggest_rules.js';

export const analystServer: ServerSpec = {
  name: 'analyst',
  instructions:
    'AIBT analyst server: what happened in a run and why. Metrics from the equity curve, FIFO round trips with the reasoning behind them, run comparison. Times are UTC ISO-8601; money in dollars; returns as fractions.',
  tools: [
    calculateMetricsTool,
    analyzeTradesTool,
    compareRunsTool,
    equityChartTool,
    saveConversationTurnTool,
    getConversationTool,
    detectThreatsTool,
    riskScoreTool,
    replayWithRulesTool,
    suggestRulesTool,
  ],
  prompts: ANALYST_PROMPTS,
  resources: ANALYST_RESOURCES,
};
