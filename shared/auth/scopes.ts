import { ToolError } from '../mcp/errors.js';
import type { AuthContext, Scope } from './keys.js';

export function hasScope(auth: AuthContext, scope: Scope): boolean {
  return auth.scopes.includes(scope);
}

/** Throws the one sentence a caller needs when its key lacks a scope. */
export function requireScope(auth: AuthContext, scope: Scope, action: string): void {
  if (!hasScope(auth, scope)) {
    throw new ToolError(
      'MISSING_SCOPE',
      `${action} needs the '${scope}' scope; key ${auth.keyPrefix} has ${auth.scopes.join(', ') || 'no scopes'}.`,
    );
  }
}
