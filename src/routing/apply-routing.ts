import type { Tx } from '../platform/db.ts';
import type { AssignOwnerChange, Decision, DealState } from '../engine/types.ts';
import type { PlannedWrite } from '../writeback/plan-actions.ts';
import { routeDeal, type RoutingDirectory } from './routing-store.ts';

/**
 * The action layer's half of owner routing: the engine decides *that* a deal needs an owner, the
 * router decides *who*, inside the evaluation's transaction, before the decision is stored. The
 * outcome and its explanation go into the decision, so the timeline says which rule chose whom
 * and why.
 */

function assignmentOf(decision: Decision): AssignOwnerChange | null {
  if (decision.type === 'assign_owner') return decision as unknown as AssignOwnerChange;
  if ((decision.type === 'request_approval' || decision.type === 'suggest') && decision.proposed?.type === 'assign_owner') return decision.proposed;
  return null;
}

export async function routeDecisions(
  tx: Tx,
  input: { workspaceId: string; dealId: string; deal: DealState; decisions: Decision[]; directory: RoutingDirectory | undefined },
): Promise<void> {
  const pending = input.decisions.filter((d) => assignmentOf(d) !== null);
  if (pending.length === 0) return;
  // A repeated job finds its decisions stored already; routing them again would skip a turn.
  const stored = await tx
    .selectFrom('decisions')
    .select('key')
    .where('workspace_id', '=', input.workspaceId)
    .where('key', 'in', pending.map((d) => d.key))
    .execute();
  const done = new Set(stored.map((r) => r.key));
  for (const decision of pending) {
    if (done.has(decision.key)) continue;
    const change = assignmentOf(decision)!;
    if (!input.directory) {
      change.routing = { strategy: 'none', pool: null, ownerId: null, explanation: 'the workspace has no routing directory' };
    } else {
      change.routing = await routeDeal(tx, input.workspaceId, input.directory, {
        dealId: input.dealId,
        decisionKey: decision.key,
        ruleId: decision.ruleId,
        fields: input.deal.fields,
        currentOwnerId: change.fromOwnerId,
        reassign: change.reassign,
        fallback: change.fallback,
      });
    }
    change.toOwnerId = change.routing.ownerId;
    decision.reason = `${decision.reason}; routing: ${change.routing.explanation}`;
  }
}

/**
 * Tasks for an owner who is out of office go to their manager (or the workspace's fallback
 * owner) instead, and the decision says so. Without a directory, or with nobody better, the task
 * stays with the owner.
 */
export function redirectAwayOwners(plans: Array<{ decision: Decision; plan: { writes: PlannedWrite[] } }>, directory: RoutingDirectory | undefined): void {
  if (!directory) return;
  for (const { decision, plan } of plans) {
    for (const write of plan.writes) {
      if (write.kind !== 'task' || write.payload.ownerId === undefined) continue;
      const owner = write.payload.ownerId;
      if (!directory.availability.get(owner)?.onLeave) continue;
      const manager = directory.people.get(owner)?.managerId ?? null;
      const candidates = [
        { id: manager, who: 'their manager' },
        { id: directory.config.fallbackOwnerId, who: 'the fallback owner' },
      ];
      const to = candidates.find((c) => c.id !== null && c.id !== owner && !directory.availability.get(c.id)?.onLeave);
      if (to) {
        write.payload = { ...write.payload, ownerId: to.id! };
        decision.reason = `${decision.reason}; owner ${owner} is out of office, so the task goes to ${to.who} ${to.id}`;
      } else {
        decision.reason = `${decision.reason}; owner ${owner} is out of office and nobody else is available, so the task stays with them`;
      }
    }
  }
}
