import { CompiledQuery, sql } from 'kysely';
import type pg from 'pg';
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

/** JSON.stringify writes U+0000 as \u0000 and a lone surrogate as \udXXX; only then is cleaning needed. */
const SUSPECT_ESCAPE = /\\u0000|\\ud[89a-f]/i;

/** A jsonb parameter Postgres accepts; the common case costs one JSON.stringify. */
function jsonbParam(value: unknown): string {
  const text = JSON.stringify(value);
  return SUSPECT_ESCAPE.test(text) ? JSON.stringify(withoutNul(value)) : text;
}

/** One delivery's rows for a batch statement; `ord` is filled in by the batch. */
export interface PreparedDelivery {
  delivery: { workspace_id: string; source: string; content_type: string | null; headers: Record<string, string>; body_truncated: boolean; rejected_reason: string | null; event_count: number };
  body: Buffer | null;
  events: { seq: number; vendor_event_id: string; event_type: string; outcome: string; reason: string | null }[];
  signals: { event_id: string; deal_id: string; type: string; origin: string; occurred_at: string; payload: unknown; dedupe_key: string }[];
}

/**
 * Turns a delivery into rows. Throws (for this delivery alone, before it joins a batch) when its
 * data cannot be stored at all, e.g. an invalid date.
 */
export function prepareDelivery(delivery: DeliveryToStore): PreparedDelivery {
  return {
    delivery: {
      workspace_id: delivery.workspaceId,
      source: delivery.source,
      content_type: delivery.contentType,
      headers: delivery.headers,
      body_truncated: delivery.bodyTruncated ?? false,
      rejected_reason: delivery.rejectedReason ?? null,
      event_count: delivery.events.length,
    },
    body: delivery.rawBody,
    events: delivery.events.map((event, seq) => ({
      seq,
      vendor_event_id: event.vendorEventId,
      event_type: event.eventType,
      outcome: event.outcome,
      reason: event.reason ?? null,
    })),
    signals: delivery.events.flatMap((event) =>
      event.signals.map((signal) => ({
        event_id: event.vendorEventId,
        deal_id: signal.dealId,
        type: signal.type,
        origin: signal.origin,
        occurred_at: signal.occurredAt.toISOString(),
        payload: signal.payload,
        dedupe_key: signal.dedupeKey,
      })),
    ),
  };
}

interface StoreRow {
  ord: number;
  id: string;
  status: DeliveryStatus;
  event_count: number;
  signal_count: number;
}

const STORE_STATEMENT_NAME = 'momentum_store_deliveries';

/**
 * The batch statement: $1 deliveries, $2 their events, $3 their signals (jsonb arrays whose rows
 * carry `ord`, the delivery's place in the batch) and $4 the raw bodies (bytea[], by ord).
 */
const STORE_DELIVERIES_SQL = `
    with input as (
      select d.*, nextval(pg_get_serial_sequence('deliveries', 'id')) as id
      from jsonb_to_recordset($1::jsonb)
        as d(ord int, workspace_id text, source text, content_type text, headers jsonb, body_truncated boolean, rejected_reason text, event_count int)
    ),
    events as (
      select e.*, i.id as delivery_id, i.workspace_id, i.source,
             -- An event listed twice in one delivery is stored (and counted) once, as its first copy.
             row_number() over (partition by e.ord, e.vendor_event_id order by e.seq) as copy
      from jsonb_to_recordset($2::jsonb)
        as e(ord int, seq int, vendor_event_id text, event_type text, outcome text, reason text)
      join input i on i.ord = e.ord
    ),
    new_events as (
      insert into delivery_events (workspace_id, source, vendor_event_id, delivery_id, event_type, outcome, reason)
      select workspace_id, source, vendor_event_id, delivery_id, event_type, outcome, reason
      from events
      order by ord, seq
      on conflict do nothing
      returning delivery_id, vendor_event_id
    ),
    new_signals as (
      insert into signals (workspace_id, deal_id, type, source, origin, occurred_at, payload, dedupe_key, delivery_id)
      select i.workspace_id, s.deal_id, s.type, i.source, s.origin, s.occurred_at, s.payload, s.dedupe_key, i.id
      from jsonb_to_recordset($3::jsonb)
        as s(ord int, event_id text, deal_id text, type text, origin text, occurred_at timestamptz, payload jsonb, dedupe_key text)
      join input i on i.ord = s.ord
      where (i.id, s.event_id) in (select delivery_id, vendor_event_id from new_events)
      order by s.ord
      on conflict do nothing
      returning delivery_id
    ),
    signal_counts as (
      select delivery_id, count(*)::int as n from new_signals group by delivery_id
    ),
    summary as (
      select e.delivery_id,
             count(*)::int as new_events,
             bool_or(e.outcome in ('accepted', 'echo', 'test')) as any_accepted,
             bool_or(e.outcome = 'unattributed') as any_unattributed,
             (array_agg(e.reason order by e.seq) filter (where e.reason is not null))[1] as first_reason
      from events e
      where e.copy = 1 and (e.delivery_id, e.vendor_event_id) in (select delivery_id, vendor_event_id from new_events)
      group by e.delivery_id
    ),
    outcome as (
      select i.*,
             case
               when i.rejected_reason is not null then 'rejected'
               when i.event_count > 0 and coalesce(s.new_events, 0) = 0 then 'duplicate'
               when s.any_accepted then 'accepted'
               when s.any_unattributed then 'unattributed'
               else 'ignored'
             end as status,
             coalesce(i.rejected_reason, s.first_reason) as reason,
             coalesce(s.new_events, 0) as new_events,
             coalesce(c.n, 0) as new_signals
      from input i
      left join summary s on s.delivery_id = i.id
      left join signal_counts c on c.delivery_id = i.id
    ),
    stored as (
      insert into deliveries
        (workspace_id, id, source, status, reason, content_type, headers, raw_body, body_truncated, event_count, signal_count)
        overriding system value
      select o.workspace_id, o.id, o.source, o.status,
             case when o.status = 'duplicate' then 'every event in this delivery was received before' else o.reason end,
             o.content_type, o.headers,
             case when o.status = 'duplicate' then null else ($4::bytea[])[o.ord + 1] end,
             o.body_truncated, o.new_events, o.new_signals
      from outcome o
      order by o.ord
      returning id, status, event_count, signal_count
    )
    select o.ord, s.id, s.status, s.event_count, s.signal_count
    from stored s join outcome o on o.id = s.id
`;

