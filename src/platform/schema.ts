import type { ColumnType, Generated } from 'kysely';

/**
 * Table types for kysely. bigint ids come back from pg as strings: ids are strings in the API
 * anyway, and strings never lose precision.
 */

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
type BigId = ColumnType<string, never, never>;
type Json<T> = ColumnType<T, string, string>;

export interface WorkspacesTable {
  id: string;
  name: string;
  mode: 'shadow' | 'live';
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface AdminTokensTable {
  id: Generated<string>;
  name: string;
  token_hash: string;
  workspace_id: string | null;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface SourcesTable {
  workspace_id: string;
  source: string;
  config: Json<Record<string, unknown>>;
  secrets: string | null;
  routing_key: string | null;
  last_verified_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type DeliveryStatus = 'accepted' | 'duplicate' | 'ignored' | 'unattributed' | 'rejected';

export interface DeliveriesTable {
  workspace_id: string;
  id: BigId;
  source: string;
  status: DeliveryStatus;
  reason: string | null;
  received_at: CreatedAt;
  content_type: string | null;
  headers: Json<Record<string, string>>;
  raw_body: Buffer | null;
  body_truncated: Generated<boolean>;
  event_count: Generated<number>;
  signal_count: Generated<number>;
}

export interface DeliveryEventsTable {
  workspace_id: string;
  source: string;
  vendor_event_id: string;
  delivery_id: string;
  event_type: string;
  outcome: string;
  reason: string | null;
  created_at: CreatedAt;
}

export interface SignalsTable {
  workspace_id: string;
  id: BigId;
  deal_id: string;
  type: string;
  source: string;
  origin: string;
  occurred_at: Date | string;
  received_at: CreatedAt;
  payload: Json<Record<string, unknown>>;
  dedupe_key: string;
  delivery_id: string | null;
  pumped_at: Date | null;
}

export interface PlaybooksTable {
  workspace_id: string;
  version: number;
  document: Json<Record<string, unknown>>;
  source_text: string;
  format: 'yaml' | 'json';
  created_at: CreatedAt;
  created_by: string | null;
}

export interface DealsTable {
  workspace_id: string;
  deal_id: string;
  provider: 'hubspot' | 'salesforce';
  state: Json<Record<string, unknown>>;
  stage: string | null;
  crm_stage: string | null;
  stage_entered_at: Date | string | null;
  close_date: string | null;
  last_activity_at: Date | string | null;
  owner_id: string | null;
  health_score: number | null;
  is_closed: Generated<boolean>;
  playbook_version: number | null;
  evaluated_at: Date | string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface DecisionsTable {
  workspace_id: string;
  id: BigId;
  deal_id: string;
  key: string;
  type: string;
  rule_id: string;
  mode: string;
  reason: string;
  signal_ids: string[];
  playbook_version: number;
  trigger: string;
  body: Json<Record<string, unknown>>;
  status: string;
  decided_at: Date | string;
  created_at: CreatedAt;
}

export interface ConnectionsTable {
  workspace_id: string;
  provider: 'hubspot' | 'salesforce';
  config: Json<Record<string, unknown>>;
  secrets: string;
  tokens: string | null;
  token_expires_at: Date | null;
  last_test: Json<Record<string, unknown>> | null;
  last_tested_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'dead' | 'shadow' | 'superseded' | 'held';

export interface OutboxTable {
  workspace_id: string;
  id: BigId;
  deal_id: string;
  decision_id: string | null;
  kind: 'deal_update' | 'task' | 'note' | 'complete_task';
  idempotency_key: string;
  payload: Json<Record<string, unknown>>;
  status: OutboxStatus;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  last_error: Json<Record<string, unknown>> | null;
  crm_id: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  sent_at: Date | null;
}

export interface ApprovalsTable {
  workspace_id: string;
  id: BigId;
  deal_id: string;
  decision_id: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired' | 'obsolete';
  expires_at: Date | string;
  decided_by: string | null;
  decided_reason: string | null;
  decided_at: Date | null;
  created_at: CreatedAt;
}

export interface WorkerHeartbeatsTable {
  worker_id: string;
  pid: number;
  host: string;
  started_at: CreatedAt;
  seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface RoutingConfigsTable {
  workspace_id: string;
  config: Json<Record<string, unknown>>;
  updated_at: UpdatedAt;
}

export interface RoutingPoolsTable {
  workspace_id: string;
  pool: string;
  state: Json<Record<string, unknown>>;
  assigned: ColumnType<string, string | number | undefined, string | number>;
  updated_at: UpdatedAt;
}

export interface RoutingAssignmentsTable {
  workspace_id: string;
  id: BigId;
  deal_id: string;
  decision_key: string;
  rule_id: string;
  owner_id: string | null;
  pool: string | null;
  seq: string | null;
  strategy: string;
  explanation: string;
  assigned_at: CreatedAt;
  settled_at: Date | null;
}

export interface CrmRateLimitsTable {
  bucket: string;
  recent: Generated<Date[]>;
  day: Generated<string>;
  day_count: Generated<number>;
  daily_used: number | null;
  daily_limit: number | null;
  paused_until: Date | null;
  updated_at: UpdatedAt;
}

export interface PeopleTable {
  workspace_id: string;
  owner_id: string;
  name: string | null;
  email: string | null;
  manager_id: string | null;
  time_zone: string | null;
  working_days: number[] | null;
  work_start: string | null;
  work_end: string | null;
  out_of_office: Json<Array<{ from: string; to: string }>>;
  slack_user_id: string | null;
  /** Derived from `crm` and `api_fields` (migrations/0015_people_from_crm.ts). */
  source: ColumnType<'api' | 'crm' | 'crm+api', never, never>;
  /** What the CRM said at its last reading; null when the CRM never listed this person. */
  crm: Json<CrmPersonValues> | null;
  /** Fields set through the API; they win over the CRM's values. */
  api_fields: Generated<string[]>;
  active: Generated<boolean>;
  inactive_since: Date | null;
  inactive_reason: string | null;
  crm_seen_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface CrmPersonValues {
  name: string | null;
  email: string | null;
  managerId?: string | null;
  timeZone?: string | null;
}

/** The last reading of a workspace's CRM owners/users (migrations/0015_people_from_crm.ts). */
export interface PeopleSyncStateTable {
  workspace_id: string;
  status: Generated<'queued' | 'running' | 'waiting' | 'completed' | 'failed'>;
  reason: string | null;
  requested_at: Generated<Date>;
  started_at: Date | null;
  finished_at: Date | null;
  people: Generated<number>;
  deactivated: Generated<number>;
  error: Json<Record<string, unknown>> | null;
  updated_at: UpdatedAt;
}

export interface AlertingSettingsTable {
  workspace_id: string;
  slack_webhook: string | null;
  slack_last_sent_at: Date | null;
  slack_last_error: Json<Record<string, unknown>> | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** When the recurring job sweeps a workspace (migrations/0016_sweep_interval.ts). */
export interface SweepSchedulesTable {
  workspace_id: string;
  interval_minutes: number;
  last_swept_at: Date | null;
  updated_at: Date | null;
}

export type AlertState = 'open' | 'acknowledged' | 'escalated' | 'resolved' | 'suppressed';

export interface AlertsTable {
  workspace_id: string;
  id: BigId;
  deal_id: string;
  decision_id: string;
  key: string;
  rule_id: string;
  tier: 'critical' | 'warning' | 'opportunity';
  alert_type: string;
  reason: string;
  recipients: string[];
  owner_id: string | null;
  state: AlertState;
  state_reason: string | null;
  requires_ack: boolean;
  rung: Generated<number>;
  flags: Generated<string[]>;
  opened_at: Date | string;
  next_escalation_at: Date | string | null;
  acknowledged_at: Date | string | null;
  acknowledged_by: string | null;
  resolved_at: Date | string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type AlertDeliveryStatus = 'pending' | 'waiting' | 'queued' | 'retrying' | 'sent' | 'dead' | 'shadow' | 'skipped' | 'folded' | 'digested';

export interface AlertDeliveriesTable {
  workspace_id: string;
  id: BigId;
  alert_id: string;
  deal_id: string;
  rung: number;
  channel: 'crm_task' | 'slack' | 'digest';
  recipient_id: string | null;
  recipient_role: string | null;
  dedupe_key: string;
  status: AlertDeliveryStatus;
  detail: string | null;
  due_at: Date | string;
  payload: Json<Record<string, unknown>> | null;
  outbox_key: string | null;
  digest_id: string | null;
  attempts: Generated<number>;
  next_attempt_at: Date | string | null;
  last_error: Json<Record<string, unknown>> | null;
  handled_at: Date | string | null;
  sent_at: Date | string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface AlertDigestsTable {
  workspace_id: string;
  id: BigId;
  recipient_id: string;
  local_date: string;
  via: 'slack' | 'crm_task';
  item_count: number;
  payload: Json<Record<string, unknown>>;
  status: 'queued' | 'retrying' | 'sent' | 'dead' | 'shadow';
  outbox_key: string | null;
  attempts: Generated<number>;
  next_attempt_at: Date | string | null;
  last_error: Json<Record<string, unknown>> | null;
  sent_at: Date | string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SyncStateTable {
  workspace_id: string;
  import_status: Generated<'idle' | 'queued' | 'running' | 'waiting' | 'completed' | 'failed'>;
  import_reason: string | null;
  import_activity_days: Generated<number>;
  import_requested_at: Date | null;
  import_started_at: Date | null;
  import_finished_at: Date | null;
  import_run_id: string | null;
  import_lease_until: Date | null;
  import_cursor: string | null;
  import_pages: Generated<number>;
  import_deals: Generated<number>;
  import_activities: Generated<number>;
  import_signals: Generated<number>;
  import_total: number | null;
  import_error: Json<Record<string, unknown>> | null;
  watermark: Date | null;
  reconcile_started_at: Date | null;
  reconcile_finished_at: Date | null;
  reconcile_runs: Generated<number>;
  reconcile_deals: Generated<number>;
  reconcile_missed: Generated<number>;
  reconcile_last_missed: Generated<number>;
  reconcile_closed: Generated<number>;
  reconcile_failures: Generated<number>;
  reconcile_error: Json<Record<string, unknown>> | null;
  reconcile_error_at: Date | null;
  existence_cursor: string | null;
  updated_at: UpdatedAt;
}

export interface ConsoleSessionsTable {
  id_hash: string;
  admin_token_id: string;
  created_at: CreatedAt;
  expires_at: Date;
}

export interface DB {
  workspaces: WorkspacesTable;
  admin_tokens: AdminTokensTable;
  console_sessions: ConsoleSessionsTable;
  sources: SourcesTable;
  deliveries: DeliveriesTable;
  delivery_events: DeliveryEventsTable;
  signals: SignalsTable;
  playbooks: PlaybooksTable;
  deals: DealsTable;
  decisions: DecisionsTable;
  connections: ConnectionsTable;
  outbox: OutboxTable;
  approvals: ApprovalsTable;
  routing_configs: RoutingConfigsTable;
  routing_pools: RoutingPoolsTable;
  routing_assignments: RoutingAssignmentsTable;
  crm_rate_limits: CrmRateLimitsTable;
  worker_heartbeats: WorkerHeartbeatsTable;
  people: PeopleTable;
  people_sync_state: PeopleSyncStateTable;
  alerting_settings: AlertingSettingsTable;
  sweep_schedules: SweepSchedulesTable;
  alerts: AlertsTable;
  alert_deliveries: AlertDeliveriesTable;
  alert_digests: AlertDigestsTable;
  sync_state: SyncStateTable;
}
