import { describe, expect, it } from 'vitest';
import { fieldSourcesOf } from './person-fields.ts';
import { crmEntryOf } from './sync-people.ts';

describe('fieldSourcesOf', () => {
  it('ranks the API over the CRM over nothing on record, field by field', () => {
    const sources = fieldSourcesOf(['managerId', 'outOfOffice'], { name: 'Ana Rep', email: null, managerId: '005B', timeZone: 'Europe/Madrid' });
    expect(sources).toEqual({
      name: 'crm',
      email: 'default',
      managerId: 'api',
      timeZone: 'crm',
      workingDays: 'default',
      workingHours: 'default',
      outOfOffice: 'api',
      slackUserId: 'default',
    });
  });

  it('never credits the CRM with fields it does not keep', () => {
    expect(fieldSourcesOf([], { name: 'A', email: 'a@example.com' })).toMatchObject({ managerId: 'default', timeZone: 'default', name: 'crm', email: 'crm' });
    expect(Object.values(fieldSourcesOf(['name'], null)).filter((s) => s !== 'default')).toEqual(['api']);
  });
});

describe('crmEntryOf', () => {
  it('keeps what the CRM knows, drops time zones the runtime does not, and says why someone is inactive', () => {
    expect(crmEntryOf({ id: '1', name: 'A', email: null, active: true }, 'hubspot')).toEqual({ ownerId: '1', values: { name: 'A', email: null }, active: true, inactiveReason: null });
    expect(crmEntryOf({ id: '2', name: 'B', email: null, active: false }, 'hubspot').inactiveReason).toBe('archived in HubSpot');
    const user = crmEntryOf({ id: '005A', name: 'C', email: 'c@x.example', managerId: '005B', timeZone: 'Mars/Olympus', active: false }, 'salesforce');
    expect(user).toEqual({ ownerId: '005A', values: { name: 'C', email: 'c@x.example', managerId: '005B', timeZone: null }, active: false, inactiveReason: 'deactivated in Salesforce' });
    expect(crmEntryOf({ id: '005D', name: null, email: null, managerId: null, timeZone: 'Asia/Kolkata', active: true }, 'salesforce').values.timeZone).toBe('Asia/Kolkata');
  });
});
