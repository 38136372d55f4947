// What happens to a run's account when its replay clock moves to a new instant:
// resting limit orders, stop-loss/take-profit exits, flatten_by, approval expiry.
// advance_run calls this once per step, inside its transaction, before the equity point.
import type { Tx } from '../db/database.js';
import type { Deps } from '../deps.js';
import type { RunRow } from '../store/runs.js';

export interface ClockEvent {
  order_id: number;
  symbol: string;
  side: string;
  quantity: number;
  price: number;
  /** What fired: 'limit', 'stop_loss', 'take_profit', or a rule's name. */
  trigger: string;
  reason: string;
}

export async function onClockStep(_tx: Tx, _deps: Deps, _run: RunRow, _clock: Date): Promise<ClockEvent[]> {
  // The trade server issue fills this in; until then a step has no account events.
  return [];
}
