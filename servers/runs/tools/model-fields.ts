// The model fields of CONTRACT §1, shared by create_model and update_model.
import { z } from 'zod';
import { symbolListSchema } from '../../../shared/mcp/schemas.js';
import type { Model } from '../../../shared/store/models.js';

export const modelFields = {
  initial_cash: z
    .number()
    .min(0.01, { error: 'initial_cash must be at least $0.01.' })
    .max(1_000_000_000, { error: 'initial_cash must be at most 1,000,000,000.' })
    .multipleOf(0.01, { error: 'initial_cash must be whole cents.' })
    .optional()
    .describe('Starting cash of every run, USD (default 10000)'),
  allowed_symbols: symbolListSchema.nullable().optional().describe('Only these symbols may be traded (null: any)'),
  allow_short: z.boolean().optional().describe('Allow short/cover (default false)'),
  require_approval: z.boolean().optional().describe('Orders wait for a person to approve (default false)'),
  execution_mode: z.enum(['simulation', 'validation']).optional().describe('simulation fills; validation checks only'),
  commission_per_share: z.number().min(0).max(100).optional().describe('USD per share (default 0)'),
  slippage_bps: z.number().min(0).max(1000).optional().describe('Against the trader, basis points (default 0)'),
  max_drawdown_halt_pct: z
    .number()
    .min(0.0001, { error: 'max_drawdown_halt_pct must be at least 0.0001 (a fraction).' })
    .max(1, { error: 'max_drawdown_halt_pct must be at most 1 (0.25 means 25%).' })
    .optional()
    .describe('Halt when the run falls this far from its peak (default 0.25)'),
  instructions: z
    .string()
    .max(20_000, { error: 'instructions must be at most 20,000 characters.' })
    .optional()
    .describe('Free-text strategy guidance'),
  max_orders_per_minute: z.number().int().min(1).max(10_000).optional().describe('Order-rate throttle (default 60)'),
  short_margin_pct: z
    .number()
    .min(0, { error: 'short_margin_pct must be at least 0.' })
    .max(5, { error: 'short_margin_pct must be at most 5 (0.5 means 50%).' })
    .optional()
    .describe('Reg T style short margin, a fraction: a short needs its value × (1 + this) as collateral, its proceeds included (default 0.5)'),
  approval_expiry_minutes: z
    .number()
    .int({ error: 'approval_expiry_minutes must be whole minutes.' })
    .min(1, { error: 'approval_expiry_minutes must be at least 1.' })
    .max(10_080, { error: 'approval_expiry_minutes must be at most 10,080 (a week).' })
    .optional()
    .describe('With require_approval: minutes a pending order waits before it expires (default 15)'),
};

export const nameSchema = z
  .string()
  .trim()
  .min(1, { error: 'name must not be empty.' })
  .max(100, { error: 'name must be at most 100 characters.' });

export const modelOutput = {
  model_id: z.number(),
  name: z.string(),
  initial_cash: z.number(),
  allowed_symbols: z.array(z.string()).nullable(),
  allow_short: z.boolean(),
  require_approval: z.boolean(),
  execution_mode: z.string(),
  commission_per_share: z.number(),
  slippage_bps: z.number(),
  max_drawdown_halt_pct: z.number(),
  instructions: z.string(),
  max_orders_per_minute: z.number(),
  short_margin_pct: z.number(),
  approval_expiry_minutes: z.number(),
  state: z.string(),
  state_reason: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
};

export const runningRunOutput = z
  .object({ run_id: z.number(), run_number: z.number(), kind: z.string() })
  .nullable();

export function modelSummary(m: Model): string {
  return `Model ${m.model_id} '${m.name}': $${m.initial_cash.toLocaleString('en-US')} initial cash, ${m.execution_mode}, state ${m.state}${m.allow_short ? ', shorts allowed' : ''}${m.require_approval ? ', approval required' : ''}.`;
}
