// Ready-made rule sets (list_templates / apply_template). Each is plain data that must
// pass parseEnforcementParams; templates.test.ts checks every one.

import type { RuleCategory } from '../types.js';

export type TemplateName = 'day_trader' | 'swing_trader' | 'scalper' | 'investor';

export interface TemplateRule {
  rule_name: string;
  rule_description: string;
  rule_category: RuleCategory;
  enforcement_params: Record<string, unknown>;
  priority: number;
}

export interface Template {
  name: string;
  description: string;
  rules: TemplateRule[];
}

export const TEMPLATE_NAMES = ['day_trader', 'swing_trader', 'scalper', 'investor'] as const satisfies readonly TemplateName[];

export const TEMPLATES: Record<TemplateName, Template> = {
  day_trader: {
    name: 'Day trader',
    description:
      'Intraday trading with every position closed before the bell, so no overnight gap risk. ' +
      'Positions are capped at 20% and three at a time so one bad idea cannot sink the day, ' +
      'and a 3% daily loss limit stops revenge trading. Stops at 1.5% and targets at 2.5% keep ' +
      'winners larger than losers. The chaotic first five minutes and the thin midday hours are off limits.',
    rules: [
      {
        rule_name: 'Daily loss limit 3%',
        rule_description: 'After losing 3% of the day-start value, take no new risk for the rest of the day.',
        rule_category: 'risk',
        enforcement_params: { daily_loss_limit_pct: 0.03 },
        priority: 10,
      },
      {
        rule_name: 'Max 20% per position',
        rule_description: 'No single position may exceed 20% of portfolio value.',
        rule_category: 'position_sizing',
        enforcement_params: { max_position_pct: 0.2 },
        priority: 9,
      },
      {
        rule_name: 'Stop loss 1.5%',
        rule_description: 'Exit a position 1.5% against its average cost.',
        rule_category: 'stop_loss',
        enforcement_params: { stop_loss_pct: 0.015 },
        priority: 9,
      },
      {
        rule_name: 'Flatten by 15:55',
        rule_description: 'Close every position at 15:55 ET: no overnight holds.',
        rule_category: 'timing',
        enforcement_params: { flatten_by: '15:55' },
        priority: 9,
      },
      {
        rule_name: 'Max 3 positions',
        rule_description: 'At most three open positions at a time.',
        rule_category: 'risk',
        enforcement_params: { max_positions: 3 },
        priority: 8,
      },
      {
        rule_name: 'Take profit 2.5%',
        rule_description: 'Take the gain when a position is 2.5% in favour of its average cost.',
        rule_category: 'stop_loss',
        enforcement_params: { take_profit_pct: 0.025 },
        priority: 7,
      },
      {
        rule_name: 'No trading at the open or midday',
        rule_description: 'No new risk 09:30–09:35 ET (opening auction noise) or 12:00–14:00 ET (thin midday volume).',
        rule_category: 'timing',
        enforcement_params: {
          blackout_windows: [
            { start: '09:30', end: '09:35' },
            { start: '12:00', end: '14:00' },
          ],
        },
        priority: 7,
      },
    ],
  },
  swing_trader: {
    name: 'Swing trader',
    description:
      'Holds positions for days to weeks to ride a move. Wider 5% stops leave room for daily noise, ' +
      'while a 12% target keeps the reward well above the risk. Up to five positions of at most 25% ' +
      'each spread the bets, and a 15% drawdown from the peak stops new risk until someone reviews the strategy.',
    rules: [
      {
        rule_name: 'Max drawdown 15%',
        rule_description: 'At 15% below the run peak, take no new risk.',
        rule_category: 'risk',
        enforcement_params: { max_drawdown_pct: 0.15 },
        priority: 10,
      },
      {
        rule_name: 'Max 25% per position',
        rule_description: 'No single position may exceed 25% of portfolio value.',
        rule_category: 'position_sizing',
        enforcement_params: { max_position_pct: 0.25 },
        priority: 9,
      },
      {
        rule_name: 'Stop loss 5%',
        rule_description: 'Exit a position 5% against its average cost.',
        rule_category: 'stop_loss',
        enforcement_params: { stop_loss_pct: 0.05 },
        priority: 9,
      },
      {
        rule_name: 'Max 5 positions',
        rule_description: 'At most five open positions at a time.',
        rule_category: 'risk',
        enforcement_params: { max_positions: 5 },
        priority: 8,
      },
      {
        rule_name: 'Take profit 12%',
        rule_description: 'Take the gain when a position is 12% in favour of its average cost.',
        rule_category: 'stop_loss',
        enforcement_params: { take_profit_pct: 0.12 },
        priority: 7,
      },
    ],
  },
  scalper: {
    name: 'Scalper',
    description:
      'Many small, quick trades on liquid names. Each position is small (10%) and at most two are open, ' +
      'with very tight 0.3% stops and 0.5% targets. A cap of 50 trades a day and a 2% daily loss limit ' +
      'guard against overtrading. Trading waits until the open settles (09:45) and stops at 15:45; ' +
      'everything is flat by 15:50.',
    rules: [
      {
        rule_name: 'Daily loss limit 2%',
        rule_description: 'After losing 2% of the day-start value, take no new risk for the rest of the day.',
        rule_category: 'risk',
        enforcement_params: { daily_loss_limit_pct: 0.02 },
        priority: 10,
      },
      {
        rule_name: 'Max 10% per position',
        rule_description: 'No single position may exceed 10% of portfolio value.',
        rule_category: 'position_sizing',
        enforcement_params: { max_position_pct: 0.1 },
        priority: 9,
      },
      {
        rule_name: 'Tight stop 0.3% / target 0.5%',
        rule_description: 'Exit 0.3% against the average cost, or take the gain at 0.5% in favour.',
        rule_category: 'stop_loss',
        enforcement_params: { stop_loss_pct: 0.003, take_profit_pct: 0.005 },
        priority: 9,
      },
      {
        rule_name: 'Flatten by 15:50',
        rule_description: 'Close every position at 15:50 ET.',
        rule_category: 'timing',
        enforcement_params: { flatten_by: '15:50' },
        priority: 9,
      },
      {
        rule_name: 'Max 2 positions',
        rule_description: 'At most two open positions at a time.',
        rule_category: 'risk',
        enforcement_params: { max_positions: 2 },
        priority: 8,
      },
      {
        rule_name: 'Max 50 trades per day',
        rule_description: 'A cap on trades per day against overtrading.',
        rule_category: 'risk',
        enforcement_params: { max_trades_per_day: 50 },
        priority: 8,
      },
      {
        rule_name: 'Trade 09:45–15:45 only',
        rule_description: 'New risk only between 09:45 and 15:45 ET, away from the open and close auctions.',
        rule_category: 'timing',
        enforcement_params: { trading_hours: { start: '09:45', end: '15:45' } },
        priority: 7,
      },
    ],
  },
  investor: {
    name: 'Investor',
    description:
      'Long-term, diversified holdings. No position above 10% and up to fifteen of them, ' +
      'with 5% kept in cash for opportunities and costs. A wide 15% stop only cuts a position that has clearly ' +
      'broken down, and a 20% drawdown from the peak stops new buying until the strategy is reviewed.',
    rules: [
      {
        rule_name: 'Max drawdown 20%',
        rule_description: 'At 20% below the run peak, take no new risk.',
        rule_category: 'risk',
        enforcement_params: { max_drawdown_pct: 0.2 },
        priority: 10,
      },
      {
        rule_name: 'Max 10% per position',
        rule_description: 'No single position may exceed 10% of portfolio value.',
        rule_category: 'position_sizing',
        enforcement_params: { max_position_pct: 0.1 },
        priority: 9,
      },
      {
        rule_name: 'Keep 5% cash',
        rule_description: 'Cash after any buy stays at or above 5% of portfolio value.',
        rule_category: 'risk',
        enforcement_params: { min_cash_reserve_pct: 0.05 },
        priority: 8,
      },
      {
        rule_name: 'Max 15 positions',
        rule_description: 'At most fifteen open positions.',
        rule_category: 'risk',
        enforcement_params: { max_positions: 15 },
        priority: 7,
      },
      {
        rule_name: 'Wide stop 15%',
        rule_description: 'Exit a position only when it is 15% below its average cost.',
        rule_category: 'stop_loss',
        enforcement_params: { stop_loss_pct: 0.15 },
        priority: 6,
      },
      {
        rule_name: 'Buy and hold quality',
        rule_description: 'Advisory guidance for the model; never enforced.',
        rule_category: 'strategy',
        enforcement_params: {
          guidance:
            'Prefer established, profitable companies; add gradually rather than all at once; ' +
            'rebalance when a position drifts well above its target weight; do not react to daily noise.',
        },
        priority: 3,
      },
    ],
  },
};
