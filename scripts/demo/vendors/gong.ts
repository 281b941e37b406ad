import { gongCallBody, gongUrlTokenRequest } from '../../../src/integrations/gong/fixtures.ts';
import { webhookUrl, type DemoDeal, type Delivery } from '../delivery.ts';
import type { DemoRun } from '../run-context.ts';

/** Gong automation rule "Fire webhook" with "URL includes key": one call, linked to the deal. */

export interface Party {
  name: string;
  title?: string;
  affiliation: 'Internal' | 'External';
}

export interface GongCall {
  title: string;
  minutes: number;
  parties: Party[];
  /** Tracker name → phrases heard (an empty list still counts one hit). */
  trackers: Record<string, string[]>;
}

function callContext(deal: DemoDeal) {
  return deal.crm === 'Salesforce'
    ? { system: 'Salesforce', objects: [{ objectType: 'Opportunity', objectId: deal.id, fields: [] }] }
    : { system: 'HubSpot', objects: [{ objectType: 'Deal', objectId: deal.id, fields: [] }] };
}

export function gongDelivery(run: DemoRun, deal: DemoDeal, at: Date, call: GongCall): Delivery {
  const id = `77${run.runTag}${String(run.nextEventNumber()).padStart(10, '0')}`;
  const body = gongCallBody({
    callData: {
      metaData: {
        id, url: `https://app.gong.io/call?id=${id}`, title: call.title, scheduled: at.toISOString(), started: at.toISOString(),
        duration: call.minutes * 60, primaryUserId: '234599484848423', direction: 'Conference', system: 'Zoom', scope: 'External',
        media: 'Video', language: 'eng', isPrivate: false,
      },
      context: [callContext(deal)],
      parties: call.parties.map((party, i) => ({ id: String(i + 1), speakerId: `s${i + 1}`, ...party })),
      content: {
        trackers: Object.entries(call.trackers).map(([name, phrases], i) => ({
          id: `t${i + 1}`, name, count: Math.max(1, phrases.length), type: 'KEYWORD', phrases: phrases.map((phrase) => ({ phrase, count: 1 })),
        })),
      },
    },
  });
  return {
    at,
    vendor: 'gong',
    event: `call "${call.title}"`,
    deal,
    build: () => gongUrlTokenRequest({ body, token: run.secrets.gongUrlToken, url: webhookUrl(run, `/webhooks/${run.options.workspace}/gong?rule=demo-calls`) }),
  };
}
