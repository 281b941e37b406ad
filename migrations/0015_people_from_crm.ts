import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The directory is now filled from two sides. The CRM side is kept as read (`crm`), and the
  // fields an admin set through the API are listed in `api_fields`: those win over the CRM, field
  // by field. The plain columns keep holding the effective values, so every reader stays as it was.
  await sql`
    alter table people
      add column crm jsonb,
      add column api_fields text[] not null default '{}',
      add column active boolean not null default true,
      add column inactive_since timestamptz,
      add column inactive_reason text,
      add column crm_seen_at timestamptz
  `.execute(db);
  // Until now every entry came from the API, which could not tell "null" from "left out": a value
  // on record counts as set through the API, an empty one as not set.
  await sql`
    update people set api_fields = array_remove(array[
      case when name is not null then 'name' end,
      case when email is not null then 'email' end,
      case when manager_id is not null then 'managerId' end,
      case when time_zone is not null then 'timeZone' end,
      case when working_days is not null then 'workingDays' end,
      case when work_start is not null then 'workingHours' end,
      case when jsonb_array_length(out_of_office) > 0 then 'outOfOffice' end,
      case when slack_user_id is not null then 'slackUserId' end
    ], null)
  `.execute(db);
  // Where an entry came from follows from what it holds, so it is derived rather than stored twice.
  await sql`alter table people drop column source`.execute(db);
  await sql`
    alter table people add column source text generated always as (
      case when crm is null then 'api' when cardinality(api_fields) = 0 then 'crm' else 'crm+api' end
    ) stored
  `.execute(db);

  // One row per workspace: the last reading of the CRM's owners/users, for the API and the schedule.
  await sql`
    create table people_sync_state (
      workspace_id text primary key references workspaces (id) on delete cascade,
      status text not null default 'queued' check (status in ('queued', 'running', 'waiting', 'completed', 'failed')),
      reason text,
      requested_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz,
      people integer not null default 0,
      deactivated integer not null default 0,
      error jsonb,
      updated_at timestamptz not null default now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table people_sync_state`.execute(db);
  await sql`alter table people drop column source`.execute(db);
  await sql`alter table people add column source text not null default 'api' check (source in ('api', 'crm'))`.execute(db);
  await sql`update people set source = 'crm' where crm is not null`.execute(db);
  await sql`
    alter table people
      drop column crm, drop column api_fields, drop column active,
      drop column inactive_since, drop column inactive_reason, drop column crm_seen_at
  `.execute(db);
}
