import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { isCrmError } from '../crm/errors.ts';
import type { CrmPeoplePage, CrmPerson, CrmProvider } from '../crm/types.ts';
import type { CrmTarget } from '../writeback/flush-outbox.ts';
import { createCallGate, SyncDeferred } from '../sync/call-gate.ts';
import { readWithRetries } from '../sync/page-retry.ts';
import { isTimeZone } from './local-time.ts';
import { applyCrmPeople, deactivateUnlisted, type CrmEntry } from './people-store.ts';
import { finishPeopleSync, markPeopleSyncRunning, queuePeopleSyncJob } from './people-sync-store.ts';

export interface PeopleSyncDeps {
  db: Database;
  logger: Logger;
  crmFor(workspaceId: string): Promise<CrmTarget | undefined>;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Rate-limit waits up to this long happen in place; longer ones reschedule the job. */
  maxInlineWaitMs?: number;
  /** First delay of the in-place retries after a 5xx or network error. */
  retryDelayMs?: number;
}

export type PeopleSyncOutcome =
  | { status: 'completed'; people: number; deactivated: number }
  | { status: 'deferred'; until: Date }
  | { status: 'failed'; error: string };

const crmName: Record<CrmProvider, string> = { hubspot: 'HubSpot', salesforce: 'Salesforce' };
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A CRM person as a directory entry: time zones the runtime does not know are left out. */
export function crmEntryOf(person: CrmPerson, provider: CrmProvider): CrmEntry {
  const values: CrmEntry['values'] = { name: person.name, email: person.email };
  if (person.managerId !== undefined) values.managerId = person.managerId;
  if (person.timeZone !== undefined) values.timeZone = person.timeZone !== null && isTimeZone(person.timeZone) ? person.timeZone : null;
  return {
    ownerId: person.id,
    values,
    active: person.active,
    inactiveReason: person.active ? null : provider === 'hubspot' ? 'archived in HubSpot' : 'deactivated in Salesforce',
  };
}

/**
 * Reads every owner (HubSpot) or user (Salesforce) through the shared rate limiter, one page at a
 * time, and merges each page into the directory: CRM values fill what the API has not set. After
 * the last page, people the CRM listed before but no longer does become inactive. A 429 pauses the
 * account for every process; a long wait ends the run and queues it again for later.
 */
export async function runPeopleSync(deps: PeopleSyncDeps, workspaceId: string): Promise<PeopleSyncOutcome> {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? defaultSleep;
  const log = deps.logger.child({ workspaceId, component: 'people-sync' });
  const startedAt = now();
  await markPeopleSyncRunning(deps.db, workspaceId, startedAt);
  const target = await deps.crmFor(workspaceId);
  if (!target) {
    const error = 'The workspace has no CRM connection.';
    await finishPeopleSync(deps.db, workspaceId, { status: 'failed', error: { message: error, kind: 'config' } }, now());
    return { status: 'failed', error };
  }
  const provider = target.client.provider;
  const gate = createCallGate({ db: deps.db, bucket: target.bucket, limits: target.limits, sleep, now, ...(deps.maxInlineWaitMs === undefined ? {} : { maxInlineWaitMs: deps.maxInlineWaitMs }) });
  const retry = { sleep, now, ...(deps.retryDelayMs === undefined ? {} : { baseDelayMs: deps.retryDelayMs }) };

  let people = 0;
  let deactivated = 0;
  let droppedTimeZones = 0;
  try {
    let cursor: string | null = null;
    do {
      const page: CrmPeoplePage = await readWithRetries(gate, () => target.client.listPeople({ cursor, beforeCall: () => gate.beforeCall() }), retry);
      await gate.noteRateLimit(page.rateLimit);
      const entries = page.people.map((person) => crmEntryOf(person, provider));
      droppedTimeZones += entries.filter((e, i) => e.values.timeZone === null && page.people[i]!.timeZone).length;
      deactivated += await deps.db.transaction().execute((tx) => applyCrmPeople(tx, workspaceId, entries, startedAt));
      people += entries.length;
      cursor = page.next;
    } while (cursor !== null);
    deactivated += await deactivateUnlisted(deps.db, workspaceId, startedAt, `no longer listed by ${crmName[provider]}`);
  } catch (error) {
    return stopped(deps, workspaceId, error, log, now);
  }
  if (droppedTimeZones > 0) log.warn({ droppedTimeZones }, 'some CRM time zones are unknown to this runtime; the playbook default applies to those people');
  await finishPeopleSync(deps.db, workspaceId, { status: 'completed', people, deactivated }, now());
  log.info({ people, deactivated }, 'people directory read from the CRM');
  return { status: 'completed', people, deactivated };
}

/**
 * A long rate-limit wait reschedules the job; a refusal a retry cannot fix (credentials, a missing
 * scope such as HubSpot's crm.objects.owners.read) fails the run for a person to look at; anything
 * else is left to the queue's retry. What was stored before the stop stays: a page is complete in itself.
 */
async function stopped(deps: PeopleSyncDeps, workspaceId: string, error: unknown, log: Logger, now: () => Date): Promise<PeopleSyncOutcome> {
  if (error instanceof SyncDeferred) {
    await finishPeopleSync(deps.db, workspaceId, { status: 'waiting', error: { message: error.message, retryAt: error.until.toISOString() } }, now());
    await queuePeopleSyncJob(deps.db, workspaceId, error.until);
    log.warn({ until: error.until }, 'people sync paused by rate limits');
    return { status: 'deferred', until: error.until };
  }
  if (isCrmError(error) && (error.kind === 'auth' || error.kind === 'permanent')) {
    await finishPeopleSync(deps.db, workspaceId, { status: 'failed', error: { message: error.message, kind: error.kind, ...(error.status === undefined ? {} : { status: error.status }) } }, now());
    log.warn({ err: error.toJSON() }, 'people sync failed');
    return { status: 'failed', error: error.message };
  }
  const kind = isCrmError(error) ? error.kind : 'internal';
  const message = error instanceof Error ? error.message : String(error);
  await finishPeopleSync(deps.db, workspaceId, { status: 'waiting', error: { message, kind } }, now());
  log.warn({ err: isCrmError(error) ? error.toJSON() : error }, 'people sync interrupted; the queue retries it');
  throw error;
}
