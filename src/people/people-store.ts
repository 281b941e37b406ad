import type { Database, Tx } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import type { AlertingSettings } from '../engine/playbook/schema.ts';
import type { WorkingPattern } from './working-time.ts';

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
  source: 'api' | 'crm';
  updatedAt: string;
}

export type PersonInput = Omit<Person, 'ownerId' | 'source' | 'updatedAt'>;

type Row = {
  owner_id: string; name: string | null; email: string | null; manager_id: string | null; time_zone: string | null;
  working_days: number[] | null; work_start: string | null; work_end: string | null; out_of_office: Array<{ from: string; to: string }>;
  slack_user_id: string | null; source: 'api' | 'crm'; updated_at: Date;
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
    updatedAt: row.updated_at.toISOString(),
  };
}

const columns = ['owner_id', 'name', 'email', 'manager_id', 'time_zone', 'working_days', 'work_start', 'work_end', 'out_of_office', 'slack_user_id', 'source', 'updated_at'] as const;

/** Creates or replaces one person; an API entry overrides what a CRM import wrote. */
export async function putPerson(db: Database | Tx, workspaceId: string, ownerId: string, input: PersonInput, source: 'api' | 'crm' = 'api'): Promise<Person> {
  const values = {
    name: input.name,
    email: input.email,
    manager_id: input.managerId,
    time_zone: input.timeZone,
    working_days: input.workingDays,
    work_start: input.workingHours?.start ?? null,
    work_end: input.workingHours?.end ?? null,
    out_of_office: json(input.outOfOffice),
    slack_user_id: input.slackUserId,
    source,
  };
  const row = await db
    .insertInto('people')
    .values({ workspace_id: workspaceId, owner_id: ownerId, ...values })
    .onConflict((oc) => oc.columns(['workspace_id', 'owner_id']).doUpdateSet({ ...values, updated_at: new Date() }))
    .returning(columns)
    .executeTakeFirstOrThrow();
  return toPerson(row as Row);
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
