// The requestState of an input_required answer (MCP 2026-07-28): the client echoes it byte for
// byte when it retries, so it is untrusted input. It is signed (HMAC-SHA256 with a secret kept
// in the database, so any replica verifies it), bound to the key that asked, and expires.
// Signed, not encrypted: the client can read the payload, which holds only ids.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Sql } from '../db/database.js';
import { ToolError } from './errors.js';

const secrets = new WeakMap<object, Promise<Buffer>>();

/** The shared signing secret, made on first use and read once per process. */
export function requestStateSecret(sql: Sql): Promise<Buffer> {
  let s = secrets.get(sql);
  if (!s) {
    s = (async () => {
      await sql`insert into server_secrets (name, secret) values ('request_state', ${randomBytes(32)}) on conflict (name) do nothing`;
      const [row] = await sql<{ secret: Buffer | Uint8Array }[]>`select secret from server_secrets where name = 'request_state'`;
      return Buffer.from(row!.secret);
    })();
    s.catch(() => secrets.delete(sql));
    secrets.set(sql, s);
  }
  return s;
}

export interface StatePayload {
  /** What the state is for, e.g. "approval". */
  kind: string;
  /** The key id that asked; a state is refused for any other key. */
  key_id: number;
  /** Expiry, milliseconds since the epoch. */
  exp: number;
  [field: string]: unknown;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const mac = (secret: Buffer, body: string) => createHmac('sha256', secret).update(body).digest();

export function signState(secret: Buffer, payload: StatePayload): string {
  const body = b64(JSON.stringify(payload));
  return `${body}.${b64(mac(secret, body))}`;
}

/**
 * The payload of a state this server signed for `keyId` and `kind`, not yet expired.
 * Throws one sentence (ToolError BAD_REQUEST_STATE) for a forged, altered, foreign or expired state.
 */
export function verifyState(secret: Buffer, token: unknown, keyId: number, kind: string, now = Date.now()): StatePayload {
  const refuse = (why: string) => new ToolError('BAD_REQUEST_STATE', `The requestState ${why}; nothing was changed. Call the tool again without it.`);
  if (typeof token !== 'string' || token.length > 2048) throw refuse('is not one this server issued');
  const [body, sig, extra] = token.split('.');
  if (!body || !sig || extra !== undefined) throw refuse('is not one this server issued');
  const expected = mac(secret, body);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refuse('was altered or not signed by this server');
  let payload: StatePayload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as StatePayload;
  } catch {
    throw refuse('is not one this server issued');
  }
  if (payload.kind !== kind || payload.key_id !== keyId) throw refuse('was issued for another key or request');
  if (!(payload.exp > now)) throw refuse('has expired');
  return payload;
}
