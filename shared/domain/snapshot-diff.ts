// What changed between two strategy snapshots (CONTRACT §1: settings, active rules,
// instructions frozen at start_run). Pure.

export interface SnapshotLike {
  model: Record<string, unknown>;
  instructions: string;
  rules: Record<string, unknown>[];
}

export interface SnapshotChange {
  kind: 'setting' | 'rule_added' | 'rule_removed' | 'rule_changed' | 'instructions';
  /** The setting or rule name ('instructions' for the free text). */
  name: string;
  /** One line: "slippage_bps 0 → 5", "rule 'Stop' stop_loss_pct 0.02 → 0.03". */
  text: string;
  before: unknown;
  after: unknown;
}

// Identity and bookkeeping, not strategy.
const IGNORED_SETTINGS = new Set(['model_id', 'user_id', 'id', 'created_at', 'updated_at', 'state', 'state_reason', 'state_locked']);
const RULE_FIELDS = ['rule_category', 'rule_description', 'applies_to_symbols', 'exclude_symbols', 'priority'];

const show = (v: unknown): string => (v === undefined ? '(none)' : typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v ?? null));
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The changes from snapshot `a` to snapshot `b`, settings first, then rules by name, then instructions. */
export function diffSnapshots(a: SnapshotLike, b: SnapshotLike): SnapshotChange[] {
  const out: SnapshotChange[] = [];
  const keys = [...new Set([...Object.keys(a.model ?? {}), ...Object.keys(b.model ?? {})])].filter((k) => !IGNORED_SETTINGS.has(k)).sort();
  for (const k of keys) {
    const before = a.model?.[k];
    const after = b.model?.[k];
    if (!same(before, after)) out.push({ kind: 'setting', name: k, text: `${k} ${show(before)} → ${show(after)}`, before, after });
  }
  const byName = (rules: Record<string, unknown>[]) => new Map((rules ?? []).map((r) => [String(r.rule_name), r]));
  const ra = byName(a.rules);
  const rb = byName(b.rules);
  for (const name of [...new Set([...ra.keys(), ...rb.keys()])].sort()) {
    const before = ra.get(name);
    const after = rb.get(name);
    if (!after) {
      out.push({ kind: 'rule_removed', name, text: `rule '${name}' (${before!.rule_category}) removed: ${show(before!.enforcement_params)}`, before: before!.enforcement_params, after: null });
      continue;
    }
    if (!before) {
      out.push({ kind: 'rule_added', name, text: `rule '${name}' (${after.rule_category}) added: ${show(after.enforcement_params)}`, before: null, after: after.enforcement_params });
      continue;
    }
    const parts: string[] = [];
    const pa = (before.enforcement_params ?? {}) as Record<string, unknown>;
    const pb = (after.enforcement_params ?? {}) as Record<string, unknown>;
    for (const p of [...new Set([...Object.keys(pa), ...Object.keys(pb)])].sort()) {
      if (!same(pa[p], pb[p])) parts.push(`${p} ${show(pa[p])} → ${show(pb[p])}`);
    }
    for (const f of RULE_FIELDS) if (!same(before[f], after[f])) parts.push(`${f} ${show(before[f])} → ${show(after[f])}`);
    if (parts.length) {
      out.push({
        kind: 'rule_changed',
        name,
        text: `rule '${name}': ${parts.join('; ')}`,
        before: { enforcement_params: pa, ...Object.fromEntries(RULE_FIELDS.map((f) => [f, before[f] ?? null])) },
        after: { enforcement_params: pb, ...Object.fromEntries(RULE_FIELDS.map((f) => [f, after[f] ?? null])) },
      });
    }
  }
  if ((a.instructions ?? '') !== (b.instructions ?? '')) {
    const clip = (s: string) => (s.length > 120 ? `${s.slice(0, 119)}…` : s);
    out.push({ kind: 'instructions', name: 'instructions', text: `instructions changed: ${show(clip(a.instructions ?? ''))} → ${show(clip(b.instructions ?? ''))}`, before: clip(a.instructions ?? ''), after: clip(b.instructions ?? '') });
  }
  return out;
}
