import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // A workspace's CRM connection. `secrets` and `tokens` are sealed (AES-256-GCM).
  await sql`
    create table connections (
      workspace_id text primary key references workspaces (id) on delete cascade,
      provider text not null check (provider in ('hubspot', 'salesforce')),
      config jsonb not null,
      secrets text not null,
      tokens text,
      token_expires_at timestamptz,
      last_test jsonb,
      last_tested_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);

  // Every CRM write is a row first. The idempotency key comes from the decision, so a repeated
  // job finds the row instead of adding a second one.
  await sql`
    create table outbox (
      workspace_id text not null references workspaces (id) on delete cascade,
      id bigint generated always as identity,
      deal_id text not null,
      decision_id bigint,
      kind text not null check (kind in ('deal_update', 'task', 'note')),
      idempotency_key text not null,
      payload jsonb not null,
      status text not null check (status in ('pending', 'sending', 'sent', 'failed', 'dead', 'shadow', 'superseded', 'held')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_error jsonb,
      crm_id text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      sent_at timestamptz,
      primary key (workspace_id, id),
      unique (workspace_id, idempotency_key)
    )`.execute(db);
  await sql`create index outbox_due on outbox (workspace_id, next_attempt_at) where status in ('pending', 'failed', 'sending')`.execute(db);
  await sql`create index outbox_by_deal on outbox (workspace_id, deal_id, id)`.execute(db);
  await sql`create index outbox_by_status on outbox (workspace_id, status, id desc)`.execute(db);

  await sql`
    create table approvals (
      workspace_id text not null references workspaces (id) on delete cascade,
      id bigint generated always as identity,
      deal_id text not null,
      decision_id bigint not null,
      status text not null check (status in ('pending', 'approved', 'rejected', 'expired', 'obsolete')),
      expires_at timestamptz not null,
      decided_by text,
      decided_reason text,
      decided_at timestamptz,
      created_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, decision_id)
    )`.execute(db);
  await sql`create index approvals_pending on approvals (workspace_id, created_at) where status = 'pending'`.execute(db);

  // Rate-limit state shared by every process: the send times within the rolling window (exact,
  // like HubSpot's own rolling count), a daily count, and a pause set after a 429.
  await sql`
    create table crm_rate_limits (
      bucket text primary key,
      recent timestamptz[] not null default '{}',
      day date not null default current_date,
      day_count integer not null default 0,
      daily_used integer,
      daily_limit integer,
      paused_until timestamptz,
      updated_at timestamptz not null default now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table crm_rate_limits`.execute(db);
  await sql`drop table approvals`.execute(db);
  await sql`drop table outbox`.execute(db);
  await sql`drop table connections`.execute(db);
}
