import type { ServerSpec } from '../../shared/mcp/server-spec.js';
import { applyTemplateTool } from './tools/apply_template.js';
import { checkOrderTool } from './tools/check_order.js';
import { createRuleTool } from './tools/create_rule.js';
import { deleteRuleTool } from './tools/delete_rule.js';
import { getRuleTool } from './tools/get_rule.js';
import { getRulesHistoryTool } from './tools/get_rules_history.js';
import { listRulesTool } from './tools/list_rules.js';
import { listTemplatesTool } from './tools/list_templates.js';
import { setRuleActiveTool } from './tools/set_rule_active.js';
import { updateRuleTool } from './tools/update_rule.js';

export const rulesServer: ServerSpec = {
  name: 'rules',
  instructions:
    "AIBT rules server: structured, versioned rules per model that the trade server enforces on every order. Fractions are 0–1 (0.2 = 20%); times are HH:MM New York. Changing rules needs the 'rules:write' scope; every change is kept in get_rules_history.",
  tools: [
    listRulesTool,
    getRuleTool,
    createRuleTool,
    updateRuleTool,
    deleteRuleTool,
    setRuleActiveTool,
    listTemplatesTool,
    applyTemplateTool,
    checkOrderTool,
    getRulesHistoryTool,
  ],
};
