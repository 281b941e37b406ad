import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { AlertingSettings, AlertTier } from '../engine/playbook/schema.ts';
import { currentPlaybook } from '../progression/playbook-store.ts';
import { enqueueWrites, scheduleFlush } from '../writeback/outbox-store.ts';
import { outboxKey, type PlannedWrite } from '../writeback/plan-actions.ts';
import { getPeople, workingPatternOf, type Person } from '../people/people-store.ts';
import { localMoment, zonedInstant } from '../people/local-time.ts';
import { addWorkingDays } from '../people/working-time.ts';
import { alertingOf, deliveryPlanFor, HOUR_MS } from './alerting-config.ts';
import { alertSlackPayload, alertTaskWrite, dealUrlFor, type AlertFacts } from './alert-message.ts';
import { scheduleSlack } from './alert-jobs.ts';

export interface DispatchDeps {
  db: Database;
  logger: Logger;
  publicBaseUrl: string | undefined;
}

const BATCH = 200;

interface DueRow {
  id: string;
  alert_id: string;
  deal_id: string;
  rung: number;
  channel: 'crm_task' | 'slack' | 'digest';
  recipient_id: string | null;
  recipient_role: string | null;
  decision_id: string;
  key: string;
  tier: AlertTier;
  alert_type: string;
  reason: string;
  requires_ack: boolean;
  state: string;
  flags: string[];
}

type Outcome = { status: 'queued' | 'shadow' | 'skipped' | 'folded'; detail?: string | null; payload?: unknown; outboxKey?: string };

/**
 * Sends what is due: CRM tasks go to the outbox (as `shadow` rows in shadow workspaces), Slack
 * messages get a job of their own so a slow or failing Slack never holds anything else up. Before
 * that, fatigue limits apply to warnings and opportunities: per deal, per recipient and per
 * workspace day; what is over a limit is folded into the recipient's daily digest instead.
 * Critical alerts are never folded. Runs in one transaction; nothing here talks to the network.
 */
