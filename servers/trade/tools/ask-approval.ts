// Asking the person about a require_approval order, in the client's era:
// - 2026-07-28 with elicitation: the call answers input_required (a form) with a signed
//   requestState naming the pending order; the client's retry with the answer approves or
//   rejects that same order (no second order is placed on the retry);
// - a 2025 session with elicitation: the form as a server-to-client request, waited on for at
//   most AIBT_APPROVAL_WAIT_MS (default 50 s, well inside the 60 s most clients wait), after which the result is
//   the pending order and how to approve it;
// - anyone else: the pending order at once.
// Never two orders for one intent: a repeat of an order still pending approval (same key,
// model, side, symbol, quantity, type and prices) returns the first pending order.
import { inputRequired, inputResponse } from '@modelcontextprotocol/server';
import { requestStateSecret, signState, verifyState } from '../../../shared/mcp/request-state.js';
import type { InputRequiredAnswer, ToolContext } from '../../../shared/mcp/tool.js';
import { currentOrderResult, decideApproval, type OrderResult } from '../../../shared/trading/orders.js';

const FORM = {
  type: 'object' as const,
  properties: {
    decision: {
      type: 'string' as const,
      title: 'Decision',
      enum: ['approve', 'reject'],
      description: 'approve (the default when you accept) fills the order at current prices after the checks run again; reject refuses it, as declining does',
    },
    note: { type: 'string' as const, title: 'Note', description: 'Optional note for the audit trail' },
    quantity: { type: 'integer' as const, title: 'Quantity', minimum: 1, description: 'Optional smaller quantity, whole shares (down only)' },
    stop_loss: { type: 'number' as const, title: 'Stop loss', description: 'Optional tighter stop price in dollars' },
    take_profit: { type: 'number' as const, title: 'Take profit', description: 'Optional tighter target price in dollars' },
  },
};

