import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { routingConfig } from './routing-config.ts';
import { getRoutingConfig, putRoutingConfig } from './routing-store.ts';

const ownerView = z.object({
  ownerId: z.string(),
  territories: z.array(z.string()),
  segments: z.array(z.string()),
  weight: z.number(),
  capacity: z.number().nullable(),
  active: z.boolean(),
});

const routingView = z.object({
  territoryField: z.string(),
  segmentFields: z.array(z.string()),
  respectWorkingHours: z.boolean(),
  fallbackOwnerId: z.string().nullable(),
  owners: z.array(ownerView),
  /** Per rotation: how many deals it has assigned. */
  pools: z.array(z.object({ pool: z.string(), assigned: z.number() })),
  updatedAt: z.string().nullable(),
});

/** GET/PUT the workspace's owner routing (docs/routing.md). */
export const routingRoutes: FastifyPluginAsync<{ db: Database; now: () => Date }> = async (app, { db, now }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  const view = async (ws: string) => {
    const stored = await getRoutingConfig(db, ws);
    const pools = await db.selectFrom('routing_pools').select(['pool', 'assigned']).where('workspace_id', '=', ws).orderBy('pool').execute();
    const config = stored?.config ?? routingConfig.parse({});
    return { ...config, pools: pools.map((p) => ({ pool: p.pool, assigned: Number(p.assigned) })), updatedAt: stored?.updatedAt.toISOString() ?? null };
  };

  api.get('/workspaces/:workspaceId/routing', {
    schema: {
      summary: 'Owner routing: territories, segments, weights and capacity per owner, with rotation counts',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      response: { 200: routingView },
    },
  }, async (request) => {
    await requireWorkspace(db, request, request.params.workspaceId);
    return view(request.params.workspaceId);
  });

  api.put('/workspaces/:workspaceId/routing', {
    schema: {
      summary: 'Create or replace the owner routing (managers, hours and leave come from /people)',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      body: routingConfig,
      response: { 200: routingView },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    await putRoutingConfig(db, ws, request.body, now());
    return view(ws);
  });
};
