import type { ServerSpec } from '../../shared/mcp/server-spec.js';
import { getBarsTool } from './tools/get_bars.js';
import { getIndicatorsTool } from './tools/get_indicators.js';
import { getMarketStatusTool } from './tools/get_market_status.js';
import { getPriceTool } from './tools/get_price.js';
import { listSymbolsTool } from './tools/list_symbols.js';

export const priceServer: ServerSpec = {
  name: 'price',
  instructions:
    "AIBT price server: market data with no look-ahead. With run_id (or at), 'now' is the run's clock; only bars closed by then are returned, and the price is the open of the bar starting then. Sources: imported files, Polygon, or a simulated market. Times are UTC ISO-8601.",
  tools: [getPriceTool, getBarsTool, getIndicatorsTool, getMarketStatusTool, listSymbolsTool],
};
