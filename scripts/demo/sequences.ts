import type { DemoDeal, Delivery } from './delivery.ts';
import { dateFromNow, daysAgo, type DemoRun } from './run-context.ts';
import { docusignDelivery, type Envelope } from './vendors/docusign.ts';
import { gongDelivery } from './vendors/gong.ts';
import { hubspotDelivery, hubspotEvents, newHubspotDeal } from './vendors/hubspot.ts';
import { pandadocDelivery, type Proposal } from './vendors/pandadoc.ts';
import { contactRoleRecord, salesforceFlow, salesforceOutbound, salesforceRecords } from './vendors/salesforce.ts';

/**
 * The demo's deals and what happens to each over the simulated weeks, vendor by vendor. Every id
 * contains the run tag, so each run makes new deals and new vendor events (fresh decisions).
 */

const rep = { name: 'Rita Reyes', title: 'Account Executive', affiliation: 'Internal' as const };
const ownerId = '7301455';

function demoDeals(run: DemoRun) {
  const hubspotId = (n: number) => `3${run.runTag}00${n}`;
  return {
    northwind: { id: hubspotId(1), name: 'Northwind Traders', crm: 'HubSpot', story: 'discovery call, proposal, contract signed in DocuSign → Closed Won' },
    initech: { id: `0068d0000${run.runTag}QAA`, name: 'Initech platform', crm: 'Salesforce', story: 'discovery meeting, security review on a Gong call, then the champion leaves' },
    globex: { id: hubspotId(2), name: 'Globex renewal', crm: 'HubSpot', story: 'one check-in call, then silence for ten weeks' },
    umbrella: { id: hubspotId(3), name: 'Umbrella Corp', crm: 'HubSpot', story: 'competitive deal: a CTO on the call, a competitor, legal review' },
  } satisfies Record<string, DemoDeal>;
}

/** HubSpot contact ids for this run. */
const hubspotContact = (run: DemoRun, n: number) => `5${run.runTag}0${n}`;
/** Salesforce contact ids (003…) for this run. */
const salesforceContact = (run: DemoRun, n: number) => `0038d0000${run.runTag}${'ABCDEF'[n]}AA`;

function northwind(run: DemoRun, deal: DemoDeal): Delivery[] {
  const proposal: Proposal = {
    id: `nwPrp${run.runTag}`, name: 'Northwind Traders – Proposal', amount: 48_000,
    recipient: { email: 'casey.morgan@northwind.example', first_name: 'Casey', last_name: 'Morgan' }, dealKey: 'hubspot_deal_id',
  };
  const envelope: Envelope = {
    id: `5d1c${run.runTag}-7a2b-4c3d-9e8f-0a1b2c3d4e5f`, subject: 'Please sign: Northwind Traders MSA and order form',
    signer: { name: 'Casey Morgan', email: 'casey.morgan@northwind.example' }, dealField: 'hubspot_deal_id',
  };
  return [
    hubspotDelivery(run, deal, daysAgo(run, 26.2), 'deal created (Discovery, $48,000)', newHubspotDeal(deal, {
      stage: 'appointmentscheduled', amount: 48_000, closeDate: dateFromNow(run, 35), ownerId,
    })),
    hubspotDelivery(run, deal, daysAgo(run, 25.9), '2 contacts associated', [
      hubspotEvents.contact(deal, hubspotContact(run, 1)),
      hubspotEvents.contact(deal, hubspotContact(run, 2)),
    ]),
    gongDelivery(run, deal, daysAgo(run, 23.1), {
      title: 'Northwind | Discovery', minutes: 48,
      parties: [rep, { name: 'Priya Shah', title: 'Head of Operations', affiliation: 'External' }, { name: 'Casey Morgan', title: 'Chief Financial Officer', affiliation: 'External' }],
      trackers: { Pricing: [], Budget: [], Timeline: [] },
    }),
    // HubSpot webhooks carry no contact roles, and no source sends a "next step agreed" milestone,
    // so Discovery's exit gates stay open: the engine only suggests, and the rep moves the deal.
    hubspotDelivery(run, deal, daysAgo(run, 22.8), 'rep: pain documented, stage Qualified', [
      hubspotEvents.property(deal, 'pain_documented', 'true'),
      hubspotEvents.property(deal, 'budget_confirmed', 'true'),
      hubspotEvents.property(deal, 'dealstage', 'qualifiedtobuy'),
    ]),
    pandadocDelivery(run, deal, daysAgo(run, 19.0), 'document.sent', proposal),
    hubspotDelivery(run, deal, daysAgo(run, 18.9), 'rep: stage Presentation scheduled', [hubspotEvents.property(deal, 'dealstage', 'presentationscheduled')]),
    pandadocDelivery(run, deal, daysAgo(run, 18.4), 'document.viewed', proposal),
    hubspotDelivery(run, deal, daysAgo(run, 15.2), 'amount $52,000, close date moved', [
      hubspotEvents.property(deal, 'amount', '52000'),
      hubspotEvents.closeDate(deal, dateFromNow(run, 21)),
    ]),
    pandadocDelivery(run, deal, daysAgo(run, 12.3), 'document.completed', proposal),
    docusignDelivery(run, deal, daysAgo(run, 10.1), 'envelope-sent', envelope),
    docusignDelivery(run, deal, daysAgo(run, 6.0), 'envelope-completed', envelope),
  ];
}