const usd = (x: number) => `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The form's message: the order, its notional and its risk to the stop ($ and fraction of equity). */
export function question(o: OrderResult): string {
  const p = o.pending;
  const terms = p
    ? ` Notional ${usd(p.notional)}; ${p.risk_to_stop === null ? 'no stop_loss, so its risk to a stop is unknown' : `risk to the stop ${usd(p.risk_to_stop)} = ${((p.risk_fraction_of_equity ?? 0) * 100).toFixed(2)}% of equity`}.`
    : '';
  return (
    `Approve order ${o.order_id}: ${o.side} ${o.quantity} ${o.symbol}${o.stop_price ? ` stop $${o.stop_price}` : ''}${o.limit_price ? ` limit $${o.limit_price}` : o.stop_price ? '' : ' at market'}?${terms} ` +
    'You may lower the quantity or tighten stop_loss / take_profit. Checks run again at current prices.'
  );
}

/** The person's answer: approve or reject, the note and any edits the form offers. */
function answerOf(content: Record<string, unknown> | undefined, action: string) {
  const c = content ?? {};
  const num = (k: string) => (typeof c[k] === 'number' ? (c[k] as number) : undefined);
  return {
    approve: action === 'accept' && c.decision !== 'reject',
    note: typeof c.note === 'string' ? c.note : null,
    edits: { quantity: num('quantity'), stop_loss: num('stop_loss'), take_profit: num('take_profit') },
  };
}

/** Places the order through `place`, then asks the person when it needs approval. */
export async function withApproval(ctx: ToolContext, place: () => Promise<OrderResult>): Promise<OrderResult | InputRequiredAnswer> {
  const token = ctx.extra.mcpReq.requestState<string>();
  if (token !== undefined) return answerFromRetry(ctx, token);
  const placed = await place();
  if (placed.status !== 'pending_approval' || placed.replayed) return placed;
  const pending = await oneOrderPerIntent(ctx, placed);
  const envelope = (ctx.extra.mcpReq.envelope ?? {}) as Record<string, unknown>;
  if (envelope['io.modelcontextprotocol/protocolVersion'] !== undefined) {
    const caps = envelope['io.modelcontextprotocol/clientCapabilities'] as { elicitation?: Record<string, unknown> } | undefined;
    return formElicitation(caps?.elicitation) ? askInBand(ctx, pending) : pending;
  }
  return askInSession(ctx, pending);
}

function formElicitation(e: Record<string, unknown> | undefined): boolean {
  return !!e && (Object.keys(e).length === 0 || 'form' in e);
}

/** 2026-07-28: input_required with the form and a signed state naming the order. */
async function askInBand(ctx: ToolContext, pending: OrderResult): Promise<InputRequiredAnswer> {
  const [secret, [row]] = await Promise.all([
    requestStateSecret(ctx.deps.sql),
    ctx.deps.sql<{ expires_at: Date | null }[]>`select expires_at from orders where id = ${pending.order_id}`,
  ]);
  const exp = row?.expires_at ? new Date(row.expires_at).getTime() : Date.now() + 15 * 60_000;
  return {
    inputRequired: inputRequired({
      inputRequests: { approval: inputRequired.elicit({ mode: 'form', message: question(pending), requestedSchema: FORM }) },
      requestState: signState(secret, { kind: 'approval', key_id: ctx.auth.keyId, exp, order_id: pending.order_id }),
    }),
  };
}

/** 2026-07-28 retry: the person's answer decides the order the signed state names. */
async function answerFromRetry(ctx: ToolContext, token: string): Promise<OrderResult> {
  const secret = await requestStateSecret(ctx.deps.sql);
  const state = verifyState(secret, token, ctx.auth.keyId, 'approval');
  const orderId = Number(state.order_id);
  const answer = inputResponse(ctx.extra.mcpReq.inputResponses, 'approval');
  if (answer.kind !== 'elicit' || answer.action === 'cancel') return current(ctx, orderId);
  const a = answerOf(answer.content, answer.action);
  return decideApproval(ctx.deps, ctx.auth, orderId, a.approve ? 'approve' : 'reject', a.note, `person via ${ctx.auth.keyPrefix}`, a.edits);
}

/** 2025 session: the form as a request, waited on for at most AIBT_APPROVAL_WAIT_MS. */
async function askInSession(ctx: ToolContext, pending: OrderResult): Promise<OrderResult> {
  const caps = ctx.server.server.getClientCapabilities()?.elicitation as Record<string, unknown> | undefined;
  if (!formElicitation(caps)) return pending;
  const answer = await ctx.server.server
    .elicitInput({ mode: 'form', message: question(pending), requestedSchema: FORM }, { timeout: ctx.deps.config.AIBT_APPROVAL_WAIT_MS, signal: ctx.extra.mcpReq.signal })
    .catch(() => null);
  // no answer in time (or cancelled): the order stays pending, and the result says how to decide it
  if (!answer || answer.action === 'cancel') return current(ctx, pending.order_id);
  const a = answerOf(answer.content, answer.action);
  return decideApproval(ctx.deps, ctx.auth, pending.order_id, a.approve ? 'approve' : 'reject', a.note, `person via ${ctx.auth.keyPrefix}`, a.edits);
}

/** The order as it stands (a late answer or another call may have decided it meanwhile). */
function current(ctx: ToolContext, orderId: number): Promise<OrderResult> {
  return currentOrderResult(ctx.deps, ctx.auth, orderId);
}

/**
 * A repeat of an order still pending approval (same key, model, side, symbol, quantity, type
 * and prices; a client that timed out and tried again) returns the first pending order; the
 * repeat is cancelled at once as its duplicate, so only one order can ever fill.
 */
async function oneOrderPerIntent(ctx: ToolContext, placed: OrderResult): Promise<OrderResult> {
  const [twin] = await ctx.deps.sql<{ id: number }[]>`
    with mine as (select * from orders where id = ${placed.order_id})
    select o.id from orders o, mine
     where o.model_id = mine.model_id and o.id < mine.id and o.status = 'pending_approval'
       and (o.expires_at is null or o.expires_at > now())
       and o.key_prefix is not distinct from mine.key_prefix and o.side = mine.side and o.symbol = mine.symbol
       and o.quantity = mine.quantity and o.order_type = mine.order_type and o.limit_price is not distinct from mine.limit_price
       and o.stop_price is not distinct from mine.stop_price
       and o.stop_loss is not distinct from mine.stop_loss and o.take_profit is not distinct from mine.take_profit
     order by o.id limit 1`;
  if (!twin) return placed;
  await ctx.deps.sql`
    update orders set status = 'cancelled', decided_at = now(), decided_by = 'duplicate', decision_note = ${`a repeat of pending order ${twin.id}`}
     where id = ${placed.order_id} and status = 'pending_approval'`;
  return { ...placed, order_id: twin.id, replayed: true };
}

