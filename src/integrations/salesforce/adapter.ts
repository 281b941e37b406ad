import { defaultAcknowledgement } from '../webhook-source.ts';
import type { WebhookSourceAdapter } from '../webhook-source.ts';
import { normalizeSalesforceDelivery } from './normalize.ts';
import { isFlowCallout, parseSalesforceDelivery } from './payload.ts';
import type { SalesforceDelivery } from './payload.ts';
import { verifySalesforceRequest } from './signature.ts';
import { outboundMessageAck, soapFault } from './soap.ts';
import { salesforceSecretFields, salesforceSourceConfig } from './source-config.ts';
import type { SalesforceSourceConfig } from './source-config.ts';

export const salesforceAdapter: WebhookSourceAdapter<SalesforceSourceConfig, SalesforceDelivery> = {
  source: 'salesforce',
  configSchema: salesforceSourceConfig,
  secretFields: salesforceSecretFields,
  acceptedContentTypes: ['text/xml', 'application/json'],
  verify: (req, config) => Promise.resolve(verifySalesforceRequest(req, config)),
  parse: parseSalesforceDelivery,
  normalize: normalizeSalesforceDelivery,
  // Outbound messages are answered in SOAP: an Ack stops Salesforce's retries, a fault explains a refusal.
  acknowledge: (result, req) => {
    if (isFlowCallout(req)) return defaultAcknowledgement(result);
    if (result.status === 'accepted') return { statusCode: 200, contentType: 'text/xml; charset=utf-8', body: outboundMessageAck };
    return { statusCode: result.statusCode, contentType: 'text/xml; charset=utf-8', body: soapFault(result.statusCode, result.message) };
  },
};
