import {
  opportunityNotification,
  outboundMessageXml,
  salesforceOutboundRequest,
  signedSalesforceFlowRequest,
  type NotificationFixture,
} from '../../../src/integrations/salesforce/fixtures.ts';
import { webhookUrl, type DemoDeal, type Delivery } from '../delivery.ts';
import type { DemoRun } from '../run-context.ts';

/**
 * Salesforce: outbound messages (SOAP, `?token=`) carry the latest field values of a record;
 * Flow HTTP callouts (Momentum's JSON format, HMAC-signed) can send what outbound messages
 * cannot, such as a deleted contact role.
 */

type Fields = Record<string, string | null>;

/** A Notification or record id unique to this run: key prefix, run tag, counter, 18 characters in all. */
const recordId = (run: DemoRun, prefix: string) => `${prefix}8d0${run.runTag}${String(run.nextEventNumber()).padStart(3, '0')}AAA`;

export const salesforceRecords = {
  /** An opportunity as a stage-tracking outbound message selects it. */
  opportunity: (run: DemoRun, deal: DemoDeal, at: Date, fields: Fields): NotificationFixture =>
    opportunityNotification({ Id: deal.id, LastModifiedById: '0058d000001RepAAAA', LastModifiedDate: at.toISOString(), ...fields }, recordId(run, '04l')),
  /** A calendar event related to the opportunity (WhatId); the subject tells the meeting kind. */
  event: (run: DemoRun, deal: DemoDeal, at: Date, subject: string, minutes: number): NotificationFixture => ({
    id: recordId(run, '04l'),
    sObjectType: 'Event',
    fields: {
      Id: recordId(run, '00U'), WhatId: deal.id, Subject: subject, DurationInMinutes: String(minutes),
      StartDateTime: at.toISOString(), LastModifiedById: '0058d000001RepAAAA', LastModifiedDate: at.toISOString(),
    },
  }),
};

export function salesforceOutbound(run: DemoRun, deal: DemoDeal, at: Date, event: string, notifications: NotificationFixture[]): Delivery {
  const xml = outboundMessageXml({ organizationId: run.accounts.salesforceOrgId, notifications });
  return {
    at,
    vendor: 'salesforce',
    event,
    deal,
    build: () => salesforceOutboundRequest({ xml, token: run.secrets.salesforceUrlToken, url: webhookUrl(run, `/webhooks/${run.options.workspace}/salesforce`) }),
  };
}

/** A contact's role on the opportunity; `removed` is what a record-deleted Flow sends. */
export function contactRoleRecord(run: DemoRun, deal: DemoDeal, at: Date, contactId: string, role: string, removed = false) {
  return {
    id: `${recordId(run, '00K')}-${at.getTime()}`,
    object: 'OpportunityContactRole',
    fields: { Id: recordId(run, '00K'), OpportunityId: deal.id, ContactId: contactId, Role: role, IsPrimary: false, IsDeleted: removed },
    occurredAt: at.toISOString(),
  };
}

export function salesforceFlow(run: DemoRun, deal: DemoDeal, at: Date, event: string, records: ReturnType<typeof contactRoleRecord>[]): Delivery {
  const body = { organizationId: run.accounts.salesforceOrgId, events: records };
  return {
    at,
    vendor: 'salesforce',
    event,
    deal,
    build: () => signedSalesforceFlowRequest({ body, secret: run.secrets.salesforceFlowSecret, url: webhookUrl(run, `/webhooks/${run.options.workspace}/salesforce`) }),
  };
}
