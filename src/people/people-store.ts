import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import type { CrmPersonValues } from '../platform/schema.ts';
import type { AlertingSettings } from '../engine/playbook/schema.ts';
import type { WorkingPattern } from './working-time.ts';
import { crmFieldColumns, fieldSourcesOf, personFields, type CrmField, type FieldSource, type PersonField } from './person-fields.ts';

/** A CRM owner as the directory knows them; unset fields fall back to the playbook's defaults. */
export interface Person {
  ownerId: string;
  name: string | null;
  email: string | null;
  managerId: string | null;
  timeZone: string | null;
  workingDays: number[] | null;
  workingHours: { start: string; end: string } | null;
  outOfOffice: Array<{ from: string; to: string }>;
  slackUserId: string | null;
  /** `api`: only ever set through the API; `crm`: as the CRM lists them; `crm+api`: the CRM's entry with API overrides. */
  source: 'api' | 'crm' | 'crm+api';
  fieldSources: Record<PersonField, FieldSource>;
  /** False once the CRM archived or deactivated them (or stopped listing them); the entry is kept. */
  active: boolean;
  inactiveSince: string | null;
  inactiveReason: string | null;
  /** When the CRM last listed them; null for people it never listed. */
  crmSeenAt: string | null;
  updatedAt: string;
}

/** An API entry: the fields present are set through the API (null included); absent ones come from the CRM. */
export type PersonInput = Partial<Pick<Person, PersonField>>;

type Row = {
  owner_id: string; name: string | null; email: string | null; manager_id: string | null; time_zone: string | null;
  working_days: number[] | null; work_start: string | null; work_end: string | null; out_of_office: Array<{ from: string; to: string }>;
  slack_user_id: string | null; source: Person['source']; crm: CrmPersonValues | null; api_fields: string[]; active: boolean;
  inactive_since: Date | null; inactive_reason: string | null; crm_seen_at: Date | null; updated_at: Date;
};

function toPerson(row: Row): Person {
  return {
    ownerId: row.owner_id,
    name: row.name,
    email: row.email,
    managerId: row.manager_id,
    timeZone: row.time_zone,
    workingDays: row.working_days,
    workingHours: row.work_start && row.work_end ? { start: row.work_start, end: row.work_end } : null,
    outOfOffice: row.out_of_office,
    slackUserId: row.slack_user_id,
    source: row.source,
    fieldSources: fieldSourcesOf(row.api_fields, row.crm),
    active: row.active,
    inactiveSince: row.inactive_since?.toISOString() ?? null,
    inactiveReason: row.inactive_reason,
    crmSeenAt: row.crm_seen_at?.toISOString() ?? null,
    updatedAt: row.updated_at.toISOString(),
  };
}

const columns = [
  'owner_id', 'name', 'email', 'manager_id', 'time_zone', 'working_days', 'work_start', 'work_end', 'out_of_office', 'slack_user_id',
  'source', 'crm', 'api_fields', 'active', 'inactive_since', 'inactive_reason', 'crm_seen_at', 'updated_at',
] as const;

/**
 * Creates or replaces the API's part of one entry. Fields present in `input` are set through the
 * API and win over the CRM from now on; fields left out go back to what the CRM last said, or to
 * nothing on record. What the CRM said is kept apart (`crm`), so no CRM value is lost.
 */
export async function putPerson(db: Database | Tx, workspaceId: string, ownerId: string, input: PersonInput): Promise<Person> {
  const set = personFields.filter((field) => Object.hasOwn(input, field) && input[field] !== undefined);
  const has = (field: PersonField) => set.includes(field);
  const values = {
    name: has('name') ? (input.name ?? null) : null,
    email: has('email') ? (input.email ?? null) : null,
    manager_id: has('managerId') ? (input.managerId ?? null) : null,
    time_zone: has('timeZone') ? (input.timeZone ?? null) : null,
    working_days: has('workingDays') ? (input.workingDays ?? null) : null,
    work_start: has('workingHours') ? (input.workingHours?.start ?? null) : null,
    work_end: has('workingHours') ? (input.workingHours?.end ?? null) : null,
    out_of_office: json(has('outOfOffice') ? (input.outOfOffice ?? []) : []),
    slack_user_id: has('slackUserId') ? (input.slackUserId ?? null) : null,
    api_fields: set,
  };
  // A CRM field the API leaves out takes the CRM's value again, read from the row being replaced.
  const fromCrm = (field: CrmField) => (has(field) ? sql<string | null>`excluded.${sql.ref(crmFieldColumns[field])}` : sql<string | null>`people.crm ->> ${field}`);
  const row = await db
    .insertInto('people')
    .values({ workspace_id: workspaceId, owner_id: ownerId, ...values })
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'owner_id']).doUpdateSet({
        ...values,
        name: fromCrm('name'),
        email: fromCrm('email'),
        manager_id: fromCrm('managerId'),
        time_zone: fromCrm('timeZone'),
        updated_at: new Date(),
      }),
    )
    .returning(columns)
    .executeTakeFirstOrThrow();
  return toPerson(row as Row);
}

