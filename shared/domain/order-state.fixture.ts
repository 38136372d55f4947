// The order state the pure decision tests start from: $10,000 cash, no positions, no rules,
// no costs, noon New York on 2025-06-20, the symbol at $100 (tests override what they need).
import type { DecideModel, OrderState } from './decide.js';
import { nyToUtc } from './ny-time.js';

export const NOON = nyToUtc('2025-06-20', '12:00');

export const testModel = (over: Partial<DecideModel> = {}): DecideModel => ({
  allow_short: true,
  allowed_symbols: null,
  state: 'active',
  state_reason: null,
  execution_mode: 'simulation',
  require_approval: false,
  commission_per_share: 0,
  slippage_bps: 0,
  max_drawdown_halt_pct: 1,
  max_orders_per_minute: 1_000_000,
  short_margin_pct: 0.5,
  ...over,
});

export const testState = (over: Partial<OrderState> = {}): OrderState => ({
  cashCents: 1_000_000,
  realizedPnlCents: 0,
  positions: [],
  dayStartValueCents: 1_000_000,
  peakValueCents: 1_000_000,
  tradesToday: 0,
  tradesInRun: 0,
  model: testModel(),
  rules: [],
  clock: NOON,
  marketOpen: true,
  symbolKnown: true,
  marketPrice: 100,
  ordersLastMinute: 0,
  ...over,
});
