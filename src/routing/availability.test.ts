import { describe, expect, it } from 'vitest';
import { alertingSettings } from '../engine/playbook/schema.ts';
import type { Person } from '../people/people-store.ts';
import { fieldSourcesOf } from '../people/person-fields.ts';
import { availabilityOf } from './availability.ts';

const rep: Person = {
  ownerId: 'rep',
  name: 'Rep',
  email: null,
  managerId: null,
  timeZone: 'UTC',
  workingDays: [1, 2, 3, 4, 5],
  workingHours: { start: '09:00', end: '17:00' },
  outOfOffice: [],
  slackUserId: null,
  source: 'api',
  fieldSources: fieldSourcesOf(['name', 'timeZone', 'workingDays', 'workingHours'], null),
  active: true,
  inactiveSince: null,
  inactiveReason: null,
  crmSeenAt: null,
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('availabilityOf', () => {
  const alerting = alertingSettings.parse({});
  /** Wednesday 4 March 2026, 10:00 UTC: inside the rep's hours. */
  const workingHour = Date.parse('2026-03-04T10:00:00Z');

  it('is available inside working hours and off hours outside them', () => {
    expect(availabilityOf(rep, alerting, workingHour)).toEqual({ onLeave: false, offHours: false });
    expect(availabilityOf(rep, alerting, Date.parse('2026-03-04T20:00:00Z'))).toEqual({ onLeave: false, offHours: true });
  });

  it('counts out-of-office days and people the CRM deactivated as away', () => {
    expect(availabilityOf({ ...rep, outOfOffice: [{ from: '2026-03-02', to: '2026-03-06' }] }, alerting, workingHour).onLeave).toBe(true);
    expect(availabilityOf({ ...rep, active: false, inactiveReason: 'deactivated in Salesforce' }, alerting, workingHour).onLeave).toBe(true);
  });
});
