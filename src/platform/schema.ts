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

export interface DB {
  workspaces: WorkspacesTable;
  admin_tokens: AdminTokensTable;
  sources: SourcesTable;
  deliveries: DeliveriesTable;
  delivery_events: DeliveryEventsTable;
  signals: SignalsTable;
}
