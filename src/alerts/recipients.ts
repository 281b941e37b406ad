import type { Database, Tx } from '../platform/db.ts';
import type { AlertingSettings, Role } from '../engine/playbook/schema.ts';
import { getPeople, workingPatternOf, type Person } from '../people/people-store.ts';
import { localMoment } from '../people/local-time.ts';
import { isOutOfOffice } from '../people/working-time.ts';

/** One role of an alert turned into a person, or the reason it could not be. */
export interface Recipient {
  role: Role;
  personId: string | null;
  /** Why the recipient differs from the role's usual person, or why there is none. */
  note: string | null;
}

/** The deal owner, their manager and the manager's manager, as far as the directory knows them. */
export async function loadReportingChain(db: Database | Tx, workspaceId: string, ownerId: string | null): Promise<Map<string, Person>> {
  return loadReportingChains(db, workspaceId, ownerId === null ? [] : [ownerId]);
}

/** The same for several owners at once: one read per level of the chain, whatever their number. */
export async function loadReportingChains(db: Database | Tx, workspaceId: string, ownerIds: readonly string[]): Promise<Map<string, Person>> {
  const people = new Map<string, Person>();
  let next = [...new Set(ownerIds)];
  for (let depth = 0; depth < 3 && next.length > 0; depth += 1) {
    const found = await getPeople(db, workspaceId, next);
    for (const [id, person] of found) people.set(id, person);
    next = [...new Set([...found.values()].flatMap((p) => (p.managerId !== null && !people.has(p.managerId) ? [p.managerId] : [])))];
  }
  return people;
}

/**
 * Owner → the deal's owner (their manager while the owner is out of office); manager → the
 * owner's manager; leadership → the manager's manager; hand-off teams → no named person. One
 * person is named once, under the first role that reached them.
 */
export function resolveRecipients(
  roles: readonly Role[],
  ownerId: string | null,
  people: Map<string, Person>,
  alerting: AlertingSettings,
  nowMs: number,
): Recipient[] {
  const manager = ownerId === null ? null : (people.get(ownerId)?.managerId ?? null);
  const skip = manager === null ? null : (people.get(manager)?.managerId ?? null);
  const out: Recipient[] = [];
  const seen = new Set<string>();
  const add = (r: Recipient) => {
    if (r.personId !== null && seen.has(r.personId)) return;
    if (r.personId !== null) seen.add(r.personId);
    out.push(r);
  };
  for (const role of roles) {
    if (role === 'owner') {
      if (ownerId === null) add({ role, personId: null, note: 'the deal has no owner' });
      else if (away(people.get(ownerId), alerting, nowMs) && manager !== null) add({ role, personId: manager, note: `owner ${ownerId} ${awayReason(people.get(ownerId)!)}; sent to their manager` });
      else add({ role, personId: ownerId, note: null });
    } else if (role === 'manager') {
      add(manager === null ? { role, personId: null, note: `no manager on record for owner ${ownerId ?? '(none)'}` } : { role, personId: manager, note: null });
    } else if (role === 'leadership') {
      add(skip === null ? { role, personId: null, note: `no manager's manager on record for owner ${ownerId ?? '(none)'}` } : { role, personId: skip, note: null });
    } else {
      // Hand-off teams (customer success, finance) hold no deal and have no person in the
      // directory: their alerts reach the workspace's channels (Slack, digest), not a named rep.
      add({ role, personId: null, note: `the ${role.replace('_', ' ')} team is reached through the workspace's channels` });
    }
  }
  return out;
}

/** Out of office today, or no longer active in the CRM (archived owner, deactivated user). */
function awayReason(person: Person): string {
  return person.active ? 'is out of office' : `is no longer active in the CRM (${person.inactiveReason ?? 'deactivated'})`;
}

function away(person: Person | undefined, alerting: AlertingSettings, nowMs: number): boolean {
  if (person && !person.active) return true;
  if (!person || person.outOfOffice.length === 0) return false;
  const pattern = workingPatternOf(person, alerting);
  return isOutOfOffice(pattern, localMoment(nowMs, pattern.timeZone).date);
}
