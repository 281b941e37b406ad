import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per running queue worker (graphile-worker pool), refreshed every few seconds. A row
  // that stops moving belongs to a process that died: its locked jobs are released to the others.
  // Not per workspace: a worker serves every workspace.
  await sql`
    create table worker_heartbeats (
      worker_id text primary key,
      pid integer not null,
      host text not null,
      started_at timestamptz not null default now(),
      seen_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index worker_heartbeats_seen on worker_heartbeats (seen_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table worker_heartbeats`.execute(db);
}
