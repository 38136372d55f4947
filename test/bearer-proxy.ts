// A loopback HTTP proxy that adds `Authorization: Bearer <key>` to every request and passes
// everything else through unchanged (Host and Origin included, so the server's DNS-rebinding
// checks still see the client's own headers): for clients that cannot send a bearer header,
// such as the MCP conformance suite.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BearerProxy {
  /** The proxy's URL: the target's path on the proxy's loopback port. */
  url: string;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (ephemeral port) in front of `target` (an http:// MCP URL). */
export async function bearerProxy(target: string, key: string): Promise<BearerProxy> {
  const to = new URL(target);
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: { ...req.headers, authorization: `Bearer ${key}` } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${to.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
