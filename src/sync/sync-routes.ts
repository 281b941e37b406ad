import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { conflict } from '../platform/errors.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { loadSyncState, requestImport } from './sync-store.ts';
import { syncView } from './sync-view.ts';

const importStatus = z.enum(['idle', 'queued', 'running', 'waiting', 'completed', 'failed']);

export const syncViewSchema = z.object({
  import: z.object({
    status: importStatus,
    reason: z.string().nullable(),
    activityDays: z.number(),
    requestedAt: z.string().nullable(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    pages: z.number(),
    deals: z.number(),
    activities: z.number(),
    signals: z.number(),
    totalDeals: z.number().nullable(),
    estimatedFinishAt: z.string().nullable(),
    error: z.record(z.string(), z.unknown()).nullable(),
  }),
  reconciliation: z.object({
    watermark: z.string().nullable(),
    lastStartedAt: z.string().nullable(),
    lastFinishedAt: z.string().nullable(),
    runs: z.number(),
    dealsCompared: z.number(),
    missedChanges: z.number(),
    lastRunMissedChanges: z.number(),
    closedDeals: z.number(),
    failures: z.number(),
    lastError: z.record(z.string(), z.unknown()).nullable(),
    lastErrorAt: z.string().nullable(),
  }),
});

const syncRequest = z
  .object({
    /** Days of activity history to import with each deal; 0 imports none. */
    activityDays: z.number().int().min(0).max(365).optional(),
    /** Start over even if an import is under way (its signals stay; nothing is duplicated). */
    restart: z.boolean().optional(),
  })
  .strict();

export const syncRoutes: FastifyPluginAsync<{ db: Database; now: () => Date }> = async (app, { db, now }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/workspaces/:workspaceId/sync', {
    schema: {
      summary: 'Initial import progress (counts, estimated finish) and reconciliation status (watermark, missed changes, errors)',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      response: { 200: syncViewSchema },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    return syncView(await loadSyncState(db, ws), now());
  });

  api.post('/workspaces/:workspaceId/sync', {
    schema: {
      summary: 'Import every open deal of the mapped pipelines now (continues an import under way unless restart is set)',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      body: syncRequest.optional(),
      response: { 202: syncViewSchema },
    },
  }, async (request, reply) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const connection = await db.selectFrom('connections').select('workspace_id').where('workspace_id', '=', ws).executeTakeFirst();
    if (!connection) throw conflict('no_connection', `Workspace ${ws} has no CRM connection; set one with PUT /api/workspaces/${ws}/connection first`);
    const body = request.body ?? {};
    const row = await requestImport(db, ws, {
      reason: 'api',
      ...(body.activityDays === undefined ? {} : { activityDays: body.activityDays }),
      ...(body.restart === undefined ? {} : { restart: body.restart }),
    });
    void reply.code(202);
    return syncView(row, now());
  });
};
