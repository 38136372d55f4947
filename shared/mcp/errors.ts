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

// Socket errors, postgres.js connection codes, and SQLSTATE classes 08 (connection
// exception), 57P0x (server shutting down / starting) and 53300 (too many connections).
const STORAGE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  '08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300',
]);

/** True when an error means the database cannot be reached right now. */
export function isStorageUnavailable(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return typeof code === 'string' && STORAGE_CODES.has(code);
}
