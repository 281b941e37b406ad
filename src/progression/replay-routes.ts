import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { badRequest } from '../platform/errors.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { choosePlaybook, replayStoredDeal } from './replay-stored-deal.ts';
import { runBacktest } from './backtest.ts';
import { sweepDeals } from './sweep.ts';

const playbookChoice = z.object({
  playbookVersion: z.number().int().min(1).optional(),
  /** A draft playbook (YAML or JSON text) to try without publishing it. */
  playbook: z.string().min(1).optional(),
});

export const replayRoutes: FastifyPluginAsync<{ db: Database; now: () => Date }> = async (app, { db, now }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post('/workspaces/:workspaceId/deals/:dealId/replay', {
    schema: {
      summary: "Re-run a deal's history under the current, a stored or a draft playbook; writes nothing",
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId, dealId: z.string().min(1).max(100) }),
      body: playbookChoice.optional(),
      response: {
        200: z.object({
          dealId: z.string(),
          playbookVersion: z.string(),
          evaluations: z.number(),
          decisions: z.array(z.record(z.string(), z.unknown())),
          finalStage: z.string().nullable(),
        }),
      },
    },
  }, async (request) => {
    const { workspaceId: ws, dealId } = request.params;
    await requireWorkspace(db, request, ws);
    const { playbookVersion, result } = await replayStoredDeal(db, { workspaceId: ws, dealId, choice: request.body ?? {}, now: now() });
    return {
      dealId,
      playbookVersion,
      evaluations: result.evaluations,
      decisions: result.decisions as unknown as Record<string, unknown>[],
      finalStage: result.finalState.stage,
    };
  });

  api.post('/workspaces/:workspaceId/sweep', {
    schema: {
      summary: 'Queue time-based evaluation of the open deals whose time conditions changed (optionally as of another instant)',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      body: z.object({ asOf: z.iso.datetime({ offset: true }).optional() }).optional(),
      response: { 202: z.object({ enqueued: z.number(), asOf: z.string() }) },
    },
  }, async (request, reply) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const asOf = request.body?.asOf ? new Date(request.body.asOf) : now();
    const { enqueued } = await sweepDeals(db, { workspaceId: ws, asOf });
    return reply.code(202).send({ enqueued, asOf: asOf.toISOString() });
  });

  api.post('/workspaces/:workspaceId/backtest', {
    schema: {
      summary: 'Run a playbook over stored history and report, per rule, fires, advances, regressions, alerts and won/lost outcomes',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      body: playbookChoice.extend({ from: z.iso.datetime({ offset: true }).or(z.iso.date()), to: z.iso.datetime({ offset: true }).or(z.iso.date()) }),
      response: { 200: z.record(z.string(), z.unknown()) },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const from = new Date(request.body.from);
    const to = new Date(request.body.to);
    if (!(from < to)) throw badRequest('invalid_period', 'body.to: must be after body.from');
    const playbook = await choosePlaybook(db, ws, request.body);
    return { ...(await runBacktest(db, { workspaceId: ws, from, to, playbook: playbook.compiled, playbookVersion: playbook.version })) };
  });
};
