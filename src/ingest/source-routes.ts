import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Database } from '../platform/db.ts';
import { notFound } from '../platform/errors.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { webhookAdapter } from '../integrations/registry.ts';
import { webhookSourceNames, type AnyWebhookSourceAdapter } from '../integrations/webhook-source.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { loadSourceConfig, putSourceConfig, toView, type SourceView } from './source-config-store.ts';
import type { SourceCache } from './source-cache.ts';
import { publicBaseUrl, webhookUrlFor } from './webhook-url.ts';

const sourceView = z.object({
  source: z.enum(webhookSourceNames),
  webhookUrl: z.string(),
  config: z.record(z.string(), z.unknown()),
  secrets: z.record(z.string(), z.object({ set: z.boolean(), count: z.number().optional() })),
  lastVerifiedAt: z.string().nullable(),
  updatedAt: z.string(),
});

const params = z.object({ workspaceId, source: z.enum(webhookSourceNames) });

export const sourceRoutes: FastifyPluginAsync<{ db: Database; secretBox: SecretBox; config: Config; sources: SourceCache }> = async (app, deps) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const base = publicBaseUrl(deps.config);
  const present = (ws: string, adapter: AnyWebhookSourceAdapter, view: SourceView) => ({ ...view, webhookUrl: webhookUrlFor(base, ws, adapter) });

  api.put('/workspaces/:workspaceId/sources/:source', {
    schema: {
      summary: 'Configure a webhook source (secrets are write-only; omitted secrets keep their stored value)',
      security: [{ adminToken: [] }],
      params,
      body: z.record(z.string(), z.unknown()),
      response: { 200: sourceView },
    },
  }, async (request) => {
    const { workspaceId: ws, source } = request.params;
    await requireWorkspace(deps.db, request, ws);
    const adapter = webhookAdapter(source)!;
    const view = await putSourceConfig(deps.db, deps.secretBox, adapter, ws, request.body);
    deps.sources.invalidate(ws, adapter.source);
    return present(ws, adapter, view);
  });

  api.get('/workspaces/:workspaceId/sources/:source', {
    schema: { summary: 'Read a webhook source', security: [{ adminToken: [] }], params, response: { 200: sourceView } },
  }, async (request) => {
    const { workspaceId: ws, source } = request.params;
    await requireWorkspace(deps.db, request, ws);
    const adapter = webhookAdapter(source)!;
    const stored = await loadSourceConfig(deps.db, deps.secretBox, adapter, ws);
    if (!stored) throw notFound(`The ${source} source of workspace ${ws}`);
    return present(ws, adapter, toView(adapter, stored.config as Record<string, unknown>, stored.lastVerifiedAt, stored.updatedAt));
  });

  api.get('/workspaces/:workspaceId/sources', {
    schema: {
      summary: 'List the configured webhook sources',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      response: { 200: z.object({ items: z.array(sourceView) }) },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(deps.db, request, ws);
    const items = [];
    for (const name of webhookSourceNames) {
      const adapter = webhookAdapter(name)!;
      const stored = await loadSourceConfig(deps.db, deps.secretBox, adapter, ws);
      if (stored) items.push(present(ws, adapter, toView(adapter, stored.config as Record<string, unknown>, stored.lastVerifiedAt, stored.updatedAt)));
    }
    return { items };
  });
};
