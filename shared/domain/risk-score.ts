// The risk score (pure: no I/O): 0 (calm) to 100 (extreme), a weighted sum of named factors.
// Each factor's raw value is mapped linearly from its `calm` value (0) to its `extreme` value
// (1), clamped; its contribution is normalized × weight × 100. The weights sum to 1, so the
// score is the sum of the contributions. Same facts, same score.
import { annualizedVolatility, returnSeries, simpleReturns } from './metrics.js';
import { nyLocal } from './ny-time.js';
import { maxConcentration } from './concentration.js';
import { lossStreaks, type ThreatFacts } from './threats.js';

export const RISK_FACTORS = [
  'concentration',
  'drawdown',
  'gross_exposure',
  'loss_streak',
  'trading_pace',
  'rule_violation_attempts',
  'equity_volatility',
  'rule_coverage',
] as const;
export type RiskFactorName = (typeof RISK_FACTORS)[number];

/**
 * THE factor table: weight (they sum to 1), the raw value scored 0 (calm) and 1 (extreme), and
 * what the raw value is. Concentration weighs most: one position is the commonest way to lose
 * most of an account (the incident this project was built after).
 */
export const RISK_FACTOR_TABLE: Record<RiskFactorName, { weight: number; calm: number; extreme: number; unit: string }> = {
  concentration: { weight: 0.3, calm: 0.1, extreme: 0.8, unit: 'largest single-position weight at any equity point, marked to market (fraction of portfolio value)' },
  drawdown: { weight: 0.15, calm: 0, extreme: 0.3, unit: 'current drawdown: 1 − last equity / running max (fraction)' },
  gross_exposure: { weight: 0.1, calm: 0.3, extreme: 1.5, unit: 'Σ |open position value| (longs and shorts) / portfolio value at the run clock' },
  loss_streak: { weight: 0.075, calm: 0, extreme: 6, unit: 'longest run of losing FIFO round trips (P&L ≤ 0)' },
  trading_pace: { weight: 0.075, calm: 0, extreme: 1, unit: "busiest minute / max_orders_per_minute, or busiest New York day / the max_trades_per_day rule (the larger)" },
  rule_violation_attempts: { weight: 0.075, calm: 0, extreme: 10, unit: 'agent orders a rule refused' },
  equity_volatility: { weight: 0.075, calm: 0.1, extreme: 0.6, unit: 'annualized volatility of the equity curve as calculate_metrics has it (session-close returns for intraday runs; ddof 1, √252)' },
  rule_coverage: { weight: 0.15, calm: 0, extreme: 3, unit: 'missing protections among: position cap, loss limit, stop (0–3)' },
};

/** Score bands: below 25 calm, below 50 elevated, below 75 high, else extreme. */
export function riskBand(score: number): 'calm' | 'elevated' | 'high' | 'extreme' {
  return score < 25 ? 'calm' : score < 50 ? 'elevated' : score < 75 ? 'high' : 'extreme';
}

/** The threat detectors' facts of a run (less its id and breaker), plus the model's limits. */
export interface RiskFacts extends Omit<ThreatFacts, 'run_id' | 'breaker'> {
  max_orders_per_minute: number;
  /** The rules the run is judged against (a finished run: those frozen with it): category and enforcement params. */
  rules: { rule_category: string; enforcement_params: Record<string, unknown> }[];
}

export interface RiskFactor {
  name: RiskFactorName;
  raw: number;
  normalized: number;
  weight: number;
  /** normalized × weight × 100: its points of the score (2 decimals). */
  contribution: number;
  unit: string;
}