function initech(run: DemoRun, deal: DemoDeal): Delivery[] {
  const created = daysAgo(run, 24.3);
  const champion = salesforceContact(run, 1);
  return [
    salesforceOutbound(run, deal, created, 'outbound message: Opportunity created (Qualification)', [
      salesforceRecords.opportunity(run, deal, created, {
        Name: 'Initech – Analytics platform', StageName: 'Qualification', Amount: '120000.0', CloseDate: dateFromNow(run, 45),
        Probability: '20.0', OwnerId: '0058d000001RepAAAA', CreatedDate: created.toISOString(),
      }),
    ]),
    salesforceFlow(run, deal, daysAgo(run, 23.8), 'Flow: contact roles Champion, Economic Buyer', [
      contactRoleRecord(run, deal, daysAgo(run, 23.8), champion, 'Champion'),
      contactRoleRecord(run, deal, daysAgo(run, 23.8), salesforceContact(run, 2), 'Economic Buyer'),
    ]),
    salesforceOutbound(run, deal, daysAgo(run, 21.0), 'outbound message: Event "Discovery call" 45 min', [
      salesforceRecords.event(run, deal, daysAgo(run, 21.0), 'Discovery call with Initech IT', 45),
    ]),
    salesforceOutbound(run, deal, daysAgo(run, 20.0), 'outbound message: Opportunity Id. Decision Makers', [
      salesforceRecords.opportunity(run, deal, daysAgo(run, 20.0), {
        StageName: 'Id. Decision Makers', Amount: '120000.0', CloseDate: dateFromNow(run, 45), Probability: '25.0', OwnerId: '0058d000001RepAAAA',
      }),
    ]),
    gongDelivery(run, deal, daysAgo(run, 16.2), {
      title: 'Initech | Platform walkthrough and security Q&A', minutes: 55,
      parties: [rep, { name: 'Alex Kim', title: 'VP Engineering', affiliation: 'External' }, { name: 'Dana Wu', title: 'IT Manager', affiliation: 'External' }],
      trackers: { Competitors: ['Globex Analytics'], Pricing: [], Security: [] },
    }),
    salesforceOutbound(run, deal, daysAgo(run, 13.0), 'outbound message: Opportunity Proposal/Price Quote, $110,000', [
      salesforceRecords.opportunity(run, deal, daysAgo(run, 13.0), {
        StageName: 'Proposal/Price Quote', Amount: '110000.0', CloseDate: dateFromNow(run, 45), Probability: '40.0', OwnerId: '0058d000001RepAAAA',
      }),
    ]),
    salesforceFlow(run, deal, daysAgo(run, 8.5), 'Flow: Champion contact role deleted (left Initech)', [
      contactRoleRecord(run, deal, daysAgo(run, 8.5), champion, 'Champion', true),
    ]),
  ];
}

