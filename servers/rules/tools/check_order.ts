import { z } from 'zod';
import { checkedRules, evaluateOrder, portfolioValueCents } from '../../../shared/domain/rules/engine.js';
import { formatCents, formatPrice, fromCents } from '../../../shared/domain/money.js';
import { commissionCents } from '../../../shared/domain/fills.js';
import { ToolError } from '../../../shared/mcp/errors.js';
import { idSchema, symbolSchema, unlisted } from '../../../shared/mcp/schemas.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';
import { getOwnedModel } from '../../../shared/store/models.js';
import { loadPortfolioSnapshot } from '../../../shared/store/portfolio-snapshot.js';
import { loadActiveRules } from '../../../shared/store/rules.js';
import { getRunningRun } from '../../../shared/store/runs.js';

export const checkOrderTool = defineTool({
  name: 'check_order',
  title: 'Check order against rules',
  description:
    "Would this order break any of the model's active rules? Checked on the running run's portfolio at its clock (no run: initial cash). Rules only, not the risk gates; places nothing.",
  scope: 'read',
  input: {
    model_id: idSchema('model_id'),
    side: z.enum(['buy', 'sell', 'short', 'cover']).describe('Side of the order'),
    symbol: symbolSchema,
    quantity: z
      .number({ error: 'quantity must be a whole number of shares.' })
      .int({ error: 'quantity must be a whole number of shares.' })
      .min(1, { error: 'quantity must be at least 1 share.' })
      .max(1_000_000_000, { error: 'quantity must be at most 1,000,000,000 shares.' })
      .meta(unlisted('maximum'))
      .describe('Whole shares to check'),
    price: z
      .number()
      .min(0.0001, { error: 'price must be at least $0.0001.' })
      .max(1_000_000, { error: 'price must be at most 1,000,000.' })
      .meta(unlisted('minimum', 'maximum'))
      .optional()
      .describe('Price per share, USD (default: the market price at the clock)'),
  },
  output: {
    allowed: z.boolean(),
    violations: z.array(z.object({ rule_id: z.number(), rule_name: z.string(), code: z.string(), message: z.string() })),
    rules_checked: z.array(z.object({ rule_id: z.number(), rule_name: z.string(), rule_category: z.string() })),
    price: z.number(),
    clock: z.string(),
    run_id: z.number().nullable(),
    portfolio_value: z.number(),
  },
  annotations: READ_ONLY,
  async handler({ model_id, side, symbol, quantity, price }, { deps, auth }) {
    const model = await getOwnedModel(deps.sql, auth.userId, model_id);
    const run = await getRunningRun(deps.sql, model_id);
    // A replay run's clock is its simulated instant; a live run (or none) is now.
    const clock = run?.kind === 'replay' ? new Date(run.clock) : new Date();
    let orderPrice = price;
    if (orderPrice === undefined) {
      const quote = await deps.market.priceAt(symbol, clock);
      if (!quote) throw new ToolError('NO_PRICE', `No price for ${symbol} at ${clock.toISOString()}; pass price.`);
      orderPrice = quote.price;
    }
    const [rules, portfolio] = await Promise.all([
      loadActiveRules(deps.sql, model_id),
      loadPortfolioSnapshot(deps.sql, run, model.initial_cash, deps.market, clock),
    ]);
    // min_cash_reserve_pct counts the commission the order would pay.
    const order = { side, symbol, quantity, price: orderPrice, commissionCents: commissionCents(quantity, model.commission_per_share) };
    const violations = evaluateOrder(order, portfolio, clock, rules);
    const checked = checkedRules(rules, symbol);
    const valueCents = portfolioValueCents(portfolio);
    const what = `${side} ${quantity} ${symbol} at ${formatPrice(orderPrice)}`;
    return {
      data: {
        allowed: violations.length === 0,
        violations: violations.map((v) => ({ rule_id: Number(v.ruleId), rule_name: v.ruleName, code: v.code, message: v.message })),
        rules_checked: checked.map((r) => ({ rule_id: Number(r.ruleId), rule_name: r.ruleName, rule_category: r.ruleCategory })),
        price: orderPrice,
        clock: clock.toISOString(),
        run_id: run?.run_id ?? null,
        portfolio_value: fromCents(valueCents),
      },
      summary: violations.length
        ? `Not allowed: ${what} breaks ${violations.length} rule(s). ${violations.map((v) => v.message).join('; ')}.`
        : `Allowed: ${what} passes ${checked.length} rule(s) on a ${formatCents(valueCents)} portfolio.`,
    };
  },
});
