// Shared domain vocabulary. Pure types: no I/O anywhere under shared/domain.

export type Timespan = 'minute' | 'hour' | 'day';
export type Side = 'buy' | 'sell' | 'short' | 'cover';

/** market fills now; limit rests at limit_price; stop and stop_limit rest until a bar trades at or through stop_price (CONTRACT §4). */
export type OrderType = 'market' | 'limit' | 'stop' | 'stop_limit';
export type PriceSource = 'polygon' | 'imported' | 'simulated';

/** One OHLCV bar. `t` is the bar's start (UTC ISO). h/l/c are null for an open-only bar. */
export interface Bar {
  t: string;
  o: number;
  h: number | null;
  l: number | null;
  c: number | null;
  v: number | null;
}

/** A position marked at the clock. quantity < 0 is a short. Prices in dollars (≤ 4 dp). */
export interface MarkedPosition {
  symbol: string;
  quantity: number;
  avgCost: number;
  price: number;
  /** Exact cost basis in cents (ledger.ts), when the caller has it. */
  costCents?: number;
}

/** The account a check runs against, at the clock. Money in integer cents. */
export interface PortfolioSnapshot {
  cashCents: number;
  positions: MarkedPosition[];
  /** Portfolio value at the start of the clock's trading day (for daily loss limits). */
  dayStartValueCents: number;
  /** Highest portfolio value seen in the run so far (for drawdown limits). */
  peakValueCents: number;
  tradesToday: number;
  tradesInRun: number;
  /** Losing round trips in a row so far (round-trips.ts lossStreakAfter); absent: 0. */
  lossStreak?: number;
  /** Run clock (UTC ISO) of the latest losing round trip's close, or null/absent: none. */
  lastLossAt?: string | null;
}

/** What the caller intends to do; price is the estimated fill price per share in dollars. */
export interface OrderIntent {
  side: Side;
  symbol: string;
  quantity: number;
  price: number;
  /** The order's commission in cents (min_cash_reserve_pct counts it); 0 when omitted. */
  commissionCents?: number;
  /** The order's own stop_loss, dollars (risk_per_trade_pct measures to it). */
  stopLoss?: number;
}

export type RuleCategory =
  | 'position_sizing'
  | 'risk'
  | 'timing'
  | 'screening'
  | 'stop_loss'
  | 'strategy'
  | 'entry_exit';

export interface RuleRecord {
  ruleId: string;
  ruleName: string;
  ruleCategory: RuleCategory;
  enforcementParams: Record<string, unknown>;
  appliesToSymbols: string[] | null;
  excludeSymbols: string[] | null;
  priority: number;
  isActive: boolean;
}

export interface Violation {
  ruleId: string;
  ruleName: string;
  ruleCategory: RuleCategory;
  priority: number;
  /** Stable code tests match on, e.g. MAX_POSITION_PCT. */
  code: string;
  /** For people: names the rule and the numbers. */
  message: string;
}
