import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { CrmDealSnapshot } from '../crm/types.ts';
import { stakeholderRoleOf } from '../sync/deal-signals.ts';
import type { CrmTarget } from '../writeback/flush-outbox.ts';
import { acquireCall, pauseBucket } from '../writeback/rate-limiter.ts';
import { isCrmError } from '../crm/errors.ts';

/** The snapshot as signals marked `imported`: they shape the mirror and never trigger actions. */
export function snapshotSignals(snapshot: CrmDealSnapshot, at: Date) {
  const key = `hydrate:${snapshot.id}:${at.toISOString()}`;
  return [
    {
      dedupe_key: `${key}#deal`,
      type: 'crm.deal_created',
      payload: {
        ...(snapshot.name ? { name: snapshot.name } : {}),
        ...(snapshot.stageId ? { stage: snapshot.stageId } : {}),
        ...(snapshot.pipelineId ? { pipeline: snapshot.pipelineId } : {}),
        amount: snapshot.amount,
        closeDate: snapshot.closeDate,
        ownerId: snapshot.ownerId,
      },
    },
    ...snapshot.contacts.map((contact) => ({
      dedupe_key: `${key}#contact:${contact.contactId}`,
      type: 'stakeholder.added',
      payload: { contactId: contact.contactId, role: stakeholderRoleOf(contact.roles) },
    })),
  ];
}

export interface HydrateDeps {
  db: Database;
  logger: Logger;
  crmFor(workspaceId: string): Promise<CrmTarget | undefined>;
  now: () => Date;
}

/**
 * A deal Momentum has never seen starts from what the CRM says about it, read before the
 * evaluation transaction opens (no network inside a transaction). A CRM that cannot be reached
 * only delays the fuller picture: the deal is evaluated from its signals meanwhile.
 */
export async function hydrateUnseenDeals(deps: HydrateDeps, deals: ReadonlyArray<{ workspaceId: string; dealId: string }>): Promise<void> {
  if (deals.length === 0) return;
  const unseen = await sql<{ workspace_id: string; deal_id: string }>`
    select k.workspace_id, k.deal_id
    from unnest(${deals.map((d) => d.workspaceId)}::text[], ${deals.map((d) => d.dealId)}::text[]) as k(workspace_id, deal_id)
    where not exists (select 1 from deals d where d.workspace_id = k.workspace_id and d.deal_id = k.deal_id)
  `.execute(deps.db);
  const targets = new Map<string, CrmTarget | undefined>();
  for (const workspaceId of new Set(unseen.rows.map((r) => r.workspace_id))) targets.set(workspaceId, await deps.crmFor(workspaceId));
  const reads = unseen.rows.filter((r) => targets.get(r.workspace_id) !== undefined);
  // A few reads at a time: each waits on the CRM, and the shared limiter paces them anyway.
  for (let i = 0; i < reads.length; i += PARALLEL_READS) {
    await Promise.all(reads.slice(i, i + PARALLEL_READS).map((r) => readUnseenDeal(deps, targets.get(r.workspace_id)!, r.workspace_id, r.deal_id)));
  }
}

const PARALLEL_READS = 8;

async function readUnseenDeal(deps: HydrateDeps, target: CrmTarget, workspaceId: string, dealId: string): Promise<void> {
  // The read counts against the same shared budget as writes. When the budget is spent the deal
  // is evaluated from its signals; reconciliation fills in the rest later.
  const admitted = await acquireCall(deps.db, target.bucket, target.limits);
  if (!admitted.granted) return;
  let snapshot: CrmDealSnapshot | null;
  try {
    snapshot = await target.client.readDeal(dealId);
  } catch (error) {
    if (isCrmError(error) && error.kind === 'rate_limited') {
      await pauseBucket(deps.db, target.bucket, new Date(deps.now().getTime() + (error.retryAfterMs ?? 10_000)));
    }
    deps.logger.warn({ workspaceId, dealId, err: error }, 'could not read the deal from the CRM; evaluating from signals alone');
    return;
  }
  if (!snapshot) return;
  const at = deps.now();
  const rows = snapshotSignals(snapshot, at).map((signal) => ({
    workspace_id: workspaceId,
    deal_id: dealId,
    type: signal.type,
    source: 'crm_sync',
    origin: 'imported',
    occurred_at: at,
    payload: JSON.stringify(signal.payload),
    dedupe_key: signal.dedupe_key,
    // Already handled: this evaluation reads them directly.
    pumped_at: at,
  }));
  await deps.db.insertInto('signals').values(rows).onConflict((oc) => oc.doNothing()).execute();
}
