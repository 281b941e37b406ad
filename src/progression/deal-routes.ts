import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { notFound } from '../platform/errors.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { dealTimeline } from './deal-timeline.ts';

const dealParams = z.object({ workspaceId, dealId: z.string().min(1).max(100) });

const dealView = z.object({
  dealId: z.string(),
  provider: z.string(),
  stage: z.string().nullable(),
  crmStage: z.string().nullable(),
  stageEnteredAt: z.string().nullable(),
  closeDate: z.string().nullable(),
  ownerId: z.string().nullable(),
  healthScore: z.number().nullable(),
  isClosed: z.boolean(),
  playbookVersion: z.number().nullable(),
  evaluatedAt: z.string().nullable(),
  state: z.record(z.string(), z.unknown()),
  timeline: z.array(z.record(z.string(), z.unknown())),
});

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

export const dealRoutes: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/workspaces/:workspaceId/deals/:dealId', {
    schema: {
      summary: "A deal's mirror and its timeline: signals, decisions (rule, reason, playbook version), actions and approvals",
      security: [{ adminToken: [] }],
      params: dealParams,
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(2000).default(500) }),
      response: { 200: dealView },
    },
  }, async (request) => {
    const { workspaceId: ws, dealId } = request.params;
    await requireWorkspace(db, request, ws);
    const deal = await db.selectFrom('deals').selectAll().where('workspace_id', '=', ws).where('deal_id', '=', dealId).executeTakeFirst();
    const timeline = await dealTimeline(db, ws, dealId, request.query.limit);
    if (!deal && timeline.length === 0) throw notFound(`Deal ${dealId}`);
    return {
      dealId,
      provider: deal?.provider ?? 'unknown',
      stage: deal?.stage ?? null,
      crmStage: deal?.crm_stage ?? null,
      stageEnteredAt: iso(deal?.stage_entered_at ?? null),
      closeDate: deal?.close_date ?? null,
      ownerId: deal?.owner_id ?? null,
      healthScore: deal?.health_score ?? null,
      isClosed: deal?.is_closed ?? false,
      playbookVersion: deal?.playbook_version ?? null,
      evaluatedAt: iso(deal?.evaluated_at ?? null),
      state: deal?.state ?? {},
      timeline,
    };
  });
};