export async function dispatchAlerts(deps: DispatchDeps, workspaceId: string, now: Date): Promise<{ handled: number; more: boolean }> {
  return deps.db.transaction().execute(async (tx) => {
    const workspace = await tx.selectFrom('workspaces').select('mode').where('id', '=', workspaceId).executeTakeFirst();
    if (!workspace) return { handled: 0, more: false };
    const rows = (
      await sql<DueRow>`
        select d.id, d.alert_id, d.deal_id, d.rung, d.channel, d.recipient_id, d.recipient_role,
               a.decision_id, a.key, a.tier, a.alert_type, a.reason, a.requires_ack, a.state, a.flags
        from alert_deliveries d
        join alerts a on a.workspace_id = d.workspace_id and a.id = d.alert_id
        where d.workspace_id = ${workspaceId} and d.status = 'pending' and d.due_at <= ${now}
        order by d.id
        limit ${BATCH}
        for update of d skip locked
      `.execute(tx)
    ).rows.map((r) => ({ ...r, id: String(r.id), alert_id: String(r.alert_id), decision_id: String(r.decision_id) }));
    if (rows.length === 0) return { handled: 0, more: false };

    const shadow = workspace.mode === 'shadow';
    const alerting = alertingOf((await currentPlaybook(tx, workspaceId)).playbook);
    const settings = await tx.selectFrom('alerting_settings').select('slack_webhook').where('workspace_id', '=', workspaceId).executeTakeFirst();
    const slackReady = Boolean(settings?.slack_webhook);
    const audience = await audienceOf(tx, workspaceId, [...new Set(rows.map((r) => r.alert_id))]);
    const people = await getPeople(tx, workspaceId, [...audience.values()].flat().map((a) => a.personId).concat(rows.flatMap((r) => (r.recipient_id ? [r.recipient_id] : []))));
    const limits = new FatigueCounter(tx, workspaceId, alerting, now);

    let crmWrites = 0;
    for (const group of groupBy(rows, (r) => `${r.alert_id}:${r.rung}`)) {
      const first = group[0]!;
      const outcomes = new Map<string, Outcome>();
      if (first.state === 'acknowledged' || first.state === 'resolved') {
        for (const row of group) outcomes.set(row.id, { status: 'skipped', detail: `the alert was ${first.state} before this was due` });
      } else {
        const overall = first.tier === 'critical' ? null : await limits.alertLimit(first.deal_id);
        for (const row of group) {
          const limit = overall ?? (first.tier !== 'critical' && row.recipient_id ? await limits.recipientLimit(row.recipient_id) : null);
          if (limit) {
            outcomes.set(row.id, { status: 'folded', detail: `${limit}; folded into the daily digest` });
            await foldIntoDigest(tx, workspaceId, row, row.recipient_id ? [row.recipient_id] : (audience.get(`${row.alert_id}:${row.rung}`) ?? []).map((a) => a.personId), now);
            continue;
          }
          const facts: AlertFacts = {
            workspaceId,
            alertId: row.alert_id,
            dealId: row.deal_id,
            tier: row.tier,
            alertType: row.alert_type,
            reason: row.reason,
            advice: deliveryPlanFor(alerting, row.tier, row.alert_type).advice,
            rung: row.rung,
            dealUrl: dealUrlFor(deps.publicBaseUrl, workspaceId, row.deal_id),
            audience: (audience.get(`${row.alert_id}:${row.rung}`) ?? []).map((a) => mention(people.get(a.personId), a.personId, a.role)),
            requiresAck: row.requires_ack,
            flag: row.flags.at(-1) ?? null,
          };
          if (row.channel === 'crm_task') {
            const person = people.get(row.recipient_id!);
            const plan = deliveryPlanFor(alerting, row.tier, row.alert_type);
            const dueAt = new Date(addWorkingDays(workingPatternOf(person, alerting), now.getTime(), plan.taskDueBusinessDays));
            const write: PlannedWrite = alertTaskWrite(facts, { idempotencyKey: outboxKey(row.key, `alert:${row.rung}:${row.recipient_id}`), ownerId: row.recipient_id!, dueAt });
            crmWrites += await enqueueWrites(tx, { workspaceId, dealId: row.deal_id, decisionId: row.decision_id, writes: [write], shadow });
            outcomes.set(row.id, { status: shadow ? 'shadow' : 'queued', outboxKey: write.idempotencyKey, payload: write.payload });
          } else if (row.channel === 'slack') {
            const payload = alertSlackPayload(facts);
            if (shadow) outcomes.set(row.id, { status: 'shadow', payload });
            else if (!slackReady) outcomes.set(row.id, { status: 'skipped', detail: 'Slack is not configured for this workspace (PUT /alerting)', payload });
            else outcomes.set(row.id, { status: 'queued', payload });
          }
        }
      }
      for (const row of group) {
        const outcome = outcomes.get(row.id);
        if (!outcome) continue;
        await tx
          .updateTable('alert_deliveries')
          .set({
            status: outcome.status,
            detail: outcome.detail ?? null,
            payload: outcome.payload === undefined ? null : JSON.stringify(outcome.payload),
            outbox_key: outcome.outboxKey ?? null,
            handled_at: now,
            updated_at: now,
          })
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', row.id)
          .execute();
        if (row.channel === 'slack' && outcome.status === 'queued') await scheduleSlack(tx, { workspaceId, target: 'delivery', id: row.id });
      }
    }
    if (crmWrites > 0 && !shadow) await scheduleFlush(tx, workspaceId);
    return { handled: rows.length, more: rows.length === BATCH };
  });
}

function* groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Generator<T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  yield* groups.values();
}

/** The people each alert rung is for, by `alertId:rung`. */
async function audienceOf(tx: Tx, workspaceId: string, alertIds: string[]): Promise<Map<string, Array<{ personId: string; role: string }>>> {
  const rows = await tx
    .selectFrom('alert_deliveries')
    .select(['alert_id', 'rung', 'recipient_id', 'recipient_role'])
    .where('workspace_id', '=', workspaceId)
    .where('alert_id', 'in', alertIds)
    .where('recipient_id', 'is not', null)
    .orderBy('id')
    .execute();
  const out = new Map<string, Array<{ personId: string; role: string }>>();
  for (const row of rows) {
    const key = `${row.alert_id}:${row.rung}`;
    const list = out.get(key) ?? [];
    if (!list.some((a) => a.personId === row.recipient_id)) list.push({ personId: row.recipient_id!, role: row.recipient_role ?? '' });
    out.set(key, list);
  }
  return out;
}

