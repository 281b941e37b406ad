import type { CrmPersonValues } from '../platform/schema.ts';

/**
 * The fields of a directory entry and where each value comes from. Precedence, field by field:
 * a value set through the API wins; otherwise what the CRM says; otherwise nothing is on record
 * and readers fall back to the playbook's `alerting` defaults.
 */

export const personFields = ['name', 'email', 'managerId', 'timeZone', 'workingDays', 'workingHours', 'outOfOffice', 'slackUserId'] as const;
export type PersonField = (typeof personFields)[number];

/** The fields a CRM can fill, and the column each one lives in. */
export const crmFieldColumns = { name: 'name', email: 'email', managerId: 'manager_id', timeZone: 'time_zone' } as const;
export type CrmField = keyof typeof crmFieldColumns;

export type FieldSource = 'api' | 'crm' | 'default';

export function isPersonField(value: string): value is PersonField {
  return (personFields as readonly string[]).includes(value);
}

export function isCrmField(field: PersonField): field is CrmField {
  return Object.hasOwn(crmFieldColumns, field);
}

/** Where each field's effective value came from, given the API-set fields and the CRM's last reading. */
export function fieldSourcesOf(apiFields: readonly string[], crm: CrmPersonValues | null): Record<PersonField, FieldSource> {
  const sources = {} as Record<PersonField, FieldSource>;
  for (const field of personFields) {
    if (apiFields.includes(field)) sources[field] = 'api';
    else if (crm && isCrmField(field) && crm[field] !== undefined && crm[field] !== null) sources[field] = 'crm';
    else sources[field] = 'default';
  }
  return sources;
}
