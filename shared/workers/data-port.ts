// The data port between the main thread and a worker job. The database (the embedded
// PGlite is one connection in the main process) and the market (its cache, its Polygon
// budget) stay on the main thread: a job's reads are asked over a MessagePort and answered
// there, the job's computation runs in the worker. Row sets and bar lists cross as columns:
// all-number and date columns as Float64Arrays moved (transferred, not copied), the rest as
// plain arrays, so a result is a few arrays instead of one object per row.
import type { MessagePort, Transferable } from 'node:worker_threads';
import type { Q } from '../db/database.js';
import { ToolError } from '../mcp/errors.js';
import type { Market } from '../market/market.js';

/** A list of uniform objects as columns. `kinds[c]`: 'n' numbers, 'd' dates (ms, NaN = null), 'a' anything. */
export interface Columns {
  columnar: true;
  n: number;
  names: string[];
  kinds: ('n' | 'd' | 'a')[];
  cols: (Float64Array | unknown[])[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * `rows` as columns when every row is a plain object with the first row's keys (a row set,
 * a bar list), else null. Pushes the moved buffers onto `transfer`.
 */
export function toColumns(rows: readonly unknown[], transfer: Transferable[]): Columns | null {
  const first = rows[0];
  if (!isPlainObject(first)) return null;
  const names = Object.keys(first);
  for (const r of rows) if (!isPlainObject(r) || Object.keys(r).length !== names.length) return null;
  const n = rows.length;
  const kinds: Columns['kinds'] = [];
  const cols: Columns['cols'] = [];
  for (const name of names) {
    let numbers = true;
    let dates = true;
    for (let i = 0; i < n && (numbers || dates); i++) {
      const v = (rows[i] as Record<string, unknown>)[name];
      if (typeof v !== 'number') numbers = false;
      if (!(v instanceof Date) && v !== null) dates = false;
    }
    if (numbers || dates) {
      const col = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = (rows[i] as Record<string, unknown>)[name];
        col[i] = numbers ? (v as number) : v === null ? NaN : (v as Date).getTime();
      }
      kinds.push(numbers ? 'n' : 'd');
      cols.push(col);
      transfer.push(col.buffer);
    } else {
      const col = new Array<unknown>(n);
      for (let i = 0; i < n; i++) col[i] = (rows[i] as Record<string, unknown>)[name];
      kinds.push('a');
      cols.push(col);
    }
  }
  return { columnar: true, n, names, kinds, cols };
}

/** The row objects back from columns (in the worker). */
export function fromColumns(c: Columns): Record<string, unknown>[] {
  const rows = new Array<Record<string, unknown>>(c.n);
  for (let i = 0; i < c.n; i++) {
    const row: Record<string, unknown> = {};
    for (let k = 0; k < c.names.length; k++) {
      const v = c.cols[k]![i];
      row[c.names[k]!] = c.kinds[k] === 'd' ? (Number.isNaN(v as number) ? null : new Date(v as number)) : v;
    }
    rows[i] = row;
  }
  return rows;
}

const isColumns = (v: unknown): v is Columns => (v as Columns | null)?.columnar === true;

/** An error as it crosses a thread: its class reduced to "tool" or not, its fields kept (code, message, SQLSTATE parts). */
export interface SentError {
  tool: boolean;
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, string | number | boolean>;
}

export function sendError(err: unknown): SentError {
  const e = err instanceof Error ? err : new Error(String(err));
  const fields: SentError['fields'] = {};
  for (const [k, v] of Object.entries(e)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  return { tool: e instanceof ToolError, name: e.name, message: e.message, stack: e.stack, fields };
}

/** The error again on this side: a ToolError (its one sentence) or an Error with the same code and fields. */
export function receiveError(s: SentError): Error {
  const e = s.tool ? new ToolError(String(s.fields.code ?? 'ERROR'), s.message) : new Error(s.message);
  Object.assign(e, s.fields);
  if (!s.tool) e.name = s.name;
  if (s.stack) e.stack = s.stack;
  return e;
}

/** A sql(rows, ...columns) helper as it crosses: its arguments. */
const HELPER = '__sqlHelper';
const isHelper = (v: unknown): v is { [HELPER]: unknown[] } => v !== null && typeof v === 'object' && HELPER in v;

type Request =
  | { id: number; op: 'sql'; strings: string[]; values: unknown[] }
  | { id: number; op: 'market'; method: MarketRead; args: unknown[] }
  | { op: 'progress'; done: number; total: number; message?: string };
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SentError };

