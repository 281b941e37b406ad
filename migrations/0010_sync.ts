import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per workspace: where its initial import stands (resumable from `import_cursor`) and
  // how far reconciliation has read the CRM (`watermark`). A run owns the import while its lease
  // holds, so two workers never page through the same CRM at once.
  await sql`
    create table sync_state (
      workspace_id text primary key references workspaces (id) on delete cascade,
      import_status text not null default 'idle'
        check (import_status in ('idle', 'queued', 'running', 'waiting', 'completed', 'failed')),
      import_reason text,
      import_activity_days integer not null default 90,
      import_requested_at timestamptz,
      import_started_at timestamptz,
      import_finished_at timestamptz,
      import_run_id text,
      import_lease_until timestamptz,
      import_cursor text,
      import_pages integer not null default 0,
      import_deals integer not null default 0,
      import_activities integer not null default 0,
      import_signals integer not null default 0,
      import_total integer,
      import_error jsonb,
      watermark timestamptz,
      reconcile_started_at timestamptz,
      reconcile_finished_at timestamptz,
      reconcile_runs integer not null default 0,
      reconcile_deals integer not null default 0,
      reconcile_missed integer not null default 0,
      reconcile_last_missed integer not null default 0,
      reconcile_closed integer not null default 0,
      reconcile_failures integer not null default 0,
      reconcile_error jsonb,
      reconcile_error_at timestamptz,
      existence_cursor text,
      updated_at timestamptz not null default now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table sync_state`.execute(db);
}
