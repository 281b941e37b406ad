import { createHash, randomBytes } from 'node:crypto';
import type { DemoOptions } from './options.ts';

export const DAY_MS = 86_400_000;

/** Secrets the demo generates on every run and configures on the sources before using them. */
export interface DemoSecrets {
  hubspotClientSecret: string;
  salesforceUrlToken: string;
  salesforceFlowSecret: string;
  docusignHmacKey: string;
  pandadocSharedKey: string;
  gongUrlToken: string;
}

/** Account ids the demo's vendors "belong" to; stable per workspace so re-runs replace, not add. */
export interface DemoAccounts {
  hubspotPortalId: string;
  hubspotAppId: string;
  salesforceOrgId: string;
  salesforceIntegrationUserId: string;
}

export interface DemoRun {
  options: DemoOptions;
  /** Six digits from the clock: every deal, contact and vendor event id of this run contains it. */
  runTag: string;
  /** The instant the simulated weeks end; every vendor event time lies before it. */
  startedAt: number;
  secrets: DemoSecrets;
  accounts: DemoAccounts;
  /** A fresh number for a vendor event id, unique within the run. */
  nextEventNumber(): number;
}

const secret = (prefix: string) => `${prefix}${randomBytes(24).toString('base64url')}`;

/** HubSpot routes by portal and a portal can belong to one workspace only, so each workspace gets its own. */
function portalIdFor(workspaceId: string): string {
  const hash = createHash('sha256').update(`momentum-demo:${workspaceId}`).digest();
  return String(20_000_000 + (hash.readUInt32BE(0) % 70_000_000));
}

export function createRun(options: DemoOptions, now = Date.now()): DemoRun {
  let eventNumber = 0;
  return {
    options,
    runTag: String(Math.floor(now / 1000) % 1_000_000).padStart(6, '0'),
    startedAt: now,
    secrets: {
      hubspotClientSecret: randomBytes(18).toString('hex'),
      salesforceUrlToken: secret('sf-'),
      salesforceFlowSecret: secret('flow-'),
      docusignHmacKey: randomBytes(32).toString('base64'),
      pandadocSharedKey: randomBytes(20).toString('hex'),
      gongUrlToken: secret('gong-'),
    },
    accounts: {
      hubspotPortalId: portalIdFor(options.workspace),
      hubspotAppId: '4012876',
      salesforceOrgId: '00D8d000004DeMoEAG',
      salesforceIntegrationUserId: '0058d000002IntgAAA',
    },
    nextEventNumber: () => ++eventNumber,
  };
}

/** `days` (fractional allowed) before the end of the simulated period. */
export function daysAgo(run: DemoRun, days: number): Date {
  return new Date(run.startedAt - Math.round(days * DAY_MS));
}

/** A calendar date `days` from the end of the simulated period, as YYYY-MM-DD. */
export function dateFromNow(run: DemoRun, days: number): string {
  return new Date(run.startedAt + days * DAY_MS).toISOString().slice(0, 10);
}
