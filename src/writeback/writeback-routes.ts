import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { decodeCursor, pageQuery, paginate } from '../http/pagination.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { decideApproval, expireApprovals, listApprovals } from './approvals.ts';
import { listOutbox, retryOutboxWrite } from './outbox-admin.ts';

const outboxStatuses = ['pending', 'sending', 'sent', 'failed', 'dead', 'shadow', 'superseded', 'held'] as const;
const numericId = z.string().regex(/^\d{1,18}$/, 'ids are numeric strings');

const outboxItem = z.object({
  id: z.string(),
  dealId: z.string(),
  decisionId: z.string().nullable(),
  kind: z.enum(['deal_update', 'task', 'note', 'complete_task']),
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
    const page = paginate(await listOutbox(db, ws, { limit: limit + 1, status, dealId, beforeId: before }), limit, (row) => row.id);
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
    await retryOutboxWrite(db, ws, outboxId, new Date());
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
    const items = await listApprovals(db, ws, { status, limit: limit + 1, beforeId: before });
    return paginate(items, limit, (item) => item.id);
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
