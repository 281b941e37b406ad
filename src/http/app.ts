import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { registerErrorHandling } from './error-handler.ts';
import { sampleQueueDepth } from '../platform/queue-depth.ts';
import { registerHealthRoutes, type WorkerStatus } from './health-routes.ts';
import { requireAdminToken } from './admin-auth.ts';
import { workspaceRoutes } from '../workspaces/workspace-routes.ts';
import { webhookRoutes } from '../ingest/webhook-routes.ts';
import { sourceRoutes } from '../ingest/source-routes.ts';
import { SourceCache } from '../ingest/source-cache.ts';
import { deliveryRoutes } from '../ingest/delivery-routes.ts';
import { SignalPump } from '../signals/pump.ts';
import { connectionRoutes } from '../writeback/connection-routes.ts';
import { writebackRoutes } from '../writeback/writeback-routes.ts';
import { alertRoutes } from '../alerts/alert-routes.ts';
import { peopleRoutes } from '../people/people-routes.ts';
import { routingRoutes } from '../routing/routing-routes.ts';
import { playbookRoutes } from '../progression/playbook-routes.ts';
import { dealRoutes } from '../progression/deal-routes.ts';
import { replayRoutes } from '../progression/replay-routes.ts';
import { syncRoutes } from '../sync/sync-routes.ts';
import { dealInputRoutes } from '../progression/deal-input-routes.ts';
import { consolePlugin } from '../console/console-plugin.ts';
import { DryRuns } from '../console/dry-runs.ts';

export interface AppDeps {
  config: Config;
  db: Database;
  pool: pg.Pool;
  logger: Logger;
  metrics: Metrics;
  secretBox: SecretBox;
  /** Present when this process runs a queue worker; /readyz then checks it. */
  worker?: WorkerStatus;
  /** Turns stored signals into evaluation jobs; one is made when not given. */
  pump?: SignalPump;
  now?: () => Date;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds the HTTP application. It never listens: `server.ts` does, and tests use `inject`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the instance's generic types the default ones.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    keepAliveTimeout: 72_000,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpDuration
      .labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Momentum', version: '1', description: 'Deal progression for HubSpot and Salesforce' },
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  registerHealthRoutes(app, deps);
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    await sampleQueueDepth(deps.db, deps.metrics);
    void reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  const pump = deps.pump ?? new SignalPump(deps.db, deps.logger);
  app.addHook('onClose', () => pump.idle());
  const now = deps.now ?? (() => new Date());

  const sources = new SourceCache(deps.db, deps.secretBox);
  await app.register(webhookRoutes, {
    config,
    receive: { db: deps.db, pool: deps.pool, sources, metrics: deps.metrics, logger: deps.logger, onSignalsStored: pump.nudge, now },
  });

  await app.register(async (api) => {
    requireAdminToken(api, deps.db);
    await api.register(workspaceRoutes, { db: deps.db });
    await api.register(sourceRoutes, { db: deps.db, secretBox: deps.secretBox, config, sources });
    await api.register(deliveryRoutes, { db: deps.db, secretBox: deps.secretBox, onSignalsStored: pump.nudge });
    const crm = { db: deps.db, secretBox: deps.secretBox, logger: deps.logger, crmTimeoutMs: config.crmTimeoutMs };
    await api.register(connectionRoutes, crm);
    await api.register(playbookRoutes, crm);
    await api.register(dealRoutes, { db: deps.db });
    await api.register(replayRoutes, { db: deps.db, now });
    await api.register(dealInputRoutes, { db: deps.db, onSignalsStored: pump.nudge, now });
    await api.register(writebackRoutes, { db: deps.db, now });
    await api.register(syncRoutes, { db: deps.db, now });
    await api.register(alertRoutes, { db: deps.db, secretBox: deps.secretBox, now });
    await api.register(peopleRoutes, { db: deps.db });
    await api.register(routingRoutes, { db: deps.db, now });
  }, { prefix: '/api' });

  // The ops console authenticates with its own session cookie, so it lives outside the /api scope.
  await app.register(consolePlugin, {
    prefix: '/console',
    config, db: deps.db, secretBox: deps.secretBox, logger: deps.logger, sources, onSignalsStored: pump.nudge, now, dryRuns: new DryRuns(deps.db, deps.logger),
  });

  return app;
}
