import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';
import type { DeliveryStatus } from '../platform/schema.ts';
import type { NormalizedEvent, WebhookSourceName } from '../integrations/webhook-source.ts';

export interface DeliveryToStore {
  workspaceId: string;
  source: WebhookSourceName;
  contentType: string | null;
  headers: Record<string, string>;
  rawBody: Buffer | null;
  bodyTruncated?: boolean;
  events: NormalizedEvent[];
  /** Set for deliveries refused after verification (a body that fails the vendor's schema). */
  rejectedReason?: string;
}

/** An unpaired UTF-16 surrogate: JSON.stringify writes it as "\ud800", which jsonb refuses. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Postgres text and jsonb cannot hold U+0000, nor jsonb a lone surrogate, but a verified vendor body
 * can (a JSON "\u0000" or "\ud800", or a parser message quoting one). Each is stored as U+FFFD so the
 * delivery is kept, not a 500.
 */
function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATE, '\uFFFD') as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [withoutNul(key), withoutNul(item)])) as T;
  }
  return value;
}

export interface StoredDelivery {
  id: string;
  status: DeliveryStatus;
  eventCount: number;
  signalCount: number;
}

/**
 * Stores a delivery, its vendor events and their signals in ONE statement, so it is atomic without
 * a transaction round trip and the webhook can be acknowledged as soon as it returns.
 *
 * Exactly once: `delivery_events` is keyed by the vendor's own event identity; only events that
 * were not there before contribute signals. A delivery whose every event was seen already is
 * recorded as a duplicate, without its body (the original holds it).
 */
export async function storeDelivery(db: Database, delivery: DeliveryToStore): Promise<StoredDelivery> {
  const events = withoutNul(delivery.events.map((event) => ({
    vendor_event_id: event.vendorEventId,
    event_type: event.eventType,
    outcome: event.outcome,
    reason: event.reason ?? null,
  })));
  const rejectedReason = delivery.rejectedReason === undefined ? null : withoutNul(delivery.rejectedReason);
  const signals = withoutNul(delivery.events.flatMap((event) =>
    event.signals.map((signal) => ({
      event_id: event.vendorEventId,
      deal_id: signal.dealId,
      type: signal.type,
      origin: signal.origin,
      occurred_at: signal.occurredAt.toISOString(),
      payload: signal.payload,
      dedupe_key: signal.dedupeKey,
    })),
  ));
  const result = await sql<{ id: string; status: DeliveryStatus; event_count: number; signal_count: number }>`
    with delivery as (
      select nextval(pg_get_serial_sequence('deliveries', 'id')) as id
    ),
    new_events as (
      insert into delivery_events (workspace_id, source, vendor_event_id, delivery_id, event_type, outcome, reason)
      select ${delivery.workspaceId}, ${delivery.source}, e.vendor_event_id, (select id from delivery), e.event_type, e.outcome, e.reason
      from jsonb_to_recordset(${JSON.stringify(events)}::jsonb)
        as e(vendor_event_id text, event_type text, outcome text, reason text)
      on conflict do nothing
      returning vendor_event_id, outcome, reason
    ),
    new_signals as (
      insert into signals (workspace_id, deal_id, type, source, origin, occurred_at, payload, dedupe_key, delivery_id)
      select ${delivery.workspaceId}, s.deal_id, s.type, ${delivery.source}, s.origin, s.occurred_at, s.payload, s.dedupe_key, (select id from delivery)
      from jsonb_to_recordset(${JSON.stringify(signals)}::jsonb)
        as s(event_id text, deal_id text, type text, origin text, occurred_at timestamptz, payload jsonb, dedupe_key text)
      where s.event_id in (select vendor_event_id from new_events)
      on conflict do nothing
      returning 1
    ),
    summary as (
      select count(*)::int as new_events,
             coalesce(bool_or(outcome in ('accepted', 'echo', 'test')), false) as any_accepted,
             coalesce(bool_or(outcome = 'unattributed'), false) as any_unattributed,
             (select reason from new_events where reason is not null limit 1) as first_reason
      from new_events
    ),
    outcome as (
      select case
               when ${rejectedReason}::text is not null then 'rejected'
               when ${events.length}::int > 0 and new_events = 0 then 'duplicate'
               when any_accepted then 'accepted'
               when any_unattributed then 'unattributed'
               else 'ignored'
             end as status,
             coalesce(${rejectedReason}::text, first_reason) as reason,
             new_events
      from summary
    )
    insert into deliveries
      (workspace_id, id, source, status, reason, content_type, headers, raw_body, body_truncated, event_count, signal_count)
      overriding system value
    select ${delivery.workspaceId}, (select id from delivery), ${delivery.source}, o.status,
           case when o.status = 'duplicate' then 'every event in this delivery was received before' else o.reason end,
           ${delivery.contentType}, ${JSON.stringify(delivery.headers)}::jsonb,
           case when o.status = 'duplicate' then null else ${delivery.rawBody}::bytea end,
           ${delivery.bodyTruncated ?? false}, o.new_events, (select count(*)::int from new_signals)
    from outcome o
    returning id, status, event_count, signal_count
  `.execute(db);
  const row = result.rows[0]!;
  return { id: String(row.id), status: row.status, eventCount: row.event_count, signalCount: row.signal_count };
}

/** Replays a stored delivery's events: only events and signals not stored before are added. */
export async function storeReplayedEvents(
  db: Database,
  delivery: { workspaceId: string; source: WebhookSourceName; id: string },
  events: NormalizedEvent[],
): Promise<{ newEvents: number; newSignals: number }> {
  const eventRows = withoutNul(events.map((e) => ({ vendor_event_id: e.vendorEventId, event_type: e.eventType, outcome: e.outcome, reason: e.reason ?? null })));
  const signalRows = withoutNul(events.flatMap((event) =>
    event.signals.map((s) => ({
      deal_id: s.dealId,
      type: s.type,
      origin: s.origin,
      occurred_at: s.occurredAt.toISOString(),
      payload: s.payload,
      dedupe_key: s.dedupeKey,
    })),
  ));
  // Unlike first receipt, signals of events already in the ledger are offered again: a replay
  // after a fix may produce signals the first pass missed. Their dedupe keys keep them unique.
  const result = await sql<{ new_events: number; new_signals: number }>`
    with new_events as (
      insert into delivery_events (workspace_id, source, vendor_event_id, delivery_id, event_type, outcome, reason)
      select ${delivery.workspaceId}, ${delivery.source}, e.vendor_event_id, ${delivery.id}::bigint, e.event_type, e.outcome, e.reason
      from jsonb_to_recordset(${JSON.stringify(eventRows)}::jsonb) as e(vendor_event_id text, event_type text, outcome text, reason text)
      on conflict do nothing
      returning 1
    ),
    new_signals as (
      insert into signals (workspace_id, deal_id, type, source, origin, occurred_at, payload, dedupe_key, delivery_id)
      select ${delivery.workspaceId}, s.deal_id, s.type, ${delivery.source}, s.origin, s.occurred_at, s.payload, s.dedupe_key, ${delivery.id}::bigint
      from jsonb_to_recordset(${JSON.stringify(signalRows)}::jsonb)
        as s(deal_id text, type text, origin text, occurred_at timestamptz, payload jsonb, dedupe_key text)
      on conflict do nothing
      returning 1
    )
    select (select count(*)::int from new_events) as new_events, (select count(*)::int from new_signals) as new_signals
  `.execute(db);
  const row = result.rows[0]!;
  return { newEvents: row.new_events, newSignals: row.new_signals };
}
