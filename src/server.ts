import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';

/** Listens on the configured address; the app itself was built without knowing about ports. */
export async function listen(app: FastifyInstance, config: Config): Promise<string> {
  const address = await app.listen({ host: config.host, port: config.port });
  // Slow or stalled clients must not hold sockets forever.
  app.server.headersTimeout = Math.min(config.requestTimeoutMs, 60_000);
  return address;
}