/** The CRM's values of one person, ready to merge; `inactiveReason` says why when they are not active. */
export interface CrmEntry {
  ownerId: string;
  values: CrmPersonValues;
  active: boolean;
  inactiveReason: string | null;
}

/**
 * Stores one page of what the CRM listed. Each CRM field takes the CRM's value unless the API set
 * it (`api_fields`), decided inside the upsert so an API change made meanwhile is never lost.
 * `seenAt` stamps the run, so people it did not list can be found afterwards. Returns how many
 * people who were active became inactive.
 */
export async function applyCrmPeople(tx: Tx, workspaceId: string, entries: readonly CrmEntry[], seenAt: Date): Promise<number> {
  if (entries.length === 0) return 0;
  const ids = entries.map((e) => e.ownerId);
  const before = await tx.selectFrom('people').select(['owner_id', 'active']).where('workspace_id', '=', workspaceId).where('owner_id', 'in', ids).forUpdate().execute();
  const wasActive = new Set(before.filter((r) => r.active).map((r) => r.owner_id));
  const keep = (field: CrmField) => {
    const column = sql.ref(crmFieldColumns[field]);
    return sql<string | null>`case when ${field} = any(people.api_fields) then people.${column} else excluded.${column} end`;
  };
  await tx
    .insertInto('people')
    .values(
      entries.map((e) => ({
        workspace_id: workspaceId,
        owner_id: e.ownerId,
        name: e.values.name,
        email: e.values.email,
        manager_id: e.values.managerId ?? null,
        time_zone: e.values.timeZone ?? null,
        out_of_office: json([]),
        crm: json(e.values),
        active: e.active,
        inactive_since: e.active ? null : seenAt,
        inactive_reason: e.active ? null : e.inactiveReason,
        crm_seen_at: seenAt,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'owner_id']).doUpdateSet({
        name: keep('name'),
        email: keep('email'),
        manager_id: keep('managerId'),
        time_zone: keep('timeZone'),
        crm: sql<string>`excluded.crm`,
        active: sql<boolean>`excluded.active`,
        inactive_since: sql<Date | null>`case when excluded.active then null else coalesce(people.inactive_since, excluded.inactive_since) end`,
        inactive_reason: sql<string | null>`excluded.inactive_reason`,
        crm_seen_at: sql<Date>`greatest(people.crm_seen_at, excluded.crm_seen_at)`,
        // Only a change moves updated_at; a daily re-read that finds nothing new leaves it.
        updated_at: sql<Date>`case when people.crm is distinct from excluded.crm or people.active <> excluded.active then now() else people.updated_at end`,
      }),
    )
    .execute();
  return entries.filter((e) => !e.active && wasActive.has(e.ownerId)).length;
}

/**
 * After a complete reading: people the CRM listed before but not in the run stamped `seenAt` are
 * gone from it (deleted, or no longer visible to the connection) and become inactive.
 */
export async function deactivateUnlisted(db: Database | Tx, workspaceId: string, seenAt: Date, reason: string): Promise<number> {
  const result = await db
    .updateTable('people')
    .set({ active: false, inactive_since: sql<Date>`coalesce(inactive_since, now())`, inactive_reason: reason, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('crm', 'is not', null)
    .where('active', '=', true)
    .where((eb) => eb.or([eb('crm_seen_at', 'is', null), eb('crm_seen_at', '<', seenAt)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function getPerson(db: Database | Tx, workspaceId: string, ownerId: string): Promise<Person | undefined> {
  const row = await db.selectFrom('people').select(columns).where('workspace_id', '=', workspaceId).where('owner_id', '=', ownerId).executeTakeFirst();
  return row ? toPerson(row as Row) : undefined;
}

/** The people named, by owner id; ids with no entry are simply absent. */
export async function getPeople(db: Database | Tx, workspaceId: string, ownerIds: readonly string[]): Promise<Map<string, Person>> {
  const ids = [...new Set(ownerIds)];
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('people').select(columns).where('workspace_id', '=', workspaceId).where('owner_id', 'in', ids).execute();
  return new Map(rows.map((row) => [row.owner_id, toPerson(row as Row)]));
}

export async function listPeople(db: Database, workspaceId: string, options: { limit: number; after?: string | undefined }): Promise<Person[]> {
  let query = db.selectFrom('people').select(columns).where('workspace_id', '=', workspaceId).orderBy('owner_id').limit(options.limit);
  if (options.after !== undefined) query = query.where('owner_id', '>', options.after);
  return (await query.execute()).map((row) => toPerson(row as Row));
}

/** The person's working pattern, with the workspace playbook's defaults for what is not on record. */
export function workingPatternOf(person: Person | undefined, alerting: AlertingSettings): WorkingPattern {
  return {
    timeZone: person?.timeZone ?? alerting.timeZone,
    days: person?.workingDays ?? alerting.workingHours.days,
    start: person?.workingHours?.start ?? alerting.workingHours.start,
    end: person?.workingHours?.end ?? alerting.workingHours.end,
    outOfOffice: person?.outOfOffice ?? [],
  };
}
