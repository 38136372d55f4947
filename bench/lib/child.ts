// What a forked load process of the bench (bench/lib/load.ts, bench/lib/attack-load.ts) says
// to the bench process that forked it, and its MCP clients.
import { setMaxListeners } from 'node:events';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

// The SDK's HTTP client adds an abort listener per request to its transport's signal; a
// bench makes thousands of calls per client.
setMaxListeners(0);

export const send = (m: unknown) => process.send!(m);
let ackWaiter: (() => void) | null = null;

/** Tells the bench process a phase starts or ends and waits until it has taken its reading (its 'ack'). */
export function mark(m: Record<string, unknown>): Promise<void> {
  return new Promise((resolve) => {
    ackWaiter = resolve;
    send(m);
  });
}

/** Answers the bench process's acks to mark(); hands every other message to `onMessage`. */
export function listen<M extends { type: string }>(onMessage: (m: M) => void): void {
  process.on('message', (m: M) => {
    if (m.type !== 'ack') return onMessage(m);
    const w = ackWaiter;
    ackWaiter = null;
    w?.();
  });
}

/** A client with its own key (none for the bare SDK echo). */
export async function connect(url: string, key?: string): Promise<Client> {
  const client = new Client({ name: 'aibt-bench', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), key ? { requestInit: { headers: { Authorization: `Bearer ${key}` } } } : {}));
  return client;
}
