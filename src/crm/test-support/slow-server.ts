import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP server that answers every request only after `delayMs`, for timeout tests.
 * nock's `.delay()` cannot be used with an aborted fetch: when the aborted socket closes, undici
 * trips an internal assertion (nock 15 / @mswjs/interceptors), so a real slow server stands in.
 */
export interface SlowServer {
  url: string;
  close(): Promise<void>;
}

export async function startSlowServer(delayMs: number, body: unknown = {}): Promise<SlowServer> {
  const server: Server = createServer((_request, response) => {
    const timer = setTimeout(() => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    }, delayMs);
    response.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
