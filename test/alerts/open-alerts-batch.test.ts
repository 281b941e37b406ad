import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { json } from '../../src/platform/db.ts';
import { initialDealState } from '../../src/engine/state.ts';
import type { RaiseAlertDecision } from '../../src/engine/types.ts';
import { currentPlaybook } from '../../src/progression/playbook-store.ts';
import { openAlerts, type OpenAlertInput } from '../../src/alerts/open-alert.ts';
import { createWorkspace, putPerson } from './support.ts';

/** Alerts of a batch of evaluations are opened together; the outcome must be what one by one gives. */
describe('opening the alerts of a batch', async () => {
  const t = await createTestApp();
  const now = new Date('2025-03-04T10:00:00.000Z');

  async function inputsFor(ws: string, specs: Array<{ dealId: string; type: string; ownerId: string }>): Promise<OpenAlertInput[]> {
    const { playbook } = await currentPlaybook(t.db, ws);
    const inputs: OpenAlertInput[] = [];
    for (const [n, spec] of specs.entries()) {
      const deal = { ...initialDealState(spec.dealId, 'hubspot'), ownerId: spec.ownerId };
      await t.db.insertInto('deals').values({ workspace_id: ws, deal_id: spec.dealId, provider: 'hubspot', state: json(deal), owner_id: spec.ownerId }).onConflict((oc) => oc.doNothing()).execute();
      const decision: RaiseAlertDecision = {
        type: 'raise_alert', key: `batch-${n}-${spec.dealId}-${spec.type}`, ruleId: 'test-rule', signalIds: [], reason: `${spec.type} on ${spec.dealId}`,
        playbookVersion: '1', mode: 'auto', at: now.toISOString(), tier: 'warning', alertType: spec.type, recipients: ['owner', 'manager'],
      };
      const row = await t.db
        .insertInto('decisions')
        .values({ workspace_id: ws, deal_id: spec.dealId, key: decision.key, type: decision.type, rule_id: decision.ruleId, mode: 'auto', reason: decision.reason, signal_ids: [], playbook_version: 1, trigger: 'time', body: json(decision), status: 'recorded', decided_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      inputs.push({ workspaceId: ws, dealId: spec.dealId, decisionId: String(row.id), decision, deal, playbook, now });
    }
    return inputs;
  }

  it('suppresses the second alert of a type on a deal within one batch, and reaches each owner and manager', async () => {
    await createWorkspace(t, 'alerts-batch');
    await putPerson(t, 'alerts-batch', 'rep-1', { managerId: 'boss-1', timeZone: 'UTC' });
    await putPerson(t, 'alerts-batch', 'rep-2', { managerId: 'boss-2', timeZone: 'UTC' });
    const inputs = await inputsFor('alerts-batch', [
      { dealId: 'd1', type: 'stale', ownerId: 'rep-1' },
      { dealId: 'd1', type: 'stale', ownerId: 'rep-1' },
      { dealId: 'd2', type: 'stale', ownerId: 'rep-2' },
      { dealId: 'd1', type: 'close_date_passed', ownerId: 'rep-1' },
    ]);
    const opened = await t.db.transaction().execute((tx) => openAlerts(tx, inputs));
    expect(opened.map((o) => o?.state)).toEqual(['open', 'suppressed', 'open', 'open']);

    const alerts = await t.db.selectFrom('alerts').select(['id', 'deal_id', 'alert_type', 'state', 'state_reason', 'next_escalation_at']).where('workspace_id', '=', 'alerts-batch').orderBy('id').execute();
    const [first, duplicate] = alerts.filter((a) => a.deal_id === 'd1' && a.alert_type === 'stale');
    const other = alerts.find((a) => a.deal_id === 'd2')!;
    expect(duplicate!.state_reason).toBe(`duplicate of alert ${first!.id}`);
    const deliveries = await t.db.selectFrom('alert_deliveries').select(['alert_id', 'recipient_id']).where('workspace_id', '=', 'alerts-batch').execute();
    const recipientsOf = (alertId: string) => deliveries.filter((d) => String(d.alert_id) === alertId).map((d) => d.recipient_id).filter(Boolean).sort();
    expect(recipientsOf(String(first!.id))).toEqual(expect.arrayContaining(['boss-1', 'rep-1']));
    expect(recipientsOf(String(other.id))).toEqual(expect.arrayContaining(['boss-2', 'rep-2']));
    expect(recipientsOf(String(duplicate!.id))).toEqual([]);

    // Opening the same decisions again (a repeated job) adds nothing.
    const again = await t.db.transaction().execute((tx) => openAlerts(tx, inputs));
    expect(again).toEqual([null, null, null, null]);
  });
});
