import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { migrationsAreCurrent } from '../platform/migrate.ts';

export interface WorkerStatus {
  isRunning(): boolean;
}

const readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({
    database: z.boolean(),
    migrations: z.boolean(),
    worker: z.boolean().optional(),
  }),
});

export function registerHealthRoutes(app: FastifyInstance, deps: { db: Database; worker?: WorkerStatus }): void {
  // Once migrations are known to be current they stay current for this process's life.
  let migrationsCurrent = false;

  app.get('/healthz', { schema: { response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', { schema: { response: { 200: readiness, 503: readiness } } }, async (_request, reply) => {
    const database = await sql`select 1`.execute(deps.db).then(() => true, () => false);
    if (database && !migrationsCurrent) migrationsCurrent = await migrationsAreCurrent(deps.db).catch(() => false);
    const checks = {
      database,
      migrations: migrationsCurrent,
      ...(deps.worker ? { worker: deps.worker.isRunning() } : {}),
    };
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
}
