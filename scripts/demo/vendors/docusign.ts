import { docusignMessage, signedDocusignRequest } from '../../../src/integrations/docusign/fixtures.ts';
import { webhookUrl, type DemoDeal, type Delivery } from '../delivery.ts';
import type { DemoRun } from '../run-context.ts';

/** DocuSign Connect (JSON SIM, HMAC): the envelope's custom field names the CRM deal. */

export interface Envelope {
  id: string;
  subject: string;
  signer: { name: string; email: string };
  /** The envelope custom field holding the deal id, e.g. `hubspot_deal_id` or `opportunityId`. */
  dealField: string;
}

export function docusignDelivery(run: DemoRun, deal: DemoDeal, at: Date, event: 'envelope-sent' | 'envelope-delivered' | 'envelope-completed', envelope: Envelope): Delivery {
  const message = docusignMessage({ event, generatedDateTime: at.toISOString(), customFields: { [envelope.dealField]: deal.id } });
  const data = message.data as Record<string, unknown>;
  const summary = data.envelopeSummary as Record<string, unknown>;
  const done = event === 'envelope-completed';
  const body = {
    ...message,
    uri: `/restapi/v2.1/accounts/8f1c1234-acct/envelopes/${envelope.id}`,
    data: {
      ...data,
      envelopeId: envelope.id,
      envelopeSummary: {
        ...summary,
        status: event.replace('envelope-', ''),
        emailSubject: envelope.subject,
        recipients: {
          signers: [{ ...envelope.signer, recipientId: '1', status: done ? 'completed' : 'sent', ...(done ? { signedDateTime: at.toISOString() } : {}) }],
        },
      },
    },
  };
  return {
    at,
    vendor: 'docusign',
    event,
    deal,
    build: () => signedDocusignRequest({ body, keys: [run.secrets.docusignHmacKey], url: webhookUrl(run, `/webhooks/${run.options.workspace}/docusign`) }),
  };
}
