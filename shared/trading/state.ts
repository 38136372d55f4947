// Trading state changes. A key without `approve` may only tighten (active → reducing →
// halted); loosening needs `approve`. A state set by an `approve` key or a circuit breaker
// is locked: without `approve` it can only be tightened (the lock stays), never loosened
// nor its reason rewritten.
import type { AuthContext } from '../auth/keys.js';
import { hasScope } from '../auth/scopes.js';
import type { Deps } from '../deps.js';
import { ToolError } from '../mcp/errors.js';
import { getOwnedModel } from '../store/models.js';
import { modelStateLocked, setModelState } from '../store/orders.js';
import { recordStateChange } from '../store/counterfactual.js';
import { isLossStreakHalt } from '../domain/rules/engine.js';

type State = 'active' | 'reducing' | 'halted';
const STRICTNESS: Record<State, number> = { active: 0, reducing: 1, halted: 2 };

export async function changeState(deps: Deps, auth: AuthContext, modelId: number, target: State, reason: string | null) {
  return deps.sql.begin(async (tx) => {
    const model = await getOwnedModel(tx, auth.userId, modelId, true);
    const stateLocked = await modelStateLocked(tx, modelId);
    const approver = hasScope(auth, 'approve');
    const loosening = STRICTNESS[target] < STRICTNESS[model.state];
    if (loosening && !approver) {
      throw new ToolError(
        'MISSING_SCOPE',
        `Model ${modelId} is ${model.state}; moving it to ${target} needs the 'approve' scope (key ${auth.keyPrefix} has ${auth.scopes.join(', ')}).`,
      );
    }
    if (stateLocked && !approver && target === model.state) {
      // Already there, and the lock's reason (an approver's or a circuit breaker's) stays.
      return { model_id: modelId, state: model.state, previous_state: model.state, reason: model.state_reason, locked: true };
    }
    const locked = target === 'active' ? false : approver || stateLocked;
    await setModelState(tx, modelId, target, target === 'active' ? null : reason, locked);
    // Lifting a halt_after_losses halt (to active or reducing) starts a new streak (else the next order would halt it again).
    if (target !== 'halted' && isLossStreakHalt(model.state_reason)) {
      await tx`update runs set loss_streak = 0 where model_id = ${modelId} and status = 'running'`;
    }
    // Kept so a counterfactual replay puts this manual change back at its run clock.
    await recordStateChange(tx, modelId, target, target === 'active' ? null : reason, auth.keyPrefix);
    return { model_id: modelId, state: target, previous_state: model.state, reason: target === 'active' ? null : reason, locked };
  });
}
