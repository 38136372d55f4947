// Counts database round trips: a round trip begins when the client writes to a connection
// after it last heard from the server, i.e. each time it sends and then has to wait (a
// statement, BEGIN, COMMIT, or the describe step of a statement the connection has not
// prepared yet). Statements pipelined without waiting in between count once, as they cost
// once on the wire, however many socket writes carry them.
// Statements are counted from the same bytes: each Execute ('E') or simple Query ('Q')
// message the client sends is one statement run by the server (a describe-only Parse is not).
// A separate wrapper (a socket factory handed to postgres.js), so the driver setup in
// database.ts stays as it is.
import net from 'node:net';

export interface RoundTripCounter {
  /** Round trips since the pool opened (connection start-up included). */
  readonly count: number;
  /** Statements sent since the pool opened (Execute and simple Query messages). */
  readonly statements: number;
  /** False when the count cannot be exact (TLS or several hosts: the driver's own socket is used). */
  readonly counted: boolean;
  /**
   * Round trips made while `fn` runs. Exact only when nothing else in this process uses the
   * pool meanwhile (tests run one call at a time; the bench divides a phase's total by its calls).
   */
  measure<T>(fn: () => Promise<T>): Promise<{ result: T; roundTrips: number; statements: number }>;
}

interface DriverSocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
  ssl?: unknown;
}

export interface CountingSocket {
  counter: RoundTripCounter;
  /** The postgres.js `socket` option, or undefined when counting is not possible for this URL. */
  socket: ((opts: DriverSocketOptions) => net.Socket) | undefined;
}

/**
 * A socket factory for postgres.js whose writes are counted. `url` is DATABASE_URL (null for
 * the embedded database on loopback): TLS and multi-host URLs keep the driver's own socket
 * (its TLS upgrade and host failover) and report `counted: false`.
 */
export function countingSocket(url: string | null): CountingSocket {
  let count = 0;
  let statements = 0;
  const counted = url === null || !needsDriverSocket(url);
  const counter: RoundTripCounter = {
    get count() {
      return count;
    },
    get statements() {
      return statements;
    },
    counted,
    async measure(fn) {
      const before = count;
      const beforeStatements = statements;
      const result = await fn();
      return { result, roundTrips: count - before, statements: statements - beforeStatements };
    },
  };
  if (!counted) return { counter, socket: undefined };
  const socket = (opts: DriverSocketOptions): net.Socket => {
    const s = opts.path ? net.connect(opts.path) : net.connect(opts.port[0]!, opts.host[0]!);
    s.setNoDelay(true);
    let waiting = false; // written since the server last answered
    const messages = frontendMessages((type) => {
      if (type === 0x45 /* E */ || type === 0x51 /* Q */) statements++;
    });
    const write = s.write.bind(s) as (...args: unknown[]) => boolean;
    (s as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
      if (!waiting) count++;
      waiting = true;
      const chunk = args[0];
      if (chunk instanceof Uint8Array || typeof chunk === 'string') messages(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      return write(...args);
    };
    // The driver adds its own 'data' listener once connected; the server speaks only after
    // the client's start-up message, so nothing is read before both listen.
    s.on('data', () => {
      waiting = false;
    });
    return s;
  };
  return { counter, socket };
}

/**
 * Splits the client's byte stream into protocol messages (PostgreSQL protocol 3: the
 * start-up message is a length and a body; every later one a type byte, a length counting
 * itself, and a body) and reports each type, across writes that cut messages anywhere.
 */
function frontendMessages(onMessage: (type: number) => void): (chunk: Uint8Array) => void {
  let started = false;
  let skip = 0;
  const head: number[] = [];
  return (chunk) => {
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      head.push(chunk[i++]!);
      const headLength = started ? 5 : 4;
      if (head.length < headLength) continue;
      const at = headLength - 4;
      const length = ((head[at]! << 24) | (head[at + 1]! << 16) | (head[at + 2]! << 8) | head[at + 3]!) >>> 0;
      if (started) onMessage(head[0]!);
      started = true;
      skip = length - 4;
      head.length = 0;
    }
  };
}

/** TLS (sslmode other than disable, or ssl=) and several hosts need the driver's own socket. */
function needsDriverSocket(url: string): boolean {
  const ssl = /[?&](sslmode|ssl)=([^&]*)/i.exec(url);
  if (ssl && !/^(disable|false|0)$/i.test(ssl[2]!)) return true;
  if (process.env.PGSSLMODE && !/^disable$/i.test(process.env.PGSSLMODE)) return true;
  const authority = /^[a-z]+:\/\/(?:[^@/]*@)?([^/?]*)/i.exec(url)?.[1] ?? '';
  return authority.includes(',');
}
