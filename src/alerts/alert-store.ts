import type { Database } from '../platform/db.ts';
import { conflict, notFound } from '../platform/errors.ts';
import type { AlertState } from '../platform/schema.ts';

export interface AlertDeliveryView {
  id: string;
  rung: number;
  channel: 'crm_task' | 'slack' | 'digest';
  recipientId: string | null;
  recipientRole: string | null;
  status: string;
  detail: string | null;
  dueAt: string;
  outboxKey: string | null;
  /** Where the CRM task is: the outbox row's status (pending, sent, dead, shadow …). */
  outboxStatus: string | null;
  digestId: string | null;
  attempts: number;
  lastError: Record<string, unknown> | null;
  sentAt: string | null;
}

export interface AlertView {
  id: string;
  dealId: string;
  decisionId: string;
  ruleId: string;
  tier: 'critical' | 'warning' | 'opportunity';
  type: string;
  reason: string;
  recipients: string[];
  ownerId: string | null;
  state: AlertState;
  stateReason: string | null;
  requiresAck: boolean;
  rung: number;
  flags: string[];
  openedAt: string;
  nextEscalationAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  deliveries: AlertDeliveryView[];
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

export interface AlertFilter {
  state?: AlertState | undefined;
  tier?: 'critical' | 'warning' | 'opportunity' | undefined;
  dealId?: string | undefined;
  flag?: string | undefined;
  beforeId?: string | undefined;
  id?: string | undefined;
  limit: number;
}

/** Alerts newest first, each with its deliveries. */
export async function listAlerts(db: Database, workspaceId: string, filter: AlertFilter): Promise<AlertView[]> {
  let query = db.selectFrom('alerts').selectAll().where('workspace_id', '=', workspaceId).orderBy('id', 'desc').limit(filter.limit);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.tier) query = query.where('tier', '=', filter.tier);
  if (filter.dealId) query = query.where('deal_id', '=', filter.dealId);
  if (filter.flag) query = query.where((eb) => eb(eb.val(filter.flag!), '=', eb.fn.any('flags')));
  if (filter.beforeId) query = query.where('id', '<', filter.beforeId);
  if (filter.id) query = query.where('id', '=', filter.id);
  const alerts = await query.execute();
  if (alerts.length === 0) return [];
  const deliveries = await db
    .selectFrom('alert_deliveries as d')
    .leftJoin('outbox as o', (join) => join.onRef('o.workspace_id', '=', 'd.workspace_id').onRef('o.idempotency_key', '=', 'd.outbox_key'))
    .select([
      'd.id', 'd.alert_id', 'd.rung', 'd.channel', 'd.recipient_id', 'd.recipient_role', 'd.status', 'd.detail', 'd.due_at', 'd.outbox_key',
      'd.digest_id', 'd.attempts', 'd.last_error', 'd.sent_at', 'o.status as outbox_status',
    ])
    .where('d.workspace_id', '=', workspaceId)
    .where('d.alert_id', 'in', alerts.map((a) => a.id))
    .orderBy('d.id')
    .execute();
  const byAlert = new Map<string, AlertDeliveryView[]>();
  for (const d of deliveries) {
    const list = byAlert.get(String(d.alert_id)) ?? [];
    list.push({
      id: String(d.id),
      rung: d.rung,
      channel: d.channel,
      recipientId: d.recipient_id,
      recipientRole: d.recipient_role,
      status: d.status,
      detail: d.detail,
      dueAt: iso(d.due_at)!,
      outboxKey: d.outbox_key,
      outboxStatus: d.outbox_status ?? null,
      digestId: d.digest_id === null ? null : String(d.digest_id),
      attempts: d.attempts,
      lastError: d.last_error,
      sentAt: iso(d.sent_at),
    });
    byAlert.set(String(d.alert_id), list);
  }
  return alerts.map((a) => ({
    id: String(a.id),
    dealId: a.deal_id,
    decisionId: String(a.decision_id),
    ruleId: a.rule_id,
    tier: a.tier,
    type: a.alert_type,
    reason: a.reason,
    recipients: a.recipients,
    ownerId: a.owner_id,
    state: a.state,
    stateReason: a.state_reason,
    requiresAck: a.requires_ack,
    rung: a.rung,
    flags: a.flags,
    openedAt: iso(a.opened_at)!,
    nextEscalationAt: iso(a.next_escalation_at),
    acknowledgedAt: iso(a.acknowledged_at),
    acknowledgedBy: a.acknowledged_by,
    resolvedAt: iso(a.resolved_at),
    deliveries: byAlert.get(String(a.id)) ?? [],
  }));
}

export async function getAlert(db: Database, workspaceId: string, alertId: string): Promise<AlertView> {
  const [alert] = await listAlerts(db, workspaceId, { limit: 1, id: alertId });
  if (!alert) throw notFound(`Alert ${alertId}`);
  return alert;
}

/**
 * Someone has seen the alert: its ladder stops. Acknowledging twice is harmless; an alert that
 * was resolved or suppressed has nothing left to acknowledge.
 */
export async function acknowledgeAlert(db: Database, workspaceId: string, alertId: string, by: string, now: Date): Promise<AlertView> {
  const updated = await db
    .updateTable('alerts')
    .set({ state: 'acknowledged', acknowledged_at: now, acknowledged_by: by, next_escalation_at: null, updated_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', alertId)
    .where('state', 'in', ['open', 'escalated'])
    .returning('id')
    .executeTakeFirst();
  if (!updated) {
    const row = await db.selectFrom('alerts').select('state').where('workspace_id', '=', workspaceId).where('id', '=', alertId).executeTakeFirst();
    if (!row) throw notFound(`Alert ${alertId}`);
    if (row.state !== 'acknowledged') throw conflict('not_acknowledgeable', `Alert ${alertId} is ${row.state}; only open or escalated alerts can be acknowledged`);
  }
  return getAlert(db, workspaceId, alertId);
}
