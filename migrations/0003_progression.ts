import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Every published playbook version is kept; decisions name the version they came from.
  await sql`
    create table playbooks (
      workspace_id text not null references workspaces (id) on delete cascade,
      version integer not null,
      document jsonb not null,
      source_text text not null,
      format text not null check (format in ('yaml', 'json')),
      created_at timestamptz not null default now(),
      created_by text,
      primary key (workspace_id, version)
    )`.execute(db);

  // The deal mirror. `state` is the engine's own JSON; the columns beside it are copies the
  // time sweep and the API filter on.
  await sql`
    create table deals (
      workspace_id text not null references workspaces (id) on delete cascade,
      deal_id text not null,
      provider text not null,
      state jsonb not null,
      stage text,
      crm_stage text,
      stage_entered_at timestamptz,
      close_date date,
      last_activity_at timestamptz,
      owner_id text,
      health_score integer,
      is_closed boolean not null default false,
      playbook_version integer,
      evaluated_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, deal_id)
    )`.execute(db);
  await sql`create index deals_open_by_stage_entry on deals (workspace_id, stage_entered_at) where not is_closed`.execute(db);
  await sql`create index deals_open_by_activity on deals (workspace_id, last_activity_at) where not is_closed`.execute(db);

  await sql`
    create table decisions (
      workspace_id text not null references workspaces (id) on delete cascade,
      id bigint generated always as identity,
      deal_id text not null,
      key text not null,
      type text not null,
      rule_id text not null,
      mode text not null,
      reason text not null,
      signal_ids text[] not null default '{}',
      playbook_version integer not null,
      trigger text not null,
      body jsonb not null,
      status text not null,
      decided_at timestamptz not null,
      created_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, key)
    )`.execute(db);
  await sql`create index decisions_by_deal on decisions (workspace_id, deal_id, decided_at, id)`.execute(db);
  await sql`create index decisions_by_rule on decisions (workspace_id, rule_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table decisions`.execute(db);
  await sql`drop table deals`.execute(db);
  await sql`drop table playbooks`.execute(db);
}
