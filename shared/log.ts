// One JSON object per line on stdout; AIBT_LOG=silent turns it off (tests). Nothing else
// writes logs: no raw stack reaches stderr, and a stack appears only with an unexpected error.
export type LogFields = Record<string, unknown>;

let silent = process.env.AIBT_LOG === 'silent';

export function setLogSilent(value: boolean): void {
  silent = value;
}

export function logEvent(event: string, fields: LogFields = {}): void {
  if (silent) return;
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + '\n');
}

/**
 * An error as log fields: its message and code always; its stack only when `unexpected`
 * (an internal error someone must read), never for an expected outage such as a lost database.
 */
export function errorFields(err: unknown, unexpected: boolean): LogFields {
  const e = err as { message?: unknown; code?: unknown; stack?: unknown } | null;
  const message = err instanceof Error ? err.message : typeof e?.message === 'string' ? e.message : String(err);
  return {
    error: message,
    ...(typeof e?.code === 'string' || typeof e?.code === 'number' ? { code: e.code } : {}),
    ...(unexpected && typeof e?.stack === 'string' ? { stack: e.stack } : {}),
  };
}

let lastResortInstalled = false;

/**
 * The last resort: an exception or rejection nothing caught is logged as one JSON line and
 * the process keeps serving (a lost database or cache must never end it). Installed once.
 * `expected(err)` marks errors that are outages rather than bugs (logged without a stack).
 */
export function installLastResort(expected: (err: unknown) => boolean = () => false): void {
  if (lastResortInstalled) return;
  lastResortInstalled = true;
  process.on('uncaughtException', (err) => logEvent('uncaught_exception', errorFields(err, !expected(err))));
  process.on('unhandledRejection', (err) => logEvent('unhandled_rejection', errorFields(err, !expected(err))));
}
