import { isCrmError } from '../../crm/errors.ts';
import type { CrmPeoplePage, CrmPerson, PeopleQuery } from '../../crm/types.ts';
import type { SalesforceApi, SalesforceRequest } from './crm-api.ts';
import { assertSalesforceId } from './crm-ids.ts';
import { asQueryPage, queryPath } from './crm-soql.ts';

/**
 * The people directory's reading of Salesforce: one SOQL query over User, active and inactive,
 * paged by the query locator (nextRecordsUrl). Users are never deleted, only deactivated, so
 * IsActive says who left. Only standard (licensed, internal) users are read: community and portal
 * users can number in the millions and are not the people a sales team escalates to.
 * The cursor keeps the last Id as well, so an expired locator (INVALID_QUERY_LOCATOR) restarts
 * the query after it instead of from the top.
 */

interface Cursor {
  locator: string | null;
  lastId: string | null;
}

interface UserRow {
  Id?: unknown;
  Name?: unknown;
  Email?: unknown;
  ManagerId?: unknown;
  TimeZoneSidKey?: unknown;
  IsActive?: unknown;
}

export function usersSoql(afterId: string | null): string {
  const after = afterId === null ? '' : ` AND Id > '${assertSalesforceId(afterId)}'`;
  return `SELECT Id, Name, Email, ManagerId, TimeZoneSidKey, IsActive FROM User WHERE UserType = 'Standard'${after} ORDER BY Id`;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : null;
}

export function salesforcePerson(row: UserRow): CrmPerson | null {
  const id = text(row.Id);
  if (id === null) return null;
  return {
    id,
    name: text(row.Name),
    email: text(row.Email),
    managerId: text(row.ManagerId),
    timeZone: text(row.TimeZoneSidKey),
    active: row.IsActive !== false,
  };
}

export async function listSalesforceUsers(api: SalesforceApi, query: PeopleQuery): Promise<CrmPeoplePage> {
  const cursor: Cursor = query.cursor ? (JSON.parse(query.cursor) as Cursor) : { locator: null, lastId: null };
  const call = async (request: SalesforceRequest) => {
    await query.beforeCall?.();
    return api.send(request);
  };
  let response: Awaited<ReturnType<typeof call>> | undefined;
  if (cursor.locator) {
    try {
      response = await call({ method: 'GET', path: cursor.locator, write: false });
    } catch (error) {
      if (!isCrmError(error) || error.code !== 'INVALID_QUERY_LOCATOR') throw error;
    }
  }
  response ??= await call({ method: 'GET', path: queryPath(usersSoql(cursor.lastId)), write: false });
  const page = asQueryPage<UserRow>(response.body);
  const people = page.records.flatMap((row) => {
    const person = salesforcePerson(row);
    return person ? [person] : [];
  });
  const next: Cursor | null = page.done ? null : { locator: page.nextRecordsUrl ?? null, lastId: people.at(-1)?.id ?? cursor.lastId };
  return {
    people,
    next: next ? JSON.stringify(next) : null,
    ...(response.rateLimit === undefined ? {} : { rateLimit: response.rateLimit }),
  };
}
