// Errors a caller can act on: a stable code for tests, one sentence for people.
export class ToolError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function notFound(kind: string, id: number | string): ToolError {
  return new ToolError('NOT_FOUND', `${kind} ${id} was not found.`);
}

const STORAGE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', '57P01', '57P03']);

/** True when an error means the database cannot be reached right now. */
export function isStorageUnavailable(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return typeof code === 'string' && STORAGE_CODES.has(code);
}
