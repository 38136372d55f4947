// Output shapes shared by detect_threats and the run report: one stored threat event.
import { z } from 'zod';
import { SEVERITIES, THREAT_THRESHOLDS, THREAT_TYPES } from '../../../shared/domain/threats.js';

export const rulePayloadOutput = z
  .object({
    rule_name: z.string(),
    rule_category: z.enum(['position_sizing', 'risk', 'timing', 'screening', 'stop_loss']),
    rule_description: z.string(),
    enforcement_params: z.record(z.string(), z.number()),
    created_by: z.literal('ai_suggested'),
  })
  .describe('A rule as create_rule takes it (add model_id)');

export const threatOutput = z.object({
  threat_id: z.number(),
  model_id: z.number(),
  run_id: z.number(),
  type: z.enum(THREAT_TYPES),
  severity: z.enum(SEVERITIES),
  clock: z.string().describe('Run-clock instant, UTC ISO'),
  message: z.string(),
  evidence: z.object({ order_ids: z.array(z.number()), figures: z.record(z.string(), z.union([z.number(), z.string(), z.null()])) }),
  recommendation: z.object({ text: z.string(), rule: rulePayloadOutput.nullable() }),
  detected_by: z.string().describe("'detect_threats', 'run_end' or 'circuit_breaker'"),
  detected_at: z.string(),
});

/** The threshold table as one line for schema descriptions (units: see THREAT_THRESHOLDS). */
export const THRESHOLD_TEXT =
  Object.entries(THREAT_THRESHOLDS)
    .map(([t, v]) => `${t} ${v.join('/')}`)
    .join('; ') +
  ' (concentration: largest position / portfolio value; drawdown: fraction below peak; overtrading: agent orders per New York day; consecutive_losses: losing round trips in a row, zero P&L a loss; revenge_trading: next entry order within 60 min, 3 days in daily runs, of a realized loss / the losing entry notional; rule_violation_attempts: orders refused by rules); circuit_breaker is always critical';
