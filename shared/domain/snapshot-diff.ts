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

type RuleRow = Record<string, unknown>;

/**
 * The rules of two snapshots paired: by rule id first (a rule edited or renamed keeps its id),
 * then, among the rest, by category and equal parameters (the same rule re-created under
 * another name), then by category and the same parameter names (re-created with new levels).
 * Unpaired rules come back alone: [before, undefined] removed, [undefined, after] added.
 * Pairs in the order of `b`'s names, then the removed ones by name.
 */
export function pairRules(a: readonly RuleRow[], b: readonly RuleRow[]): [RuleRow | undefined, RuleRow | undefined][] {
  const left = [...a];
  const pairs: [RuleRow | undefined, RuleRow | undefined][] = [];
  const rest: RuleRow[] = [];
  const take = (match: (x: RuleRow) => boolean) => {
    const i = left.findIndex(match);
    return i < 0 ? undefined : left.splice(i, 1)[0];
  };
  for (const r of b) {
    const hit = r.rule_id !== undefined && r.rule_id !== null ? take((x) => String(x.rule_id) === String(r.rule_id)) : undefined;
    if (hit) pairs.push([hit, r]);
    else rest.push(r);
  }
  const keys = (r: RuleRow) => Object.keys((r.enforcement_params ?? {}) as object).sort().join(',');
  const unmatched: RuleRow[] = [];
  for (const r of rest) {
    const hit = take((x) => x.rule_category === r.rule_category && same(x.enforcement_params, r.enforcement_params));
    if (hit) pairs.push([hit, r]);
    else unmatched.push(r);
  }
  for (const r of unmatched) pairs.push([take((x) => x.rule_category === r.rule_category && keys(x) === keys(r)), r]);
  for (const x of left) pairs.push([x, undefined]);
  const nameOf = (p: [RuleRow | undefined, RuleRow | undefined]) => String((p[1] ?? p[0])!.rule_name);
  return pairs.sort((p, q) => Number(!p[1]) - Number(!q[1]) || nameOf(p).localeCompare(nameOf(q)));
}

/**
 * The changes from snapshot `a` to snapshot `b`: settings first, then rules (paired by pairRules), then instructions.
 * `quote`, when given, quotes the stored text in each change's `text` (rule names, descriptions,
 * instructions, the model's name: written by some key, see shared/mcp/untrusted.ts); without it
 * names read 'like this' and texts as JSON strings.
 */
export function diffSnapshots(a: SnapshotLike, b: SnapshotLike, quote?: (stored: string) => string): SnapshotChange[] {
  const out: SnapshotChange[] = [];
  const nm = (v: unknown) => (quote ? quote(String(v)) : `'${String(v)}'`);
  const txt = (v: unknown) => (quote && typeof v === 'string' ? quote(v) : show(v));
  const keys = [...new Set([...Object.keys(a.model ?? {}), ...Object.keys(b.model ?? {})])].filter((k) => !IGNORED_SETTINGS.has(k)).sort();
  for (const k of keys) {
    const before = a.model?.[k];
    const after = b.model?.[k];
    if (!same(before, after)) out.push({ kind: 'setting', name: k, text: k === 'name' ? `${k} ${txt(before)} → ${txt(after)}` : `${k} ${show(before)} → ${show(after)}`, before, after });
  }
  for (const [before, after] of pairRules(a.rules ?? [], b.rules ?? [])) {
    if (!after) {
      const name = String(before!.rule_name);
      out.push({ kind: 'rule_removed', name, text: `rule ${nm(name)} (${before!.rule_category}) removed: ${show(before!.enforcement_params)}`, before: before!.enforcement_params, after: null });
      continue;
    }
    if (!before) {
      const name = String(after.rule_name);
      out.push({ kind: 'rule_added', name, text: `rule ${nm(name)} (${after.rule_category}) added: ${show(after.enforcement_params)}`, before: null, after: after.enforcement_params });
      continue;
    }
    const name = String(after.rule_name);
    const renamed = String(before.rule_name) !== name;
    const parts: string[] = [];
    const pa = (before.enforcement_params ?? {}) as Record<string, unknown>;
    const pb = (after.enforcement_params ?? {}) as Record<string, unknown>;
    for (const p of [...new Set([...Object.keys(pa), ...Object.keys(pb)])].sort()) {
      if (!same(pa[p], pb[p])) parts.push(`${p} ${show(pa[p])} → ${show(pb[p])}`);
    }
    for (const f of RULE_FIELDS) if (!same(before[f], after[f])) parts.push(f === 'rule_description' ? `${f} ${txt(before[f])} → ${txt(after[f])}` : `${f} ${show(before[f])} → ${show(after[f])}`);
    if (parts.length || renamed) {
      const fields = (r: Record<string, unknown>, params: Record<string, unknown>) => ({
        rule_name: r.rule_name,
        enforcement_params: params,
        ...Object.fromEntries(RULE_FIELDS.map((f) => [f, r[f] ?? null])),
      });
      out.push({
        kind: 'rule_changed',
        name,
        text: `rule ${renamed ? `${nm(before.rule_name)} → ` : ''}${nm(name)}${parts.length ? `: ${parts.join('; ')}` : ' renamed'}`,
        before: fields(before, pa),
        after: fields(after, pb),
      });
    }
  }
  if ((a.instructions ?? '') !== (b.instructions ?? '')) {
    const clip = (s: string) => (s.length > 120 ? `${s.slice(0, 119)}…` : s);
    out.push({ kind: 'instructions', name: 'instructions', text: `instructions changed: ${txt(clip(a.instructions ?? ''))} → ${txt(clip(b.instructions ?? ''))}`, before: clip(a.instructions ?? ''), after: clip(b.instructions ?? '') });
  }
  return out;
}
