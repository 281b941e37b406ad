import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import { badRequest } from '../platform/errors.ts';
import { initialDealState, planMilestonesSchema, setPlanMilestones } from '../engine/state.ts';
import type { DealState } from '../engine/types.ts';
import { signalPayloads, signalTypes, type SignalType } from '../signals/catalogue.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { enqueueEvaluation } from './evaluate-deal.ts';
import { providerFor } from './evaluation-load.ts';

const dealParams = z.object({ workspaceId, dealId: z.string().min(1).max(100) });

const signalInput = z.object({
  /** The caller's own id for this fact; sending it again adds nothing. */
  id: z.string().min(1).max(200),
  type: z.enum(signalTypes as [SignalType, ...SignalType[]]),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  payload: z.record(z.string(), z.unknown()).default({}),
});

/**
 * Facts no webhook carries — a security review requested, a budget approved, a champion who left —
 * and the mutual action plan come in through the API. They become ordinary signals and state, so
 * the engine and the timeline treat them like everything else.
 */
export const dealInputRoutes: FastifyPluginAsync<{ db: Database; onSignalsStored: () => void; now: () => Date }> = async (app, deps) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { db } = deps;

  api.post('/workspaces/:workspaceId/deals/:dealId/signals', {
    schema: {
      summary: 'Record signals about a deal (e.g. milestone.security_review_requested); idempotent per id',
      security: [{ adminToken: [] }],
      params: dealParams,
      body: z.object({ signals: z.array(signalInput).min(1).max(100) }),
      response: { 202: z.object({ stored: z.number(), duplicates: z.number() }) },
    },
  }, async (request, reply) => {
    const { workspaceId: ws, dealId } = request.params;
    await requireWorkspace(db, request, ws);
    const rows = request.body.signals.map((signal, index) => {
      const payload = signalPayloads[signal.type].safeParse(signal.payload);
      if (!payload.success) {
        const issue = payload.error.issues[0]!;
        throw badRequest('invalid_signal', `body.signals[${index}].payload.${issue.path.join('.')}: ${issue.message}`);
      }
      return {
        workspace_id: ws,
        deal_id: dealId,
        type: signal.type,
        source: 'api',
        origin: 'live',
        occurred_at: signal.occurredAt ?? deps.now().toISOString(),
        payload: json(payload.data),
        dedupe_key: `api:${signal.id}`,
      };
    });
    const stored = await db.insertInto('signals').values(rows).onConflict((oc) => oc.doNothing()).returning('id').execute();
    if (stored.length > 0) deps.onSignalsStored();
    return reply.code(202).send({ stored: stored.length, duplicates: rows.length - stored.length });
  });

  api.put('/workspaces/:workspaceId/deals/:dealId/plan', {
    schema: {
      summary: "Replace a deal's mutual action plan (dated milestones); an overdue milestone raises an alert",
      security: [{ adminToken: [] }],
      params: dealParams,
      body: z.object({ milestones: planMilestonesSchema }),
      response: { 200: z.object({ dealId: z.string(), milestones: z.array(z.record(z.string(), z.unknown())) }) },
    },
  }, async (request) => {
    const { workspaceId: ws, dealId } = request.params;
    await requireWorkspace(db, request, ws);
    const milestones = await db.transaction().execute(async (tx) => {
      const provider = await providerFor(tx, ws, dealId);
      await tx
        .insertInto('deals')
        .values({ workspace_id: ws, deal_id: dealId, provider, state: json(initialDealState(dealId, provider)) })
        .onConflict((oc) => oc.doNothing())
        .execute();
      const deal = await tx.selectFrom('deals').select('state').where('workspace_id', '=', ws).where('deal_id', '=', dealId).forUpdate().executeTakeFirstOrThrow();
      const next = setPlanMilestones(deal.state as unknown as DealState, request.body.milestones);
      await tx.updateTable('deals').set({ state: json(next), updated_at: deps.now() }).where('workspace_id', '=', ws).where('deal_id', '=', dealId).execute();
      await enqueueEvaluation(tx, ws, [dealId], 'signals');
      return next.planMilestones;
    });
    return { dealId, milestones: milestones as unknown as Record<string, unknown>[] };
  });
};
