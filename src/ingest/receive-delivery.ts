import type pg from 'pg';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import {
  acknowledgeDelivery,
  WebhookBodyError,
  type AnyWebhookSourceAdapter,
  type RawWebhookRequest,
  type WebhookResponse,
} from '../integrations/webhook-source.ts';
import type { DeliveryToStore, StoredDelivery } from './delivery-store.ts';
import type { SourceCache } from './source-cache.ts';

export interface ReceiveDeps {
  db: Database;
  /** The pool behind `db`: with it, deliveries are stored by a prepared statement (planned once per connection). */
  pool?: pg.Pool;
  sources: SourceCache;
  metrics: Metrics;
  logger: Logger;
  /** Told when new signals were committed, so evaluation jobs are created promptly. */
  onSignalsStored: () => void;
  now: () => Date;
}

/** What the pipeline needs beyond ReceiveDeps: where deliveries are written (a DeliveryWriter's `store`). */
export interface ReceivePipeline extends ReceiveDeps {
  store: (delivery: DeliveryToStore) => Promise<StoredDelivery>;
}

/** Headers worth keeping for audit and replay; signatures and tokens are never stored. */
const KEPT_HEADERS = [
  'content-type',
  'user-agent',
  'x-request-id',
  'x-hubspot-request-timestamp',
  'x-hubspot-signature-version',
  'x-pandadoc-webhook-event-id',
  'x-forwarded-for',
];

/** A rejected body is kept for forensics, but only this much of it. */
export const REJECTED_BODY_CAP = 64 * 1024;

function keptHeaders(headers: RawWebhookRequest['headers']): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

const mediaType = (contentType: string | undefined) => contentType?.split(';')[0]?.trim().toLowerCase() ?? '';

/**
 * The webhook pipeline for one delivery: find the source, check the media type, verify the
 * signature over the raw bytes, parse, normalize, store (one statement, possibly shared with
 * deliveries arriving at the same moment), then answer. The answer
 * comes only after the data is committed; nothing is stored for an unverified request.
 */
export async function receiveDelivery(
  deps: ReceivePipeline,
  adapter: AnyWebhookSourceAdapter,
  workspaceId: string,
  req: RawWebhookRequest,
): Promise<WebhookResponse> {
  const count = (outcome: string) => deps.metrics.webhooks.labels(adapter.source, outcome).inc();
  const reject = (statusCode: number, code: string, message: string) => {
    count(code);
    return acknowledgeDelivery(adapter, { status: 'rejected', statusCode, code, message }, req);
  };

  const source = await deps.sources.source(adapter, workspaceId);
  if (!source) return reject(404, 'source_not_configured', `No ${adapter.source} source is configured for workspace ${workspaceId}`);

  const type = mediaType(req.headers['content-type']);
  if (!adapter.acceptedContentTypes.includes(type)) {
    return reject(415, 'unsupported_media_type', `${adapter.source} deliveries must be ${adapter.acceptedContentTypes.join(' or ')}, not "${type || 'none'}"`);
  }

  const now = deps.now();
  const verified = await adapter.verify(req, source.config, now);
  if (!verified.ok) {
    deps.logger.warn({ workspaceId, source: adapter.source, reason: verified.reason }, 'webhook refused');
    return reject(401, 'invalid_signature', verified.reason);
  }
  void deps.sources.noteVerified(workspaceId, adapter.source, now).catch((error: unknown) =>
    deps.logger.warn({ err: error }, 'could not record the verification time'),
  );

  let parsed: unknown;
  try {
    parsed = adapter.parse(req);
  } catch (error) {
    if (!(error instanceof WebhookBodyError)) throw error;
    const truncated = req.rawBody.length > REJECTED_BODY_CAP;
    await deps.store({
      workspaceId,
      source: adapter.source,
      contentType: req.headers['content-type'] ?? null,
      headers: keptHeaders(req.headers),
      rawBody: truncated ? req.rawBody.subarray(0, REJECTED_BODY_CAP) : req.rawBody,
      bodyTruncated: truncated,
      events: [],
      rejectedReason: error.message,
    });
    return reject(400, error.kind === 'malformed' ? 'malformed_body' : 'invalid_body', error.message);
  }

  const normalized = adapter.normalize(parsed, source.config, { workspaceId, receivedAt: now });
  const stored = await deps.store({
    workspaceId,
    source: adapter.source,
    contentType: req.headers['content-type'] ?? null,
    headers: keptHeaders(req.headers),
    rawBody: req.rawBody,
    events: normalized.events,
  });
  count(stored.status);
  if (stored.signalCount > 0) deps.onSignalsStored();
  deps.logger.debug({ workspaceId, source: adapter.source, deliveryId: stored.id, status: stored.status }, 'delivery stored');
  return acknowledgeDelivery(adapter, { status: 'accepted' }, req);
}
