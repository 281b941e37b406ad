import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One routing document per workspace: who can own deals, their territories, segments, weights
  // and open-deal limits. Managers, time zones and leave come from the people directory.
  await sql`
    create table routing_configs (
      workspace_id text primary key references workspaces (id) on delete cascade,
      config jsonb not null,
      updated_at timestamptz not null default now()
    )`.execute(db);

  // Round-robin state per pool (all owners, or one territory or segment). Every assignment locks
  // its pool's row, so several workers still produce one fair, gap-free rotation.
  await sql`
    create table routing_pools (
      workspace_id text not null references workspaces (id) on delete cascade,
      pool text not null,
      state jsonb not null default '{}',
      assigned bigint not null default 0,
      updated_at timestamptz not null default now(),
      primary key (workspace_id, pool)
    )`.execute(db);

  // Every routing outcome, with its explanation. Unsettled rows count toward an owner's open
  // deals until the CRM confirms the owner, so capacity holds before the echo arrives.
  await sql`
    create table routing_assignments (
      workspace_id text not null references workspaces (id) on delete cascade,
      id bigint generated always as identity,
      deal_id text not null,
      decision_key text not null,
      rule_id text not null,
      owner_id text,
      pool text,
      seq bigint,
      strategy text not null,
      explanation text not null,
      assigned_at timestamptz not null default now(),
      settled_at timestamptz,
      primary key (workspace_id, id),
      unique (workspace_id, decision_key)
    )`.execute(db);
  await sql`create index routing_assignments_by_deal on routing_assignments (workspace_id, deal_id, id desc)`.execute(db);
  await sql`create index routing_assignments_pending on routing_assignments (workspace_id, deal_id) where settled_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table routing_assignments`.execute(db);
  await sql`drop table routing_pools`.execute(db);
  await sql`drop table routing_configs`.execute(db);
}