/** The market reads a job may ask for (no writes: forget is not one of them). */
const MARKET_READS = ['priceAt', 'quoteAt', 'isKnown', 'sourceOf', 'timespansOf', 'barsAsOf', 'barsClosedBetween', 'listSymbols', 'corporateActions'] as const;
type MarketRead = (typeof MARKET_READS)[number];

export interface DataSource {
  sql: Q;
  market: Market;
}

/**
 * Main thread: answers one job's reads on `port` until it closes. `onProgress` gets the job's
 * progress. Each answer is encoded (columns) and posted; a failed read is posted as an error
 * the job throws again.
 */
export function serveData(port: MessagePort, source: DataSource, onProgress?: (done: number, total: number, message?: string) => void): void {
  port.on('message', (m: Request) => {
    if (m.op === 'progress') {
      onProgress?.(m.done, m.total, m.message);
      return;
    }
    void (async () => {
      let reply: Reply;
      const transfer: Transferable[] = [];
      try {
        let value: unknown;
        if (m.op === 'sql') {
          const strings = Object.assign([...m.strings], { raw: [...m.strings] }) as unknown as TemplateStringsArray;
          const values = m.values.map((v) => (isHelper(v) ? (source.sql as unknown as (...a: unknown[]) => unknown)(...v[HELPER]) : v));
          value = Array.from(await source.sql(strings, ...(values as never[])));
        } else {
          if (!MARKET_READS.includes(m.method)) throw new Error(`A worker job may not call market.${String(m.method)}.`);
          value = await (source.market[m.method] as (...a: unknown[]) => Promise<unknown>)(...m.args);
        }
        reply = { id: m.id, ok: true, value: (Array.isArray(value) && toColumns(value, transfer)) || value };
      } catch (err) {
        transfer.length = 0;
        reply = { id: m.id, ok: false, error: sendError(err) };
      }
      try {
        port.postMessage(reply, transfer);
      } catch {
        // the job ended (cancelled): nobody waits for the answer
      }
    })();
  });
}

/** Worker side: the job's `sql` and `market`, each read answered by the main thread. */
export function remoteData(port: MessagePort, fetches: boolean): DataSource & { progress(done: number, total: number, message?: string): void } {
  let next = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  port.on('message', (r: Reply) => {
    const w = waiting.get(r.id);
    if (!w) return;
    waiting.delete(r.id);
    if (r.ok) w.resolve(isColumns(r.value) ? fromColumns(r.value) : r.value);
    else w.reject(receiveError(r.error));
  });
  const send = (req: { op: 'sql'; strings: string[]; values: unknown[] } | { op: 'market'; method: MarketRead; args: unknown[] }) =>
    new Promise<any>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      port.postMessage({ ...req, id });
    });
  // One job reads one view of its data: a read asked again (suggest_rules replays the same run
  // for every candidate) is answered from this job's own copy, not by the main thread again.
  const reads = new Map<string, Promise<unknown>>();
  const ask = (req: { op: 'sql'; strings: string[]; values: unknown[] } | { op: 'market'; method: MarketRead; args: unknown[] }) => {
    if (req.op === 'sql' && !/^\s*(select|with)\b/i.test(req.strings[0] ?? '')) return send(req);
    let key: string;
    try {
      key = JSON.stringify(req);
    } catch {
      return send(req); // a value JSON cannot spell (a bigint): asked each time
    }
    let p = reads.get(key);
    if (!p) {
      reads.set(key, (p = send(req)));
      p.catch(() => reads.delete(key));
    }
    // a fresh list each time: a caller may sort or splice what it got
    return p.then((v) => (Array.isArray(v) ? v.slice() : v));
  };
  const sql = ((strings: unknown, ...values: unknown[]) => {
    // sql(rows, ...columns): the insert/identifier helper, built again on the main thread
    if (!Array.isArray(strings) || !('raw' in strings)) return { [HELPER]: [strings, ...values] };
    for (const v of values) {
      if (v !== null && typeof v === 'object' && !(v instanceof Date) && !Array.isArray(v) && !isHelper(v)) {
        throw new Error('A worker job queries with plain values and the sql(rows, ...columns) helper only (no fragments or transactions).');
      }
    }
    return ask({ op: 'sql', strings: [...strings], values });
  }) as unknown as Q;
  const market = { fetches } as Record<string, unknown>;
  // the q argument (a transaction) stays behind: the main thread reads on its own connection
  for (const method of MARKET_READS) market[method] = (...args: unknown[]) => ask({ op: 'market', method, args: args.filter((a) => typeof a !== 'function') });
  market.forget = async () => {
    throw new Error('A worker job may not change the market.');
  };
  return {
    sql,
    market: market as unknown as Market,
    progress: (done, total, message) => port.postMessage({ op: 'progress', done, total, ...(message ? { message } : {}) }),
  };
}
