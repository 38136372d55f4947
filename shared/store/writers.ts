// Which API keys wrote stored text that a result shows another key (issue 19 item 10): the
// orders' reasoning and the run's decision entries, the orders' notes and change reasons, and
// the rule names and descriptions that refusals and strategy snapshots hold; named to the
// reader as untrusted content.
import type { Q } from '../db/database.js';
import type { OrderRow } from './orders.js';

/** Key prefixes (null: unrecorded) that wrote an order's reasoning or a decision entry of the runs. */
export async function reasoningWriters(sql: Q, runIds: readonly number[]): Promise<(string | null)[]> {
  if (!runIds.length) return [];
  const rows = await sql`
    select key_prefix from orders where run_id = any(${runIds as number[]}) and reasoning is not null
    union
    select key_prefix from reasoning_log where run_id = any(${runIds as number[]}) and reasoning_type = 'decision'`;
  return rows.map((r) => r.key_prefix as string | null);
}

/** A rule's name (and description, when given) as some snapshot or refusal holds it. */
export interface RuleText {
  rule_id: number | string;
  rule_name: unknown;
  rule_description?: unknown;
}

/**
 * For each rule text, the key prefix that wrote it (null: not found), from rule_history: the
 * latest create or change that set that name, or that description (a rule's text outlives the
 * rule, and a run's snapshot keeps the text its rules had then). One statement.
 */
export async function ruleTextWriters(sql: Q, modelIds: readonly number[], texts: readonly RuleText[]): Promise<(string | null)[]> {
  const ids = [...new Set(texts.map((t) => Number(t.rule_id)).filter(Number.isInteger))];
  if (!ids.length) return texts.map(() => null);
  const rows = await sql`
    select rule_id, key_prefix, action = 'create' as created,
           before->>'rule_name' as b_name, after->>'rule_name' as a_name,
           before->>'rule_description' as b_desc, after->>'rule_description' as a_desc
    from rule_history
    where model_id = any(${modelIds as number[]}) and rule_id = any(${ids}) and after is not null
    order by id desc`;
  return texts.map((t) => {
    const hit = rows.find(
      (r) =>
        r.rule_id === Number(t.rule_id) &&
        ((r.a_name === t.rule_name && (r.created || r.b_name !== r.a_name)) ||
          (typeof t.rule_description === 'string' && r.a_desc === t.rule_description && (r.created || r.b_desc !== r.a_desc))),
    );
    return hit ? (hit.key_prefix as string) : null;
  });
}

// decided_by values that are the server, not a key: their notes are the server's own words
const SYSTEM_DECIDERS = new Set(['expiry', 'run end', 'system']);

/** The key prefix behind an order's decided_by ("person via <key>" is that key); null: the server or nobody. */
export function deciderKey(decidedBy: string | null): string | null {
  return decidedBy && !SYSTEM_DECIDERS.has(decidedBy) ? decidedBy.replace(/^person via /, '') : null;
}

/**
 * The key prefixes that wrote the stored text of these orders (null: unrecorded): the order's
 * reasoning, its changes' reasons, an approver's note (decided_by, "person via <key>" as the
 * key), and the names of the rules that refused it. Empty when the orders carry none.
 */
export async function orderTextWriters(sql: Q, orders: readonly OrderRow[]): Promise<(string | null)[]> {
  const keys: (string | null)[] = [];
  for (const o of orders) {
    for (const c of o.changes) if (c.reasoning) keys.push(c.key_prefix);
    if (o.decision_note && deciderKey(o.decided_by)) keys.push(deciderKey(o.decided_by));
  }
  const reasoned = orders.filter((o) => o.reasoning !== null).map((o) => o.order_id);
  if (reasoned.length) keys.push(...(await sql`select distinct key_prefix from orders where id = any(${reasoned})`).map((r) => r.key_prefix as string | null));
  const named = orders.flatMap((o) => o.rejections.flatMap((r) => (r.source === 'rule' ? [{ model_id: o.model_id, rule_id: r.rule_id, rule_name: r.rule_name }] : [])));
  if (named.length) keys.push(...(await ruleTextWriters(sql, [...new Set(named.map((n) => n.model_id))], named)));
  return keys;
}