export interface RiskScore {
  score: number;
  band: ReturnType<typeof riskBand>;
  factors: RiskFactor[];
  /** The three largest contributors, largest first. */
  top: RiskFactorName[];
  missing_protections: string[];
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** The raw factor values of a run's facts (see RISK_FACTOR_TABLE for each unit). */
export function riskRaw(f: RiskFacts): { raw: Record<RiskFactorName, number>; missing: string[] } {
  const last = f.equity.length ? f.equity[f.equity.length - 1]!.value : null;
  const concentration = maxConcentration(f.concentration);

  let peak = 0;
  for (const p of f.equity) peak = Math.max(peak, p.value);
  const drawdown = last !== null && peak > 0 ? Math.max(0, 1 - last / peak) : 0;

  const gross = last !== null && last > 0 ? f.marks.reduce((s, m) => s + Math.abs(m.quantity * m.price), 0) / last : 0;

  const trips = [...f.round_trips].sort((a, b) => a.exit_time.localeCompare(b.exit_time) || (a.exit_fill_id ?? 0) - (b.exit_fill_id ?? 0));
  const streak = lossStreaks(trips).reduce((m, s) => Math.max(m, s.length), 0);

  const agent = f.orders.filter((o) => o.source === 'agent');
  const perMinute = new Map<string, number>();
  const perDay = new Map<string, number>();
  for (const o of agent) {
    const m = o.clock.slice(0, 16);
    perMinute.set(m, (perMinute.get(m) ?? 0) + 1);
    const d = nyLocal(new Date(o.clock)).date;
    perDay.set(d, (perDay.get(d) ?? 0) + 1);
  }
  const maxOf = (m: Map<string, number>) => [...m.values()].reduce((a, b) => Math.max(a, b), 0);
  let pace = f.max_orders_per_minute > 0 ? maxOf(perMinute) / f.max_orders_per_minute : 0;
  const dayCaps = f.rules.map((r) => Number(r.enforcement_params.max_trades_per_day)).filter((x) => x > 0);
  if (dayCaps.length) pace = Math.max(pace, maxOf(perDay) / Math.min(...dayCaps));

  const violations = agent.filter((o) => o.status === 'rejected' && o.rejections.some((r) => r.source === 'rule')).length;

  const series = returnSeries(f.equity, f.timespan, undefined);
  const rets = simpleReturns(series.points.map((p) => p.value)).filter((x): x is number => x !== null);
  const vol = annualizedVolatility(rets, series.periods_per_year);
  const volatility = vol.value ?? 0;

  const has = (cat: string, keys: string[]) => f.rules.some((r) => r.rule_category === cat && keys.some((k) => r.enforcement_params[k] !== undefined && r.enforcement_params[k] !== null));
  const missing: string[] = [];
  if (!has('position_sizing', ['max_position_pct', 'max_order_value', 'max_order_qty', 'risk_per_trade_pct'])) missing.push('position cap');
  if (!has('risk', ['daily_loss_limit_pct', 'daily_loss_limit_abs', 'max_drawdown_pct'])) missing.push('loss limit');
  if (!has('stop_loss', ['stop_loss_pct', 'trailing_stop_pct'])) missing.push('stop');

  return {
    raw: {
      concentration,
      drawdown,
      gross_exposure: gross,
      loss_streak: streak,
      trading_pace: pace,
      rule_violation_attempts: violations,
      equity_volatility: volatility,
      rule_coverage: missing.length,
    },
    missing,
  };
}

/** The score of raw factor values under RISK_FACTOR_TABLE, rounded to 0.1. */
export function scoreFromRaw(raw: Record<RiskFactorName, number>, missing: string[] = []): RiskScore {
  const factors = RISK_FACTORS.map((name): RiskFactor => {
    const t = RISK_FACTOR_TABLE[name];
    const normalized = clamp01((raw[name] - t.calm) / (t.extreme - t.calm));
    return { name, raw: r6(raw[name]), normalized: r6(normalized), weight: t.weight, contribution: Math.round(normalized * t.weight * 10_000) / 100, unit: t.unit };
  });
  const score = Math.round(factors.reduce((s, x) => s + (x.normalized * x.weight * 100), 0) * 10) / 10;
  const top = [...factors].sort((a, b) => b.contribution - a.contribution || RISK_FACTORS.indexOf(a.name) - RISK_FACTORS.indexOf(b.name)).slice(0, 3).map((x) => x.name);
  return { score, band: riskBand(score), factors, top, missing_protections: missing };
}

/** The risk score of a run's facts. */
export function riskScore(f: RiskFacts): RiskScore {
  const { raw, missing } = riskRaw(f);
  return scoreFromRaw(raw, missing);
}
