import type { ServerSpec } from '../../shared/mcp/server-spec.js';
import { approveOrderTool, rejectOrderTool } from './tools/approve_order.js';
import { buyTool, coverTool, sellTool, shortTool } from './tools/buy.js';
import { cancelOrderTool } from './tools/cancel_order.js';
import { closePositionTool } from './tools/close_position.js';
import { getPortfolioTool } from './tools/get_portfolio.js';
import { setExitsTool } from './tools/set_exits.js';
import { sizePositionTool } from './tools/size_position.js';
import { getTradingStatusTool } from './tools/get_trading_status.js';
import { haltTradingTool } from './tools/halt_trading.js';
import { listOrdersTool } from './tools/list_orders.js';
import { modifyOrderTool } from './tools/modify_order.js';
import { previewOrderTool } from './tools/preview_order.js';
import { resumeTradingTool } from './tools/resume_trading.js';

export const tradeServer: ServerSpec = {
  name: 'trade',
  instructions:
    "AIBT trade server: orders pass hard risk gates and the model's structured rules inside the server, in one transaction. A refused order is a result with status rejected and reasons, not an error. Prices are the run clock's.",
  tools: [
    buyTool,
    sellTool,
    shortTool,
    coverTool,
    closePositionTool,
    setExitsTool,
    previewOrderTool,
    sizePositionTool,
    modifyOrderTool,
    cancelOrderTool,
    listOrdersTool,
    getPortfolioTool,
    getTradingStatusTool,
    haltTradingTool,
    resumeTradingTool,
    approveOrderTool,
    rejectOrderTool,
  ],
};
