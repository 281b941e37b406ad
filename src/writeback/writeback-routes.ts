import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { conflict, notFound } from '../platform/errors.ts';
import { decodeCursor, pageQuery, paginate } from '../http/pagination.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { decideApproval, expireApprovals } from './approvals.ts';
import { scheduleFlush } from './outbox-store.ts';

const outboxStatuses = ['pending', 'sending', 'sent', 'failed', 'dead', 'shadow', 'superseded', 'held'] as const;
const numericId = z.string().regex(/^\d{1,18}$/, 'ids are numeric strings');

const outboxItem = z.object({
  id: z.string(),
  dealId: z.string(),
  decisionId: z.string().nullable(),
  kind: z.enum(['deal_update', 'task', 'note']),
  status: z.enum(outboxStatuses),
  idempotencyKey: z.string(),
  payload: z.record(z.string(), z.unknown()),
  attempts: z.number(),
  nextAttemptAt: z.string(),
  lastError: z.record(z.string(), z.unknown()).nullable(),
  crmId: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
});

const approvalItem = z.object({
  id: z.string(),
  dealId: z.string(),
  decisionId: z.string(),
  status: z.enum(['pending', 'approved', 'rejected', 'expired', 'obsolete']),
  ruleId: z.string(),
  reason: z.string(),
  proposed: z.unknown(),
  missingGates: z.array(z.unknown()),
  signalIds: z.array(z.string()),
  playbookVersion: z.number(),
  expiresAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedReason: z.string().nullable(),
  createdAt: z.string(),
});

export const writebackRoutes: FastifyPluginAsync<{ db: Database; now: () => Date }> = async (app, { db, now }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/workspaces/:workspaceId/outbox', {
    schema: {
      summary: 'List CRM writes, newest first (e.g. ?status=dead for writes that need a person)',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      querystring: pageQuery.extend({ status: z.enum(outboxStatuses).optional(), dealId: z.string().optional() }),
      response: { 200: z.object({ items: z.array(outboxItem), nextCursor: z.string().nullable() }) },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const { limit, cursor, status, dealId } = request.query;
    const before = decodeCursor(cursor, z.string().regex(/^\d+$/));
    let query = db.selectFrom('outbox').selectAll().where('workspace_id', '=', ws).orderBy('id', 'desc').limit(limit + 1);
    if (status) query = query.where('status', '=', status);
    if (dealId) query = query.where('deal_id', '=', dealId);
    if (before) query = query.where('id', '<', before);
    const page = paginate(await query.execute(), limit, (row) => row.id);
    return {
      nextCursor: page.nextCursor,
      items: page.items.map((row) => ({
        id: String(row.id),
        dealId: row.deal_id,
        decisionId: row.decision_id === null ? null : String(row.decision_id),
        kind: row.kind,
        status: row.status,
        idempotencyKey: row.idempotency_key,
        payload: row.payload,
        attempts: row.attempts,
        nextAttemptAt: row.next_attempt_at.toISOString(),
        lastError: row.last_error,
        crmId: row.crm_id,
        createdAt: row.created_at.toISOString(),
        sentAt: row.sent_at?.toISOString() ?? null,
      })),
    };
  });

  api.post('/workspaces/:workspaceId/outbox/:outboxId/retry', {
    schema: {
      summary: 'Send a dead or failed write again now',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId, outboxId: numericId }),
      response: { 202: z.object({ id: z.string(), status: z.literal('pending') }) },
    },
  }, async (request, reply) => {
    const { workspaceId: ws, outboxId } = request.params;
    await requireWorkspace(db, request, ws);
    await db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('outbox').select('status').where('workspace_id', '=', ws).where('id', '=', outboxId).forUpdate().executeTakeFirst();
      if (!row) throw notFound(`Outbox entry ${outboxId}`);
      if (row.status !== 'dead' && row.status !== 'failed') throw conflict('not_retryable', `Outbox entry ${outboxId} is ${row.status}; only dead or failed writes can be retried`);
      // A hand retry starts the attempt count again and clears the uncertain marker: a person checked.
      await tx.updateTable('outbox').set({ status: 'pending', attempts: 0, last_error: null, next_attempt_at: new Date(), updated_at: new Date() })
        .where('workspace_id', '=', ws).where('id', '=', outboxId).execute();
      await scheduleFlush(tx, ws);
    });
    return reply.code(202).send({ id: outboxId, status: 'pending' as const });
  });

  api.get('/workspaces/:workspaceId/approvals', {
    schema: {
      summary: 'List approval requests (pending by default) with their evidence and missing gates',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      querystring: pageQuery.extend({ status: z.enum(['pending', 'approved', 'rejected', 'expired', 'obsolete']).default('pending') }),
      response: { 200: z.object({ items: z.array(approvalItem), nextCursor: z.string().nullable() }) },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    await expireApprovals(db, ws, now());
    const { limit, cursor, status } = request.query;
    const before = decodeCursor(cursor, z.string().regex(/^\d+$/));
    let query = db
      .selectFrom('approvals')
      .innerJoin('decisions', (join) => join.onRef('decisions.workspace_id', '=', 'approvals.workspace_id').onRef('decisions.id', '=', 'approvals.decision_id'))
      .select([
        'approvals.id', 'approvals.deal_id', 'approvals.decision_id', 'approvals.status', 'approvals.expires_at', 'approvals.decided_by',
        'approvals.decided_reason', 'approvals.created_at', 'decisions.rule_id', 'decisions.reason', 'decisions.body', 'decisions.signal_ids',
        'decisions.playbook_version',
      ])
      .where('approvals.workspace_id', '=', ws)
      .where('approvals.status', '=', status)
      .orderBy('approvals.id', 'desc')
      .limit(limit + 1);
    if (before) query = query.where('approvals.id', '<', before);
    const page = paginate(await query.execute(), limit, (row) => row.id);
    return {
      nextCursor: page.nextCursor,
      items: page.items.map((row) => ({
        id: String(row.id),
        dealId: row.deal_id,
        decisionId: String(row.decision_id),
        status: row.status,
        ruleId: row.rule_id,
        reason: row.reason,
        proposed: (row.body as Record<string, unknown>).proposed ?? null,
        missingGates: ((row.body as Record<string, unknown>).missingGates as unknown[]) ?? [],
        signalIds: row.signal_ids,
        playbookVersion: row.playbook_version,
        expiresAt: new Date(row.expires_at).toISOString(),
        decidedBy: row.decided_by,
        decidedReason: row.decided_reason,
        createdAt: row.created_at.toISOString(),
      })),
    };
  });

  for (const verdict of ['approve', 'reject'] as const) {
    api.post(`/workspaces/:workspaceId/approvals/:approvalId/${verdict}`, {
      schema: {
        summary: verdict === 'approve' ? 'Approve: the proposed change is written to the CRM' : 'Reject: nothing is written',
        security: [{ adminToken: [] }],
        params: z.object({ workspaceId, approvalId: numericId }),
        body: z.object({ by: z.string().min(1).max(200), reason: z.string().max(2000).optional() }),
        response: { 200: z.object({ id: z.string(), status: z.enum(['approved', 'rejected']), writes: z.number() }) },
      },
    }, async (request) => {
      const { workspaceId: ws, approvalId } = request.params;
      await requireWorkspace(db, request, ws);
      const result = await decideApproval(db, { workspaceId: ws, approvalId, approve: verdict === 'approve', by: request.body.by, reason: request.body.reason, now: now() });
      return { id: approvalId, ...result };
    });
  }
};
