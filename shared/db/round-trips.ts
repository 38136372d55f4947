// Counts database round trips: a round trip begins when the client writes to a connection
// after it last heard from the server, i.e. each time it sends and then has to wait (a
// statement, BEGIN, COMMIT, or the describe step of a statement the connection has not
// prepared yet). Statements pipelined without waiting in between count once, as they cost
// once on the wire, however many socket writes carry them.
// A separate wrapper (a socket factory handed to postgres.js), so the driver setup in
// database.ts stays as it is.
import net from 'node:net';

export interface RoundTripCounter {
  /** Round trips since the pool opened (connection start-up included). */
  readonly count: number;
  /** False when the count cannot be exact (TLS or several hosts: the driver's own socket is used). */
  readonly counted: boolean;
  /**
   * Round trips made while `fn` runs. Exact only when nothing else in this process uses the
   * pool meanwhile (tests run one call at a time; the bench divides a phase's total by its calls).
   */
  measure<T>(fn: () => Promise<T>): Promise<{ result: T; roundTrips: number }>;
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
  const counted = url === null || !needsDriverSocket(url);
  const counter: RoundTripCounter = {
    get count() {
      return count;
    },
    counted,
    async measure(fn) {
      const before = count;
      const result = await fn();
      return { result, roundTrips: count - before };
    },
  };
  if (!counted) return { counter, socket: undefined };
  const socket = (opts: DriverSocketOptions): net.Socket => {
    const s = opts.path ? net.connect(opts.path) : net.connect(opts.port[0]!, opts.host[0]!);
    s.setNoDelay(true);
    let waiting = false; // written since the server last answered
    const write = s.write.bind(s) as (...args: unknown[]) => boolean;
    (s as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
      if (!waiting) count++;
      waiting = true;
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

/** TLS (sslmode other than disable, or ssl=) and several hosts need the driver's own socket. */
function needsDriverSocket(url: string): boolean {
  const ssl = /[?&](sslmode|ssl)=([^&]*)/i.exec(url);
  if (ssl && !/^(disable|false|0)$/i.test(ssl[2]!)) return true;
  if (process.env.PGSSLMODE && !/^disable$/i.test(process.env.PGSSLMODE)) return true;
  const authority = /^[a-z]+:\/\/(?:[^@/]*@)?([^/?]*)/i.exec(url)?.[1] ?? '';
  return authority.includes(',');
}
