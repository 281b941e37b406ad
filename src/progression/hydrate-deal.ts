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

/**
 * A deal Momentum has never seen starts from what the CRM says about it, read before the
 * evaluation transaction opens (no network inside a transaction). A CRM that cannot be reached
 * only delays the fuller picture: the deal is evaluated from its signals meanwhile.
 */
export async function hydrateUnseenDeal(
  deps: { db: Database; logger: Logger; crmFor(workspaceId: string): Promise<CrmTarget | undefined>; now: () => Date },
  workspaceId: string,
  dealId: string,
): Promise<boolean> {
  const known = await deps.db.selectFrom('deals').select('deal_id').where('workspace_id', '=', workspaceId).where('deal_id', '=', dealId).executeTakeFirst();
  if (known) return false;
  const target = await deps.crmFor(workspaceId);
  if (!target) return false;
  // The read counts against the same shared budget as writes. When the budget is spent the deal
  // is evaluated from its signals; reconciliation fills in the rest later.
  const admitted = await acquireCall(deps.db, target.bucket, target.limits);
  if (!admitted.granted) return false;
  let snapshot: CrmDealSnapshot | null;
  try {
    snapshot = await target.client.readDeal(dealId);
  } catch (error) {
    if (isCrmError(error) && error.kind === 'rate_limited') {
      await pauseBucket(deps.db, target.bucket, new Date(deps.now().getTime() + (error.retryAfterMs ?? 10_000)));
    }
    deps.logger.warn({ workspaceId, dealId, err: error }, 'could not read the deal from the CRM; evaluating from signals alone');
    return false;
  }
  if (!snapshot) return false;
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
  return true;
}
