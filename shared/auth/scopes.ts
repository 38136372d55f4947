import { ToolError } from '../mcp/errors.js';
import type { AuthContext, Scope } from './keys.js';

export function hasScope(auth: AuthContext, scope: Scope): boolean {
  return auth.scopes.includes(scope);
}

/** Throws the one sentence a caller needs when its key lacks the scope (or every one of several accepted scopes). */
export function requireScope(auth: AuthContext, scope: Scope | readonly Scope[], action: string): void {
  const accepted = typeof scope === 'string' ? [scope] : scope;
  if (!accepted.some((s) => hasScope(auth, s))) {
    const need = accepted.length === 1 ? `the '${accepted[0]}' scope` : `one of the scopes ${accepted.map((s) => `'${s}'`).join(' or ')}`;
    throw new ToolError('MISSING_SCOPE', `${action} needs ${need}; key ${auth.keyPrefix} has ${auth.scopes.join(', ') || 'no scopes'}.`);
  }
}
