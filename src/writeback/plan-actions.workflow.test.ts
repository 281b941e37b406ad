import { describe, expect, it } from 'vitest';
import { initialDealState } from '../engine/state.ts';
import type { Decision } from '../engine/types.ts';
import { hubspotDealProperties } from '../integrations/hubspot/crm-deals.ts';
import { opportunityRecord } from '../integrations/salesforce/crm-records.ts';
import { outboxKey, planActions } from './plan-actions.ts';

const base = { key: 'deal-1/wf/x/signal:1', signalIds: ['1'], reason: 'because', playbookVersion: '3', mode: 'auto' as const, at: '2025-03-03T10:00:00.000Z' };
const deal = { ...initialDealState('deal-1', 'hubspot'), ownerId: 'u-old' };

describe('workflow decisions become CRM writes', () => {
  it.each<[string, Decision, unknown[]]>([
    [
      'a field update writes the custom field',
      { ...base, ruleId: 'recipe-capture-competitor', type: 'update_field', field: 'competitor', from: null, value: 'Acme' },
      [{ kind: 'deal_update', idempotencyKey: outboxKey(base.key, 'field:competitor'), payload: { fields: { custom: { competitor: 'Acme' } } } }],
    ],
    [
      'a routed owner writes the owner and a note naming the rule',
      {
        ...base, ruleId: 'route-unowned-deal', type: 'assign_owner', fromOwnerId: null, toOwnerId: 'u-ann', reassign: false, fallback: 'manager',
        routing: { strategy: 'territory', pool: 'territory:west', ownerId: 'u-ann', explanation: 'territory west matched u-ann' },
      },
      [
        { kind: 'deal_update', idempotencyKey: outboxKey(base.key, 'owner'), payload: { fields: { ownerId: 'u-ann' } } },
        { kind: 'note', idempotencyKey: outboxKey(base.key, 'owner_note'), payload: { body: expect.stringContaining('rule route-unowned-deal, playbook v3). territory west matched u-ann'), timestamp: base.at } },
      ],
    ],
    [
      'an assignment nobody could take writes nothing',
      { ...base, ruleId: 'route-unowned-deal', type: 'assign_owner', fromOwnerId: null, toOwnerId: null, reassign: false, fallback: 'none' },
      [],
    ],
  ])('%s', (_label, decision, writes) => {
    expect(planActions(decision, deal)).toEqual({ writes, needsApproval: false });
  });
});

describe('CRM field mapping', () => {
  it('HubSpot: owner to hubspot_owner_id, custom fields by name, null clears', () => {
    expect(hubspotDealProperties({ key: 'k', dealId: '1', fields: { ownerId: '77', custom: { competitor: 'Acme', discount_approval: null } } }, undefined)).toEqual({
      hubspot_owner_id: '77',
      competitor: 'Acme',
      discount_approval: '',
    });
  });

  it('Salesforce: owner to OwnerId, custom fields by API name', () => {
    expect(opportunityRecord({ key: 'k', dealId: '006000000000001AAA', fields: { ownerId: '005000000000001AAA', custom: { Competitor__c: 'Acme' } } })).toEqual({
      attributes: { type: 'Opportunity' },
      id: '006000000000001AAA',
      OwnerId: '005000000000001AAA',
      Competitor__c: 'Acme',
    });
  });
});
