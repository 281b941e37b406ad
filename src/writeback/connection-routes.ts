import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { notFound } from '../platform/errors.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { loadConnection, putConnection, recordConnectionTest } from './connection-store.ts';
import { crmClientFor } from './crm-target.ts';
import { connectionUsage } from './connection-usage.ts';
import type { CrmConnectionConfig } from '../crm/connection-config.ts';
import { queueImportForConnection } from '../sync/sync-store.ts';
import { queuePeopleSyncForConnection } from '../people/people-sync-store.ts';

const connectionView = z.object({
  provider: z.enum(['hubspot', 'salesforce']),
  config: z.record(z.string(), z.unknown()),
  tokenExpiresAt: z.string().nullable(),
  lastTest: z.record(z.string(), z.unknown()).nullable(),
  lastTestedAt: z.string().nullable(),
  updatedAt: z.string(),
  usage: z.object({ today: z.number(), dailyUsed: z.number().nullable(), dailyLimit: z.number().nullable(), pausedUntil: z.string().nullable() }),
});

const testResult = z.object({
  ok: z.boolean(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), message: z.string() })),
});

export const connectionRoutes: FastifyPluginAsync<{ db: Database; secretBox: SecretBox; logger: Logger; crmTimeoutMs: number }> = async (app, deps) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { db } = deps;

  const withUsage = async (ws: string, view: Awaited<ReturnType<typeof putConnection>>, config: CrmConnectionConfig) => {
    const { today, dailyUsed, dailyLimit, pausedUntil } = await connectionUsage(db, ws, config, new Date());
    return { ...view, usage: { today, dailyUsed, dailyLimit, pausedUntil } };
  };

  api.put('/workspaces/:workspaceId/connection', {
    schema: {
      summary: 'Set the CRM connection (secrets are write-only and encrypted; omitted secrets keep their stored value)',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      body: z.record(z.string(), z.unknown()),
      response: { 200: connectionView },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const view = await putConnection(db, deps.secretBox, ws, request.body);
    // A new connection brings in the CRM's open deals (see docs/sync.md) and its people (docs/alerts.md).
    await queueImportForConnection(db, ws, new Date());
    await queuePeopleSyncForConnection(db, ws, new Date());
    const stored = (await loadConnection(db, deps.secretBox, ws))!;
    return withUsage(ws, view, stored.config);
  });

  api.get('/workspaces/:workspaceId/connection', {
    schema: { summary: 'Read the CRM connection (secrets shown only as set)', security: [{ adminToken: [] }], params: z.object({ workspaceId }), response: { 200: connectionView } },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const stored = await loadConnection(db, deps.secretBox, ws);
    if (!stored) throw notFound(`The CRM connection of workspace ${ws}`);
    return withUsage(ws, stored.view, stored.config);
  });

  api.post('/workspaces/:workspaceId/connection/test', {
    schema: { summary: 'Call the CRM and report, in plain words, what works and what does not', security: [{ adminToken: [] }], params: z.object({ workspaceId }), response: { 200: testResult } },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const stored = await loadConnection(db, deps.secretBox, ws);
    if (!stored) throw notFound(`The CRM connection of workspace ${ws}`);
    const client = crmClientFor({ db, secretBox: deps.secretBox, logger: deps.logger, config: { crmTimeoutMs: deps.crmTimeoutMs } }, ws, stored.config);
    const result = await client.testConnection();
    await recordConnectionTest(db, ws, { ...result });
    return result;
  });
};
