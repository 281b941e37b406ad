import type { CrmPeoplePage, CrmPerson, PeopleQuery } from '../../crm/types.ts';
import { arrayField, expectObject, type HubspotHttp } from './crm-http.ts';

/**
 * The people directory's reading of HubSpot: `GET /crm/v3/owners`, paged with `after`. The list
 * holds active owners only unless `archived=true` is asked for, and then only archived ones, so a
 * full reading is two listings: active owners first, then archived ones (marked inactive).
 * HubSpot keeps no manager or time zone on owners; those stay with the API and the playbook.
 */

/** The most the owners endpoint returns per page. */
export const hubspotOwnersPageSize = 500;

interface OwnersCursor {
  archived: boolean;
  after?: string;
}

interface RawOwner {
  id?: unknown;
  email?: unknown;
  firstName?: unknown;
  lastName?: unknown;
  type?: unknown;
  archived?: unknown;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : null;
}

/** One owner as a person; queues (`type: QUEUE`) own records but are nobody to alert, so they are skipped. */
export function hubspotPerson(raw: RawOwner, archivedListing: boolean): CrmPerson | null {
  if (raw.id === undefined || raw.id === null || raw.type === 'QUEUE') return null;
  const name = [text(raw.firstName), text(raw.lastName)].filter((part) => part !== null).join(' ');
  return {
    id: String(raw.id),
    name: name.length > 0 ? name : null,
    email: text(raw.email),
    active: !(archivedListing || raw.archived === true),
  };
}

export async function listHubspotOwners(http: HubspotHttp, query: PeopleQuery): Promise<CrmPeoplePage> {
  const position: OwnersCursor = query.cursor ? (JSON.parse(query.cursor) as OwnersCursor) : { archived: false };
  const params = new URLSearchParams({ limit: String(hubspotOwnersPageSize), archived: String(position.archived) });
  if (position.after !== undefined) params.set('after', position.after);
  await query.beforeCall?.();
  const response = await http.send({ method: 'GET', path: `/crm/v3/owners?${params.toString()}`, write: false });
  const body = expectObject(response.body, 'the owner list', false);
  const people = (arrayField(body, 'results') as RawOwner[]).flatMap((raw) => {
    const person = hubspotPerson(raw, position.archived);
    return person ? [person] : [];
  });
  const after = (body.paging as { next?: { after?: unknown } } | undefined)?.next?.after;
  let next: OwnersCursor | null = null;
  if (typeof after === 'string' && after.length > 0) next = { archived: position.archived, after };
  else if (!position.archived) next = { archived: true };
  return {
    people,
    next: next ? JSON.stringify(next) : null,
    ...(response.rateLimit === undefined ? {} : { rateLimit: response.rateLimit }),
  };
}
