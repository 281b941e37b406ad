import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Loopback HTTP servers that misbehave on purpose, for timeout and dropped-connection tests.
 * nock cannot stand in here: with an aborted fetch its delayed reply trips an undici assertion,
 * and for jsforce's bundled undici it ignores `.delay()` and resolves `replyWithError` through a
 * real DNS lookup. A real socket on 127.0.0.1 behaves like the network does.
 */
export interface FaultyServer {
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<FaultyServer> {
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

/** Answers every request with `body` only after `delayMs`. */
export function startSlowServer(delayMs: number, body: unknown = {}): Promise<FaultyServer> {
  return listen(
    createServer((_request, response) => {
      const timer = setTimeout(() => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      }, delayMs);
      response.on('close', () => clearTimeout(timer));
    }),
  );
}

/** Reads the whole request, then destroys the socket without answering: the write may have landed. */
export function startDroppingServer(): Promise<FaultyServer> {
  return listen(
    createServer((request) => {
      request.resume();
      request.on('end', () => request.socket.destroy());
    }),
  );
}
