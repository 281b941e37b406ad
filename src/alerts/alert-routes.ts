import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { decodeCursor, pageQuery, paginate } from '../http/pagination.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { acknowledgeAlert, getAlert, listAlerts } from './alert-store.ts';
import { getAlertingSettings, putAlertingSettings } from './alerting-settings-store.ts';
import { SWEEP_INTERVAL_MINUTES } from '../progression/sweep-schedule.ts';

const numericId = z.string().regex(/^\d{1,18}$/, 'ids are numeric strings');
const alertStates = ['open', 'acknowledged', 'escalated', 'resolved', 'suppressed'] as const;
const tiers = ['critical', 'warning', 'opportunity'] as const;

const deliveryView = z.object({
  id: z.string(),
  rung: z.number(),
  channel: z.enum(['crm_task', 'slack', 'digest']),
  recipientId: z.string().nullable(),
  recipientRole: z.string().nullable(),
  status: z.string(),
  detail: z.string().nullable(),
  dueAt: z.string(),
  outboxKey: z.string().nullable(),
  outboxStatus: z.string().nullable(),
  digestId: z.string().nullable(),
  attempts: z.number(),
  lastError: z.record(z.string(), z.unknown()).nullable(),
  sentAt: z.string().nullable(),
});

const alertView = z.object({
  id: z.string(),
  dealId: z.string(),
  decisionId: z.string(),
  ruleId: z.string(),
  tier: z.enum(tiers),
  type: z.string(),
  reason: z.string(),
  recipients: z.array(z.string()),
  ownerId: z.string().nullable(),
  state: z.enum(alertStates),
  stateReason: z.string().nullable(),
  requiresAck: z.boolean(),
  rung: z.number(),
  flags: z.array(z.string()),
  openedAt: z.string(),
  nextEscalationAt: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  deliveries: z.array(deliveryView),
});

const settingsView = z.object({
  slack: z.object({ configured: z.boolean(), lastSentAt: z.string().nullable(), lastError: z.record(z.string(), z.unknown()).nullable() }),
  sweep: z.object({ intervalMinutes: z.number(), lastSweptAt: z.string().nullable() }),
  updatedAt: z.string().nullable(),
});

export const alertRoutes: FastifyPluginAsync<{ db: Database; secretBox: SecretBox; now: () => Date }> = async (app, { db, secretBox, now }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/workspaces/:workspaceId/alerts', {
    schema: {
      summary: 'List alerts newest first, with their state and every delivery (filters: state, tier, dealId, flag)',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      querystring: pageQuery.extend({
        state: z.enum(alertStates).optional(),
        tier: z.enum(tiers).optional(),
        dealId: z.string().min(1).max(100).optional(),
        flag: z.string().min(1).max(100).optional(),
      }),
      response: { 200: z.object({ items: z.array(alertView), nextCursor: z.string().nullable() }) },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const { limit, cursor, state, tier, dealId, flag } = request.query;
    const beforeId = decodeCursor(cursor, z.string().regex(/^\d+$/));
    const rows = await listAlerts(db, ws, { state, tier, dealId, flag, beforeId, limit: limit + 1 });
    return paginate(rows, limit, (row) => row.id);
  });

  api.get('/workspaces/:workspaceId/alerts/:alertId', {
    schema: { summary: 'One alert with its deliveries', security: [{ adminToken: [] }], params: z.object({ workspaceId, alertId: numericId }), response: { 200: alertView } },
  }, async (request) => {
    const { workspaceId: ws, alertId } = request.params;
    await requireWorkspace(db, request, ws);
    return getAlert(db, ws, alertId);
  });

  api.post('/workspaces/:workspaceId/alerts/:alertId/ack', {
    schema: {
      summary: 'Acknowledge an alert: its escalation ladder stops',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId, alertId: numericId }),
      body: z.object({ by: z.string().min(1).max(200) }),
      response: { 200: alertView },
    },
  }, async (request) => {
    const { workspaceId: ws, alertId } = request.params;
    await requireWorkspace(db, request, ws);
    return acknowledgeAlert(db, ws, alertId, request.body.by, now());
  });

  api.put('/workspaces/:workspaceId/alerting', {
    schema: {
      summary: 'Alert delivery settings: the Slack incoming-webhook URL (write-only, encrypted; omit to keep, null to remove) and the minutes between time sweeps (omit to keep)',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      body: z
        .object({
          slackWebhookUrl: z.url({ protocol: /^https$/, error: 'must be an https:// Slack incoming-webhook URL' }).nullable().optional(),
          sweepIntervalMinutes: z
            .int({ error: 'must be a whole number of minutes' })
            .min(SWEEP_INTERVAL_MINUTES.min, { error: `must be at least ${SWEEP_INTERVAL_MINUTES.min} minute` })
            .max(SWEEP_INTERVAL_MINUTES.max, { error: `must be at most ${SWEEP_INTERVAL_MINUTES.max} minutes (a day)` })
            .optional(),
        })
        .strict(),
      response: { 200: settingsView },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    return putAlertingSettings(db, secretBox, ws, request.body, now());
  });

  api.get('/workspaces/:workspaceId/alerting', {
    schema: { summary: 'Alert delivery settings (the Slack URL only as configured or not) and the time-sweep interval with the last sweep', security: [{ adminToken: [] }], params: z.object({ workspaceId }), response: { 200: settingsView } },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    return getAlertingSettings(db, ws);
  });
};
