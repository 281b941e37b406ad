/**
 * A server under test for the `ingest` scenario, run in a child process so the load generator
 * does not share its event loop: `momentum` is the real app (buildApp), `floor` a minimal Fastify
 * route doing one INSERT per request into a table shaped like `deliveries`. Reports its port over
 * IPC and exits when the parent disconnects.
 */
import Fastify from 'fastify';
import { buildApp } from '../../../src/http/app.ts';
import { createDatabase, createPool } from '../../../src/platform/db.ts';
import { benchConfig } from './runtime.ts';
import { createLogger } from '../../../src/platform/logger.ts';
import { createMetrics } from '../../../src/platform/metrics.ts';
import { SecretBox } from '../../../src/platform/secret-box.ts';

const [kind, databaseUrl] = process.argv.slice(2);
const encryptionKey = process.env.BENCH_ENCRYPTION_KEY!;
const poolSize = 10;

async function start() {
  const config = benchConfig({ MOMENTUM_ENCRYPTION_KEY: encryptionKey, DATABASE_URL: databaseUrl!, DATABASE_POOL_SIZE: String(poolSize) });
  const logger = createLogger({ level: config.logLevel });
  const pool = createPool(databaseUrl!, poolSize, logger);
  if (kind === 'momentum') {
    const db = createDatabase(pool);
    const app = await buildApp({ config, db, pool, logger, metrics: createMetrics(), secretBox: new SecretBox(encryptionKey) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { app, close: async () => { await app.close(); await db.destroy(); } };
  }
  const app = Fastify({ logger: false, keepAliveTimeout: 72_000 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post('/floor', async (request, reply) => {
    await pool.query(
      'insert into bench_floor_deliveries (workspace_id, source, status, content_type, headers, raw_body) values ($1, $2, $3, $4, $5, $6)',
      ['bench', 'hubspot', 'accepted', request.headers['content-type'] ?? null, JSON.stringify({ 'content-type': request.headers['content-type'] }), request.body as Buffer],
    );
    return reply.code(200).send();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, close: async () => { await app.close(); await pool.end(); } };
}

const server = await start();
const address = server.app.server.address();
process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
process.on('disconnect', () => {
  void server.close().finally(() => process.exit(0));
});