export function mention(person: Person | undefined, personId: string, role: string): string {
  const who = person?.slackUserId ? `<@${person.slackUserId}>` : (person?.name ?? `owner ${personId}`);
  return role ? `${who} (${role})` : who;
}

async function foldIntoDigest(tx: Tx, workspaceId: string, row: DueRow, personIds: string[], now: Date): Promise<void> {
  if (personIds.length === 0) return;
  await tx
    .insertInto('alert_deliveries')
    .values(
      [...new Set(personIds)].map((personId) => ({
        workspace_id: workspaceId,
        alert_id: row.alert_id,
        deal_id: row.deal_id,
        rung: row.rung,
        channel: 'digest' as const,
        recipient_id: personId,
        recipient_role: row.recipient_role,
        dedupe_key: `${row.alert_id}:${row.rung}:digest:${personId}`,
        status: 'waiting' as const,
        detail: 'folded in by a fatigue limit',
        due_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['workspace_id', 'dedupe_key']).doNothing())
    .execute();
}

/** Counts immediate deliveries (CRM tasks and Slack posts, one per alert) in the look-back windows. */
class FatigueCounter {
  readonly #tx: Tx;
  readonly #workspaceId: string;
  readonly #alerting: AlertingSettings;
  readonly #now: Date;

  constructor(tx: Tx, workspaceId: string, alerting: AlertingSettings, now: Date) {
    this.#tx = tx;
    this.#workspaceId = workspaceId;
    this.#alerting = alerting;
    this.#now = now;
  }

  /** Rolling windows exclude their far edge: a delivery exactly `hours` ago no longer counts. */
  async #count(from: { after: Date } | { since: Date }, filter: { dealId?: string; recipientId?: string }): Promise<number> {
    const edge = 'after' in from ? sql`handled_at > ${from.after}` : sql`handled_at >= ${from.since}`;
    const row = await sql<{ n: number }>`
      select count(distinct alert_id)::int as n from alert_deliveries
      where workspace_id = ${this.#workspaceId} and ${edge}
        and channel <> 'digest' and status in ('queued', 'retrying', 'sent', 'shadow')
        and (${filter.dealId ?? null}::text is null or deal_id = ${filter.dealId ?? null})
        and (${filter.recipientId ?? null}::text is null or recipient_id = ${filter.recipientId ?? null})
    `.execute(this.#tx);
    return row.rows[0]?.n ?? 0;
  }

  /** Why this alert may not go out now (deal throttle or workspace cap), or null. */
  async alertLimit(dealId: string): Promise<string | null> {
    const { perDeal } = this.#alerting.throttle;
    if ((await this.#count({ after: new Date(this.#now.getTime() - perDeal.hours * HOUR_MS) }, { dealId })) >= perDeal.max) {
      return `deal ${dealId} already had ${perDeal.max} alert(s) in ${perDeal.hours} h`;
    }
    const tz = this.#alerting.timeZone;
    const dayStart = new Date(zonedInstant(localMoment(this.#now.getTime(), tz).date, 0, tz));
    if ((await this.#count({ since: dayStart }, {})) >= this.#alerting.dailyCap) return `the workspace reached its daily cap of ${this.#alerting.dailyCap} alerts`;
    return null;
  }

  async recipientLimit(recipientId: string): Promise<string | null> {
    const { perRecipient } = this.#alerting.throttle;
    if ((await this.#count({ after: new Date(this.#now.getTime() - perRecipient.hours * HOUR_MS) }, { recipientId })) >= perRecipient.max) {
      return `${recipientId} already had ${perRecipient.max} alert(s) in ${perRecipient.hours} h`;
    }
    return null;
  }
}
