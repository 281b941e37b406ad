import { alertingSettings, type AlertingSettings } from '../engine/playbook/schema.ts';
import { localMoment } from '../people/local-time.ts';
import { workingPatternOf, type Person } from '../people/people-store.ts';
import { isOutOfOffice, nextWorkingInstant } from '../people/working-time.ts';

/** Defaults for people with no working pattern on record, when the playbook names none. */
const fallbackAlerting: AlertingSettings = alertingSettings.parse({});

export interface Availability {
  onLeave: boolean;
  offHours: boolean;
}

/**
 * Whether a person is away (out of office today, in their own time zone, or no longer active in
 * the CRM) or simply outside their working hours at `nowMs`. Uses the people directory's patterns
 * and the playbook's defaults.
 */
export function availabilityOf(person: Person | undefined, alerting: AlertingSettings | undefined, nowMs: number): Availability {
  const pattern = workingPatternOf(person, alerting ?? fallbackAlerting);
  const today = localMoment(nowMs, pattern.timeZone).date;
  // Someone the CRM archived or deactivated is away for good: routed around like an absence.
  const onLeave = person?.active === false || isOutOfOffice(pattern, today);
  return { onLeave, offHours: !onLeave && nextWorkingInstant(pattern, nowMs) !== nowMs };
}
