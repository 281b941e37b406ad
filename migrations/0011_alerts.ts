import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The people alerts reach: CRM owners (HubSpot owner ids, Salesforce user ids) with their
  // manager, time zone, working week and absences. Filled through the API or from the CRM.
  await sql`
    create table people (
      workspace_id text not null references workspaces (id) on delete cascade,
      owner_id text not null,
      name text,
      email text,
      manager_id text,
      time_zone text,
      working_days smallint[],
      work_start text,
      work_end text,
      out_of_office jsonb not null default '[]',
      slack_user_id text,
      source text not null default 'api' check (source in ('api', 'crm')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, owner_id)
    )`.execute(db);
  await sql`create index people_by_manager on people (workspace_id, manager_id)`.execute(db);

  // Per-workspace delivery settings that are not part of the playbook: the Slack incoming-webhook
  // URL is a credential (whoever holds it can post), so it is sealed and never shown back.
  await sql`
    create table alerting_settings (
      workspace_id text primary key references workspaces (id) on delete cascade,
      slack_webhook text,
      slack_last_sent_at timestamptz,
      slack_last_error jsonb,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);

  // One row per raise_alert decision, written in the decision's transaction.
  await sql`
    create table alerts (
      workspace_id text not null references workspaces (id) on delete cascade,
      id bigint generated always as identity,
      deal_id text not null,
      decision_id bigint not null,
      key text not null,
      rule_id text not null,
      tier text not null check (tier in ('critical', 'warning', 'opportunity')),
      alert_type text not null,
      reason text not null,
      recipients text[] not null,
      owner_id text,
      state text not null check (state in ('open', 'acknowledged', 'escalated', 'resolved', 'suppressed')),
      state_reason text,
      requires_ack boolean not null,
      rung integer not null default 0,
      flags text[] not null default '{}',
      opened_at timestamptz not null,
      next_escalation_at timestamptz,
      acknowledged_at timestamptz,
      acknowledged_by text,
      resolved_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, key)
    )`.execute(db);
  await sql`create index alerts_by_state on alerts (workspace_id, state, id desc)`.execute(db);
  await sql`create index alerts_by_deal on alerts (workspace_id, deal_id, alert_type, opened_at)`.execute(db);
  await sql`create index alerts_escalation_due on alerts (workspace_id, next_escalation_at) where next_escalation_at is not null`.execute(db);
  await sql`create index alerts_unresolved on alerts (workspace_id, deal_id) where state in ('open', 'acknowledged', 'escalated')`.execute(db);

  // A daily digest per recipient and local day; its Slack post or CRM task is tracked here.
  await sql`
    create table alert_digests (
      workspace_id text not null references workspaces (id) on delete cascade,
      id bigint generated always as identity,
      recipient_id text not null,
      local_date date not null,
      via text not null check (via in ('slack', 'crm_task')),
      item_count integer not null,
      payload jsonb not null,
      status text not null check (status in ('queued', 'retrying', 'sent', 'dead', 'shadow')),
      outbox_key text,
      attempts integer not null default 0,
      next_attempt_at timestamptz,
      last_error jsonb,
      sent_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, recipient_id, local_date)
    )`.execute(db);

  // Each channel × recipient × escalation rung of an alert. `dedupe_key` makes opening and
  // escalating idempotent; `due_at` holds quiet-hour deferrals.
  await sql`
    create table alert_deliveries (
      workspace_id text not null references workspaces (id) on delete cascade,
      id bigint generated always as identity,
      alert_id bigint not null,
      deal_id text not null,
      rung integer not null,
      channel text not null check (channel in ('crm_task', 'slack', 'digest')),
      recipient_id text,
      recipient_role text,
      dedupe_key text not null,
      status text not null check (status in ('pending', 'waiting', 'queued', 'retrying', 'sent', 'dead', 'shadow', 'skipped', 'folded', 'digested')),
      detail text,
      due_at timestamptz not null,
      payload jsonb,
      outbox_key text,
      digest_id bigint,
      attempts integer not null default 0,
      next_attempt_at timestamptz,
      last_error jsonb,
      handled_at timestamptz,
      sent_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, dedupe_key)
    )`.execute(db);
  await sql`create index alert_deliveries_by_alert on alert_deliveries (workspace_id, alert_id, id)`.execute(db);
  await sql`create index alert_deliveries_due on alert_deliveries (workspace_id, due_at) where status = 'pending'`.execute(db);
  await sql`create index alert_deliveries_waiting on alert_deliveries (workspace_id, recipient_id) where status = 'waiting'`.execute(db);
  // Fatigue counters look back over recent immediate deliveries per deal, recipient and workspace.
  await sql`create index alert_deliveries_recent on alert_deliveries (workspace_id, handled_at) where channel <> 'digest' and status in ('queued', 'retrying', 'sent', 'shadow')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table alert_deliveries`.execute(db);
  await sql`drop table alert_digests`.execute(db);
  await sql`drop table alerts`.execute(db);
  await sql`drop table alerting_settings`.execute(db);
  await sql`drop table people`.execute(db);
}
