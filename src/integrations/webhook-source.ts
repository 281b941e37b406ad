import type { z } from 'zod';
import type { SignalDraft } from '../signals/catalogue.ts';

/**
 * The contract every webhook vendor implements. An adapter is pure: no I/O, no clock of its own,
 * no database. The HTTP route feeds it the raw request and the workspace's stored source config,
 * and stores what it returns.
 *
 * Order matters: `verify` runs over the raw bytes BEFORE `parse`, so nothing an unauthenticated
 * sender wrote is ever interpreted beyond what verification itself needs.
 */

export const webhookSourceNames = ['hubspot', 'salesforce', 'docusign', 'pandadoc', 'gong'] as const;
export type WebhookSourceName = (typeof webhookSourceNames)[number];

export interface RawWebhookRequest {
  method: string;
  /** Full external URL including the query string, exactly as the vendor called it. */
  publicUrl: string;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  rawBody: Buffer;
}

/** `keyIndex` says which of several active secrets matched, so an admin can see when an old one is unused. */
export type VerifyResult = { ok: true; keyIndex?: number } | { ok: false; reason: string };

export type EventOutcome = 'accepted' | 'ignored' | 'unattributed' | 'echo' | 'test';

export interface NormalizedEvent {
  /** Stable per vendor event: a redelivery yields the same key (see docs/webhooks.md). */
  vendorEventId: string;
  eventType: string;
  outcome: EventOutcome;
  /** Why an event was ignored, unattributed, or treated as an echo. */
  reason?: string;
  signals: SignalDraft[];
}

export interface NormalizedDelivery {
  events: NormalizedEvent[];
}

export interface NormalizeContext {
  workspaceId: string;
  /** When the route received the request; used only where the vendor's payload carries no time. */
  receivedAt: Date;
}

/** What the route concluded about a delivery, so an adapter can answer in the vendor's own terms. */
export type DeliveryResult =
  | { status: 'accepted' }
  | { status: 'rejected'; statusCode: number; code: string; message: string };

export interface WebhookResponse {
  statusCode: number;
  contentType: string;
  body: string;
}

export interface WebhookSourceAdapter<Config, Parsed> {
  source: WebhookSourceName;
  /** What an admin PUTs for this source; fields named in `secretFields` are write-only. */
  configSchema: z.ZodType<Config>;
  secretFields: readonly string[];
  /** Media types (without parameters) the route accepts; anything else is answered with 415. */
  acceptedContentTypes: readonly string[];
  /** Never rejects; a failure reason never contains a secret. */
  verify(req: RawWebhookRequest, config: Config, now: Date): Promise<VerifyResult>;
  /** Throws only WebhookBodyError. */
  parse(req: RawWebhookRequest): Parsed;
  /** Never throws on a value `parse` returned. */
  normalize(parsed: Parsed, config: Config, ctx: NormalizeContext): NormalizedDelivery;
  /** Vendor-specific answer (Salesforce wants SOAP); without it the route uses `defaultAcknowledgement`. */
  acknowledge?(result: DeliveryResult, req: RawWebhookRequest): WebhookResponse;
}

/** The registry's view of an adapter whose config and parsed types are not known statically. */
export type AnyWebhookSourceAdapter = WebhookSourceAdapter<unknown, unknown>;

export type WebhookBodyErrorKind = 'malformed' | 'schema';

/** A body that is not what the vendor documents. The route answers 400 with `message` (and `path`). */
export class WebhookBodyError extends Error {
  readonly kind: WebhookBodyErrorKind;
  /** Where the first problem is, e.g. `[0].propertyName`; absent for malformed bodies. */
  readonly path: string | undefined;

  constructor(kind: WebhookBodyErrorKind, message: string, path?: string) {
    super(path === undefined ? message : `${message} (at ${path})`);
    this.name = 'WebhookBodyError';
    this.kind = kind;
    this.path = path;
  }
}

/** The JSON answer used for every vendor that does not define its own. */
export function defaultAcknowledgement(result: DeliveryResult): WebhookResponse {
  if (result.status === 'accepted') {
    return { statusCode: 200, contentType: 'application/json', body: JSON.stringify({ received: true }) };
  }
  return {
    statusCode: result.statusCode,
    contentType: 'application/json',
    body: JSON.stringify({ error: { code: result.code, message: result.message } }),
  };
}

/** What the route sends back: the adapter's own answer when it has one, else JSON. */
export function acknowledgeDelivery(
  adapter: AnyWebhookSourceAdapter,
  result: DeliveryResult,
  req: RawWebhookRequest,
): WebhookResponse {
  return adapter.acknowledge ? adapter.acknowledge(result, req) : defaultAcknowledgement(result);
}
