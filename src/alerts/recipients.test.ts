import { describe, expect, it } from 'vitest';
import { alertingSettings } from '../engine/playbook/schema.ts';
import type { Person } from '../people/people-store.ts';
import { fieldSourcesOf } from '../people/person-fields.ts';
import { resolveRecipients } from './recipients.ts';

const person = (ownerId: string, managerId: string | null): Person => ({
  ownerId,
  name: ownerId,
  email: null,
  managerId,
  timeZone: 'UTC',
  workingDays: null,
  workingHours: null,
  outOfOffice: [],
  slackUserId: null,
  source: 'api',
  fieldSources: fieldSourcesOf(['name', 'managerId', 'timeZone'], null),
  active: true,
  inactiveSince: null,
  inactiveReason: null,
  crmSeenAt: null,
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('resolveRecipients', () => {
  const people = new Map([
    ['rep', person('rep', 'mgr')],
    ['mgr', person('mgr', 'vp')],
    ['vp', person('vp', null)],
  ]);
  const alerting = alertingSettings.parse({});
  const now = Date.parse('2026-03-04T10:00:00Z');

  it('walks the reporting chain for owner, manager and leadership', () => {
    const out = resolveRecipients(['owner', 'manager', 'leadership'], 'rep', people, alerting, now);
    expect(out.map((r) => [r.role, r.personId])).toEqual([['owner', 'rep'], ['manager', 'mgr'], ['leadership', 'vp']]);
  });

  it("sends the owner's alerts to their manager once the CRM no longer lists the owner as active", () => {
    const gone = new Map(people);
    gone.set('rep', { ...person('rep', 'mgr'), active: false, inactiveSince: '2026-02-01T00:00:00.000Z', inactiveReason: 'archived in HubSpot' });
    const [owner] = resolveRecipients(['owner'], 'rep', gone, alerting, now);
    expect(owner).toEqual({ role: 'owner', personId: 'mgr', note: 'owner rep is no longer active in the CRM (archived in HubSpot); sent to their manager' });
  });

  it('never sends a hand-off team alert to leadership: the team is reached through channels', () => {
    const out = resolveRecipients(['finance', 'customer_success'], 'rep', people, alerting, now);
    expect(out.map((r) => r.personId)).toEqual([null, null]);
    expect(out[0]!.note).toContain('finance team');
  });
});
