import type { Tx } from '../platform/db.ts';
import type { AlertChannel, AlertingSettings } from '../engine/playbook/schema.ts';
import type { Person } from '../people/people-store.ts';
import { workingPatternOf } from '../people/people-store.ts';
import { quietUntil } from '../people/working-time.ts';
import type { Recipient } from './recipients.ts';

export interface RungInput {
  workspaceId: string;
  alertId: string;
  dealId: string;
  rung: number;
  channels: readonly AlertChannel[];
  recipients: readonly Recipient[];
  people: Map<string, Person>;
  alerting: AlertingSettings;
  now: Date;
}

/**
 * Records what one rung of an alert should deliver: a CRM task and a digest line per person, one
 * Slack message per rung. Each waits out its recipient's quiet hours (deferred, never dropped).
 * Returns when the first of them is due, or null if nothing can be delivered.
 */
export async function insertRungDeliveries(tx: Tx, input: RungInput): Promise<{ firstDueAt: Date | null; dueNow: boolean }> {
  const planned = planRungDeliveries(input);
  await insertDeliveryRows(tx, planned.rows);
  return { firstDueAt: planned.firstDueAt, dueNow: planned.dueNow };
}

export type DeliveryRow = {
  workspace_id: string;
  alert_id: string;
  deal_id: string;
  rung: number;
  dedupe_key: string;
  channel: AlertChannel;
  recipient_id: string | null;
  recipient_role: string;
  status: 'pending' | 'waiting' | 'skipped';
  detail: string | null;
  due_at: Date;
};

/** Stores planned deliveries (of any number of alerts) in one statement; ones already stored are kept. */
export async function insertDeliveryRows(tx: Tx, rows: readonly DeliveryRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx
    .insertInto('alert_deliveries')
    .values([...rows])
    .onConflict((oc) => oc.columns(['workspace_id', 'dedupe_key']).doNothing())
    .execute();
}

/** What insertRungDeliveries stores, and when the first of it is due; no I/O. */
export function planRungDeliveries(input: RungInput): { rows: DeliveryRow[]; firstDueAt: Date | null; dueNow: boolean } {
  const nowMs = input.now.getTime();
  const dueFor = (personId: string) => new Date(quietUntil(workingPatternOf(input.people.get(personId), input.alerting), input.alerting.quietHours, nowMs));
  const rows: Array<{ channel: AlertChannel; recipient_id: string | null; recipient_role: string; status: 'pending' | 'waiting' | 'skipped'; detail: string | null; due_at: Date }> = [];
  const reachable = input.recipients.filter((r) => r.personId !== null);
  for (const channel of input.channels) {
    if (channel === 'slack') {
      if (input.recipients.length === 0) continue;
      const dues = reachable.map((r) => dueFor(r.personId!).getTime());
      rows.push({
        channel,
        recipient_id: null,
        recipient_role: input.recipients.map((r) => r.role).join(','),
        status: 'pending',
        detail: null,
        due_at: new Date(dues.length > 0 ? Math.min(...dues) : nowMs),
      });
      continue;
    }
    for (const r of input.recipients) {
      if (r.personId === null) {
        rows.push({ channel, recipient_id: null, recipient_role: r.role, status: 'skipped', detail: r.note, due_at: input.now });
      } else {
        rows.push({ channel, recipient_id: r.personId, recipient_role: r.role, status: channel === 'digest' ? 'waiting' : 'pending', detail: r.note, due_at: channel === 'digest' ? input.now : dueFor(r.personId) });
      }
    }
  }
  if (rows.length === 0) return { rows: [], firstDueAt: null, dueNow: false };
  // The ladder counts from the moment someone could first see the alert.
  const pending = rows.filter((r) => r.status === 'pending');
  const timed = (pending.length > 0 ? pending : rows.filter((r) => r.status !== 'skipped')).map((r) => r.due_at.getTime());
  const first = timed.length > 0 ? Math.min(...timed) : null;
  return {
    rows: rows.map((row) => ({
      workspace_id: input.workspaceId,
      alert_id: input.alertId,
      deal_id: input.dealId,
      rung: input.rung,
      dedupe_key: `${input.alertId}:${input.rung}:${row.channel}:${row.recipient_id ?? row.recipient_role}`,
      ...row,
    })),
    firstDueAt: first === null ? null : new Date(first),
    dueNow: rows.some((r) => r.status === 'pending' && r.due_at.getTime() <= nowMs),
  };
}