/**
 * Stores a delivery, its vendor events and their signals in ONE statement, so it is atomic without
 * a transaction round trip and the webhook can be acknowledged as soon as it returns.
 */
export async function storeDelivery(db: Database, delivery: DeliveryToStore): Promise<StoredDelivery> {
  return (await storeDeliveries(db, [delivery]))[0]!;
}

/**
 * Stores many deliveries in ONE statement (one commit): all of them or, on an error, none.
 *
 * Exactly once: `delivery_events` is keyed by the vendor's own event identity; only events that
 * were not there before contribute signals. Events are inserted in batch order, so when two
 * deliveries of a batch carry the same event the earlier one gets it, as if stored one after the
 * other. A delivery whose every event was seen already is recorded as a duplicate, without its
 * body (the original holds it). Results come back in the order of `deliveries`.
 */
export async function storeDeliveries(db: Database, deliveries: DeliveryToStore[]): Promise<StoredDelivery[]> {
  return storePrepared(db, deliveries.map(prepareDelivery));
}

/**
 * `storeDeliveries` for deliveries already turned into rows. With `pool` the statement runs as a
 * prepared statement (never inside a transaction: use `db` for that).
 */
export async function storePrepared(db: Database, prepared: PreparedDelivery[], pool?: pg.Pool): Promise<StoredDelivery[]> {
  if (prepared.length === 0) return [];
  const rows = {
    deliveries: [] as (PreparedDelivery['delivery'] & { ord: number })[],
    bodies: [] as (Buffer | null)[],
    events: [] as (PreparedDelivery['events'][number] & { ord: number })[],
    signals: [] as (PreparedDelivery['signals'][number] & { ord: number })[],
  };
  prepared.forEach((one, ord) => {
    rows.deliveries.push({ ...one.delivery, ord });
    rows.bodies.push(one.body);
    for (const event of one.events) rows.events.push({ ...event, ord });
    for (const signal of one.signals) rows.signals.push({ ...signal, ord });
  });
  const values = [jsonbParam(rows.deliveries), jsonbParam(rows.events), jsonbParam(rows.signals), rows.bodies];
  // A named statement is parsed and planned once per connection; planning this one costs about as
  // much Postgres CPU as executing it for a batch of ten.
  const result = pool
    ? await pool.query<StoreRow>({ name: STORE_STATEMENT_NAME, text: STORE_DELIVERIES_SQL, values })
    : await db.executeQuery<StoreRow>(CompiledQuery.raw(STORE_DELIVERIES_SQL, values));
  const stored: StoredDelivery[] = new Array(prepared.length);
  for (const row of result.rows) {
    stored[row.ord] = { id: String(row.id), status: row.status, eventCount: row.event_count, signalCount: row.signal_count };
  }
  return stored;
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