function globex(run: DemoRun, deal: DemoDeal): Delivery[] {
  return [
    hubspotDelivery(run, deal, daysAgo(run, 77.0), 'deal created (Qualified, $30,000)', newHubspotDeal(deal, {
      stage: 'qualifiedtobuy', amount: 30_000, closeDate: dateFromNow(run, -12), ownerId,
    })),
    hubspotDelivery(run, deal, daysAgo(run, 76.6), 'contact associated', [hubspotEvents.contact(deal, hubspotContact(run, 5))]),
    gongDelivery(run, deal, daysAgo(run, 74.0), {
      title: 'Globex | Renewal check-in', minutes: 22,
      parties: [rep, { name: 'Lee Novak', title: 'Procurement Manager', affiliation: 'External' }],
      trackers: { Timeline: [] },
    }),
  ];
}

function umbrella(run: DemoRun, deal: DemoDeal): Delivery[] {
  const proposal: Proposal = {
    id: `umPrp${run.runTag}`, name: 'Umbrella Corp – Proposal', amount: 75_000,
    recipient: { email: 'morgan.lee@umbrella.example', first_name: 'Morgan', last_name: 'Lee' }, dealKey: 'hubspot_deal_id',
  };
  return [
    hubspotDelivery(run, deal, daysAgo(run, 13.1), 'deal created (Discovery, $75,000)', newHubspotDeal(deal, {
      stage: 'appointmentscheduled', amount: 75_000, closeDate: dateFromNow(run, 60), ownerId,
    })),
    hubspotDelivery(run, deal, daysAgo(run, 12.8), '3 contacts associated', [
      hubspotEvents.contact(deal, hubspotContact(run, 6)),
      hubspotEvents.contact(deal, hubspotContact(run, 7)),
      hubspotEvents.contact(deal, hubspotContact(run, 8)),
    ]),
    hubspotDelivery(run, deal, daysAgo(run, 9.2), 'meeting associated', [hubspotEvents.meeting(deal, `8${run.runTag}01`)]),
    gongDelivery(run, deal, daysAgo(run, 5.1), {
      title: 'Umbrella | Discovery', minutes: 41,
      parties: [rep, { name: 'Morgan Lee', title: 'Chief Technology Officer', affiliation: 'External' }, { name: 'Jo Park', title: 'Security Lead', affiliation: 'External' }],
      trackers: { Competitors: ['Acme Analytics'], Pricing: [], Legal: [] },
    }),
    hubspotDelivery(run, deal, daysAgo(run, 2.2), 'contact removed, close date pushed out', [
      hubspotEvents.contact(deal, hubspotContact(run, 8), true),
      hubspotEvents.closeDate(deal, dateFromNow(run, 75)),
    ]),
    pandadocDelivery(run, deal, daysAgo(run, 1.1), 'document.sent', proposal),
    pandadocDelivery(run, deal, daysAgo(run, 0.6), 'document.viewed', proposal),
  ];
}

export interface DemoScenario {
  deals: DemoDeal[];
  /** Every delivery of every deal, in the order the vendors' events happened. */
  deliveries: Delivery[];
}

export function demoScenario(run: DemoRun): DemoScenario {
  const deals = demoDeals(run);
  const deliveries = [
    ...northwind(run, deals.northwind),
    ...initech(run, deals.initech),
    ...globex(run, deals.globex),
    ...umbrella(run, deals.umbrella),
  ].sort((a, b) => a.at.getTime() - b.at.getTime());
  return { deals: Object.values(deals), deliveries };
}
