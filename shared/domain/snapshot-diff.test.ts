import { describe, expect, it } from 'vitest';
import { diffSnapshots } from './snapshot-diff.js';

const rule = (rule_name: string, rule_category: string, enforcement_params: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  rule_id: 1, rule_name, rule_category, enforcement_params, rule_description: '', applies_to_symbols: null, exclude_symbols: null, priority: 5, version: 1, ...extra,
});

describe('diffSnapshots', () => {
  it('lists settings, rules added, removed and changed (before → after), and instructions', () => {
    const a = {
      model: { model_id: 1, name: 'M', slippage_bps: 0, allow_short: false },
      instructions: 'Buy dips.',
      rules: [rule('Cap', 'position_sizing', { max_position_pct: 0.2 }), rule('Old', 'timing', { flatten_by: '15:55' })],
    };
    const b = {
      model: { model_id: 1, name: 'M', slippage_bps: 5, allow_short: false },
      instructions: 'Buy breakouts.',
      rules: [rule('Cap', 'position_sizing', { max_position_pct: 0.25 }, { priority: 8, version: 2 }), rule('Stop', 'stop_loss', { stop_loss_pct: 0.02 })],
    };
    expect(diffSnapshots(a, b).map((c) => [c.kind, c.text])).toEqual([
      ['setting', 'slippage_bps 0 → 5'],
      ['rule_changed', "rule 'Cap': max_position_pct 0.2 → 0.25; priority 5 → 8"],
      ['rule_removed', `rule 'Old' (timing) removed: {"flatten_by":"15:55"}`],
      ['rule_added', `rule 'Stop' (stop_loss) added: {"stop_loss_pct":0.02}`],
      ['instructions', 'instructions changed: "Buy dips." → "Buy breakouts."'],
    ]);
    expect(diffSnapshots(a, a)).toEqual([]);
  });
});
