import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per webhook sender per workspace. Secrets live encrypted in `secrets`; `config` holds
  // only what may be shown back. `routing_key` lets app-level webhooks (HubSpot) find their workspace.
  await sql`
    create table sources (
      workspace_id text not null references workspaces (id) on delete cascade,
      source text not null,
      config jsonb not null default '{}',
      secrets text,
      routing_key text,
      last_verified_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, source)
    )`.execute(db);
  await sql`create unique index sources_routing_key on sources (source, routing_key) where routing_key is not null`.execute(db);

  // Every request a vendor sent, verbatim (headers that matter, raw body) for audit and replay.
  await sql`
    create table deliveries (
      workspace_id text not null references workspaces (id) on delete cascade,
      id bigint generated always as identity,
      source text not null,
      status text not null check (status in ('accepted', 'duplicate', 'ignored', 'unattributed', 'rejected')),
      reason text,
      received_at timestamptz not null default now(),
      content_type text,
      headers jsonb not null default '{}',
      raw_body bytea,
      body_truncated boolean not null default false,
      event_count integer not null default 0,
      signal_count integer not null default 0,
      primary key (workspace_id, id)
    )`.execute(db);
  await sql`create index deliveries_by_time on deliveries (workspace_id, received_at desc, id desc)`.execute(db);
  await sql`create index deliveries_by_status on deliveries (workspace_id, status, id desc)`.execute(db);

  // The exactly-once ledger: one row per vendor event, keyed by the vendor's own identity.
  await sql`
    create table delivery_events (
      workspace_id text not null references workspaces (id) on delete cascade,
      source text not null,
      vendor_event_id text not null,
      delivery_id bigint not null,
      event_type text not null,
      outcome text not null,
      reason text,
      created_at timestamptz not null default now(),
      primary key (workspace_id, source, vendor_event_id)
    )`.execute(db);

  await sql`
    create table signals (
      workspace_id text not null references workspaces (id) on delete cascade,
      id bigint generated always as identity,
      deal_id text not null,
      type text not null,
      source text not null,
      origin text not null,
      occurred_at timestamptz not null,
      received_at timestamptz not null default now(),
      payload jsonb not null,
      dedupe_key text not null,
      delivery_id bigint,
      pumped_at timestamptz,
      primary key (workspace_id, id),
      unique (workspace_id, dedupe_key)
    )`.execute(db);
  await sql`create index signals_by_deal on signals (workspace_id, deal_id, occurred_at, id)`.execute(db);
  // The pump reads only what it has not handled yet; a partial index keeps that scan tiny.
  await sql`create index signals_unpumped on signals (id) where pumped_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table signals`.execute(db);
  await sql`drop table delivery_events`.execute(db);
  await sql`drop table deliveries`.execute(db);
  await sql`drop table sources`.execute(db);
}
