import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { webhookSourceNames, WebhookBodyError, type RawWebhookRequest, type WebhookResponse } from '../integrations/webhook-source.ts';
import { webhookAdapter } from '../integrations/registry.ts';
import { peekHubspotPortalIds } from '../integrations/hubspot/payload.ts';
import { errorBody } from '../http/error-handler.ts';
import { receiveDelivery, type ReceiveDeps, type ReceivePipeline } from './receive-delivery.ts';
import { DeliveryWriter } from './delivery-writer.ts';

/**
 * The URL the vendor called, as the vendor saw it. Signatures (HubSpot v3, Gong's JWT) cover it, so
 * behind a proxy it is rebuilt from PUBLIC_BASE_URL, or from X-Forwarded-* when TRUST_PROXY is on.
 */
export function publicUrlOf(request: FastifyRequest, config: Config): string {
  if (config.publicBaseUrl) return `${config.publicBaseUrl}${request.url}`;
  return `${request.protocol}://${request.host}${request.url}`;
}

function rawRequestOf(request: FastifyRequest, config: Config): RawWebhookRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const query: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
    query[name] = Array.isArray(value) ? String(value[0]) : value === undefined ? undefined : String(value);
  }
  return {
    method: request.method,
    publicUrl: publicUrlOf(request, config),
    headers,
    query,
    rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
  };
}

const json = (statusCode: number, code: string, message: string): WebhookResponse => ({
  statusCode,
  contentType: 'application/json',
  body: JSON.stringify(errorBody(code, message)),
});

export const webhookRoutes: FastifyPluginAsync<{ config: Config; receive: ReceiveDeps }> = async (app, { config, receive: deps }) => {
  // Deliveries arriving together are committed together (group commit); see delivery-writer.ts.
  const writer = new DeliveryWriter(deps.db, deps.logger, deps.pool ? { pool: deps.pool } : {});
  app.addHook('onClose', () => writer.idle());
  const receive: ReceivePipeline = { ...deps, store: writer.store };

  // Signatures are over the exact bytes received, so every body reaches the handlers unparsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const schema = { hide: false, tags: ['webhooks'] };

  app.post<{ Params: { workspaceId: string; source: string } }>('/webhooks/:workspaceId/:source', { schema: { ...schema, summary: 'Receive a vendor webhook for one workspace' } }, async (request, reply) => {
    const { workspaceId, source } = request.params;
    const adapter = webhookAdapter(source);
    const answer = adapter
      ? await receiveDelivery(receive, adapter, workspaceId, rawRequestOf(request, config))
      : json(404, 'unknown_source', `Unknown webhook source "${source}"; expected one of ${webhookSourceNames.join(', ')}`);
    return reply.code(answer.statusCode).type(answer.contentType).send(answer.body);
  });

  // HubSpot webhooks belong to an app, not an account: one URL for every portal, routed by portalId.
  app.post('/webhooks/hubspot', { schema: { ...schema, summary: 'Receive HubSpot app webhooks for every connected portal' } }, async (request, reply) => {
    const raw = rawRequestOf(request, config);
    const answer = await routeHubspot(raw);
    return reply.code(answer.statusCode).type(answer.contentType).send(answer.body);
  });

  async function routeHubspot(raw: RawWebhookRequest): Promise<WebhookResponse> {
    let portals: string[];
    try {
      portals = peekHubspotPortalIds(raw.rawBody);
    } catch (error) {
      if (error instanceof WebhookBodyError) return json(400, 'malformed_body', error.message);
      throw error;
    }
    if (portals.length !== 1) {
      return json(400, 'invalid_body', `A HubSpot delivery must carry events of exactly one portal; found ${portals.length}`);
    }
    const workspaceId = await receive.sources.workspaceFor('hubspot', portals[0]!);
    if (!workspaceId) {
      receive.metrics.webhooks.labels('hubspot', 'unknown_portal').inc();
      return json(404, 'unknown_portal', `No workspace has HubSpot portal ${portals[0]} configured`);
    }
    return receiveDelivery(receive, webhookAdapter('hubspot')!, workspaceId, raw);
  }
};
