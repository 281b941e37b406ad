import { pandadocDocumentData, pandadocEvent, signedPandadocRequest } from '../../../src/integrations/pandadoc/fixtures.ts';
import { webhookUrl, type DemoDeal, type Delivery } from '../delivery.ts';
import type { DemoRun } from '../run-context.ts';

/** PandaDoc: document state changes, signed in the query string; the metadata names the deal. */

export interface Proposal {
  id: string;
  name: string;
  amount: number;
  recipient: { email: string; first_name: string; last_name: string };
  /** The metadata key holding the deal id, e.g. `hubspot_deal_id` or `salesforce_opportunity_id`. */
  dealKey: string;
}

export function pandadocDelivery(run: DemoRun, deal: DemoDeal, at: Date, status: 'document.sent' | 'document.viewed' | 'document.completed', proposal: Proposal): Delivery {
  const data = pandadocDocumentData({
    id: proposal.id,
    name: proposal.name,
    status,
    date_modified: at.toISOString(),
    metadata: { [proposal.dealKey]: deal.id },
    recipients: [{ ...proposal.recipient, role: 'Client', recipient_type: 'signer', has_completed: status === 'document.completed', shared_link: '' }],
    grand_total: { amount: proposal.amount.toFixed(2), currency: 'USD' },
  });
  const body = [pandadocEvent('document_state_changed', data)];
  // The event-id header is PandaDoc's dedupe key; a new one per run makes each run's events new.
  const eventId = `${run.runTag}-${proposal.id}-${status}`;
  return {
    at,
    vendor: 'pandadoc',
    event: `document_state_changed ${status}`,
    deal,
    build: () => signedPandadocRequest({ body, key: run.secrets.pandadocSharedKey, eventId, url: webhookUrl(run, `/webhooks/${run.options.workspace}/pandadoc`) }),
  };
}
