import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // How often the recurring job sweeps each workspace and when it last did. A workspace without a
  // row gets the default interval and is due at once. `updated_at` is when the interval was set
  // through the API; the job's own bookkeeping leaves it alone.
  await sql`
    create table sweep_schedules (
      workspace_id text primary key references workspaces (id) on delete cascade,
      interval_minutes integer not null check (interval_minutes between 1 and 1440),
      last_swept_at timestamptz,
      updated_at timestamptz
    )`.execute(db);

  // The alert tick looks for Slack posts still waiting to go out whose send-slack job is gone;
  // these partial indexes hold only such rows, so the look-up stays small however many were sent.
  await sql`
    create index alert_deliveries_slack_unsent on alert_deliveries (workspace_id, id)
    where channel = 'slack' and status in ('queued', 'retrying')`.execute(db);
  await sql`
    create index alert_digests_slack_unsent on alert_digests (workspace_id, id)
    where via = 'slack' and status in ('queued', 'retrying')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index alert_digests_slack_unsent`.execute(db);
  await sql`drop index alert_deliveries_slack_unsent`.execute(db);
  await sql`drop table sweep_schedules`.execute(db);
}
