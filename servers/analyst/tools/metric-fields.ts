// Output schemas shared by the analyst tools that return metrics.
import { z } from 'zod';

const n = z.number().nullable();
const period = z.object({ clock: z.string(), return: z.number() }).nullable();

export const benchmarkOutput = z
  .object({
    symbol: z.string(),
    source: z.enum(['polygon', 'imported', 'simulated']).describe("Where the benchmark's prices come from; simulated = made-up prices"),
    benchmark_return: n,
    excess_return: n,
    beta: n,
    alpha: n.describe('Annualized, arithmetic: (mean(r) − beta·mean(b)) × periods_per_year'),
    correlation: n,
    tracking_error: n,
    information_ratio: n,
  })
  .nullable();

export const metricsOutput = z.object({
  run_id: z.number(),
  start_value: n,
  end_value: n,
  returns_basis: z.enum(['per_step', 'session_close']).describe("The returns' series: a daily run's steps, an intraday run's session closes (or its steps on request)"),
  periods: z.number().describe('Number of returns'),
  periods_per_year: z.number(),
  total_return: n,
  annualized_return: n.describe('(1+total)^(ppy/n)−1'),
  volatility: n.describe('std(r, ddof 1)·√ppy'),
  sharpe: n.describe('mean/std·√ppy, rf 0'),
  sortino: n.describe('mean/√mean(min(r,0)²)·√ppy'),
  calmar: n,
  max_drawdown: n.describe('A fraction ≤ 0'),
  drawdown: z.object({
    start: z.string().nullable().describe('The last peak before the deepest point'),
    valley: z.string().nullable(),
    end: z.string().nullable().describe('Recovery, or the last point when not recovered'),
    recovery: z.string().nullable(),
    duration_periods: n,
  }),
  best_period: period,
  worst_period: period,
  round_trips: z.number(),
  win_rate: n,
  profit_factor: n,
  payoff_ratio: n,
  avg_win: n,
  avg_loss: n,
  exposure: n,
  turnover: n,
  commission_paid: z.number(),
  slippage_paid: z.number(),
  benchmark: benchmarkOutput,
  notes: z.array(z.string()),
});

/** The metric conventions, in the words of every tool that returns metrics (CONTRACT §5). */
export const METRIC_CONVENTIONS =
  'Conventions (empyrical): simple returns per step (daily runs) or per session close (intraday; per_step: ppy 252×390), ppy 252, rf 0, std ddof 1; max DD min(v/peak−1); a zero-P&L round trip is a loss; undefined → null + note.';

/** The headline metrics shown side by side by compare_runs (calculate_metrics gives every field and the notes). */
export const HEADLINE_FIELDS = [
  'start_value', 'end_value', 'periods', 'total_return', 'annualized_return', 'volatility', 'sharpe', 'sortino', 'calmar',
  'max_drawdown', 'round_trips', 'win_rate', 'profit_factor', 'payoff_ratio', 'avg_win', 'avg_loss', 'exposure', 'turnover',
  'commission_paid', 'slippage_paid',
] as const;

export const headlineOutput = metricsOutput.pick(Object.fromEntries(HEADLINE_FIELDS.map((f) => [f, true])) as { [K in (typeof HEADLINE_FIELDS)[number]]: true });
