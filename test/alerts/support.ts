import type { TestApp } from '../support/app.ts';
import { json } from '../../src/platform/db.ts';
import { initialDealState } from '../../src/engine/state.ts';
import type { RaiseAlertDecision } from '../../src/engine/types.ts';
import type { AlertTier, Role } from '../../src/engine/playbook/schema.ts';
import { defaultPlaybook } from '../../src/engine/playbook/default-playbook.ts';
import { currentPlaybook, publishPlaybook } from '../../src/progression/playbook-store.ts';
import { openAlert } from '../../src/alerts/open-alert.ts';
import { dispatchAlerts } from '../../src/alerts/dispatch-alerts.ts';

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const SLACK_HOOK = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';

export async function createWorkspace(t: TestApp, ws: string, mode: 'shadow' | 'live' = 'live'): Promise<void> {
  const res = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}`, headers: t.auth, payload: { name: ws, mode } });
  if (res.statusCode >= 300) throw new Error(`workspace ${ws}: ${res.body}`);
}

export async function putPerson(t: TestApp, ws: string, ownerId: string, body: Record<string, unknown>): Promise<void> {
  const res = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/people/${ownerId}`, headers: t.auth, payload: body });
  if (res.statusCode !== 200) throw new Error(`person ${ownerId}: ${res.body}`);
}

/** Publishes the default playbook with its alerting section changed. */
export async function publishAlerting(t: TestApp, ws: string, alerting: Record<string, unknown>): Promise<void> {
  const base = defaultPlaybook();
  await publishPlaybook(t.db, ws, JSON.stringify({ ...base, alerting: { ...base.alerting, ...alerting } }), 'test');
}

let seq = 0;

/** Stores a raise_alert decision and opens its alert in one transaction, as evaluate-deal does. */
export async function raise(
  t: TestApp,
  input: { ws: string; dealId: string; ownerId: string | null; tier: AlertTier; type: string; recipients?: Role[]; reason?: string; now: Date },
): Promise<string | null> {
  seq += 1;
  const decision: RaiseAlertDecision = {
    type: 'raise_alert',
    key: `test-alert-${seq}-${input.dealId}-${input.type}`,
    ruleId: 'test-rule',
    signalIds: [],
    reason: input.reason ?? `${input.type} on ${input.dealId}`,
    playbookVersion: '1',
    mode: 'auto',
    at: input.now.toISOString(),
    tier: input.tier,
    alertType: input.type,
    recipients: input.recipients ?? ['owner'],
  };
  const deal = { ...initialDealState(input.dealId, 'hubspot'), ownerId: input.ownerId };
  return t.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('deals')
      .values({ workspace_id: input.ws, deal_id: input.dealId, provider: 'hubspot', state: json(deal), owner_id: input.ownerId })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const row = await tx
      .insertInto('decisions')
      .values({
        workspace_id: input.ws, deal_id: input.dealId, key: decision.key, type: decision.type, rule_id: decision.ruleId, mode: decision.mode,
        reason: decision.reason, signal_ids: [], playbook_version: 1, trigger: 'time', body: json(decision), status: 'recorded', decided_at: input.now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { playbook } = await currentPlaybook(tx, input.ws);
    const opened = await openAlert(tx, { workspaceId: input.ws, dealId: input.dealId, decisionId: String(row.id), decision, deal, playbook, now: input.now });
    return opened?.alertId ?? null;
  });
}

export function dispatch(t: TestApp, ws: string, now: Date) {
  return dispatchAlerts({ db: t.db, logger: t.deps.logger, publicBaseUrl: t.config.publicBaseUrl }, ws, now);
}

export async function deliveries(t: TestApp, ws: string, alertId: string) {
  return t.db
    .selectFrom('alert_deliveries')
    .selectAll()
    .where('workspace_id', '=', ws)
    .where('alert_id', '=', alertId)
    .orderBy('id')
    .execute();
}

export async function alertRow(t: TestApp, ws: string, alertId: string) {
  return t.db.selectFrom('alerts').selectAll().where('workspace_id', '=', ws).where('id', '=', alertId).executeTakeFirstOrThrow();
}

export async function outboxTasks(t: TestApp, ws: string) {
  return t.db.selectFrom('outbox').selectAll().where('workspace_id', '=', ws).where('kind', '=', 'task').orderBy('id').execute();
}
