import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import type { AlertingSettings } from '../engine/playbook/schema.ts';
import type { OwnerDirectory, RoutingOutcome } from '../engine/types.ts';
import { getPeople, type Person } from '../people/people-store.ts';
import { availabilityOf, type Availability } from './availability.ts';
import { poolsFor, rotate, unavailableReason, type RotationState } from './choose-owner.ts';
import { routingConfig, type RoutingConfig } from './routing-config.ts';

export async function getRoutingConfig(db: Database | Tx, workspaceId: string): Promise<{ config: RoutingConfig; updatedAt: Date } | undefined> {
  const row = await db.selectFrom('routing_configs').select(['config', 'updated_at']).where('workspace_id', '=', workspaceId).executeTakeFirst();
  // Parsing fills defaults added since the document was stored.
  return row ? { config: routingConfig.parse(row.config), updatedAt: row.updated_at } : undefined;
}

export async function putRoutingConfig(db: Database, workspaceId: string, config: RoutingConfig, now: Date): Promise<Date> {
  const row = await db
    .insertInto('routing_configs')
    .values({ workspace_id: workspaceId, config: json(config), updated_at: now })
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ config: json(config), updated_at: now }))
    .returning('updated_at')
    .executeTakeFirstOrThrow();
  return row.updated_at;
}

/** The routing document with each owner's person record and availability now. */
export interface RoutingDirectory {
  config: RoutingConfig;
  people: Map<string, Person>;
  availability: Map<string, Availability>;
  alerting: AlertingSettings | undefined;
  /** What the engine's `owner` conditions see. */
  facts: OwnerDirectory;
}

export async function loadRoutingDirectory(tx: Tx, workspaceId: string, alerting: AlertingSettings | undefined, nowMs: number): Promise<RoutingDirectory | undefined> {
  const stored = await getRoutingConfig(tx, workspaceId);
  if (!stored || stored.config.owners.length === 0) return undefined;
  const { config } = stored;
  const people = await getPeople(tx, workspaceId, config.owners.map((o) => o.ownerId));
  const availability = new Map<string, Availability>();
  const facts: Record<string, OwnerDirectory[string]> = {};
  for (const o of config.owners) {
    const a = availabilityOf(people.get(o.ownerId), alerting, nowMs);
    availability.set(o.ownerId, a);
    facts[o.ownerId] = {
      territories: o.territories,
      segments: o.segments,
      managerId: people.get(o.ownerId)?.managerId ?? null,
      available: o.active && !a.onLeave && !a.offHours,
    };
  }
  return { config, people, availability, alerting, facts };
}

/** Open deals per owner: the CRM's owner, or a routed owner the CRM has not confirmed yet. */
async function openDealCounts(tx: Tx, workspaceId: string, exceptDealId: string): Promise<Map<string, number>> {
  const result = await sql<{ owner_id: string; n: number }>`
    select owner_id, count(*)::int as n from (
      select coalesce(p.owner_id, d.owner_id) as owner_id, coalesce(p.deal_id, d.deal_id) as deal_id
      from (select deal_id, owner_id from deals where workspace_id = ${workspaceId} and not is_closed) d
      full join (
        select distinct on (deal_id) deal_id, owner_id from routing_assignments
        where workspace_id = ${workspaceId} and settled_at is null and owner_id is not null
        order by deal_id, id desc
      ) p on p.deal_id = d.deal_id
      where not exists (select 1 from deals c where c.workspace_id = ${workspaceId} and c.deal_id = p.deal_id and c.is_closed)
    ) x
    where owner_id is not null and deal_id <> ${exceptDealId}
    group by owner_id
  `.execute(tx);
  return new Map(result.rows.map((r) => [r.owner_id, r.n]));
}

/** Locks a pool's rotation row for the rest of the transaction, creating it on first use. */
async function lockPool(tx: Tx, workspaceId: string, pool: string): Promise<RotationState> {
  await tx.insertInto('routing_pools').values({ workspace_id: workspaceId, pool, state: json({ credit: {} }) }).onConflict((oc) => oc.doNothing()).execute();
  const row = await tx.selectFrom('routing_pools').select('state').where('workspace_id', '=', workspaceId).where('pool', '=', pool).forUpdate().executeTakeFirstOrThrow();
  const credit = (row.state as { credit?: Record<string, number> }).credit;
  return { credit: credit ?? {} };
}

async function advancePool(tx: Tx, workspaceId: string, pool: string, state: RotationState): Promise<string> {
  const row = await tx
    .updateTable('routing_pools')
    .set({ state: json(state), assigned: sql`assigned + 1`, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('pool', '=', pool)
    .returning('assigned')
    .executeTakeFirstOrThrow();
  return String(row.assigned);
}

export interface AssignmentRequest {
  dealId: string;
  decisionKey: string;
  ruleId: string;
  fields: Readonly<Record<string, string | null>>;
  currentOwnerId: string | null;
  reassign: boolean;
  fallback: 'manager' | 'none';
}

/**
 * Picks an owner and records it. Each pool's row is locked before counting open deals, so a
 * second worker routing at the same moment waits, then sees this assignment: the rotation has
 * no duplicates and capacity is never overshot. Runs inside the evaluation's transaction.
 */
export async function routeDeal(tx: Tx, workspaceId: string, dir: RoutingDirectory, req: AssignmentRequest): Promise<RoutingOutcome> {
  const pools = poolsFor(dir.config, req.fields);
  const skipped: string[] = [];
  let counts: Map<string, number> | null = null;
  for (const pool of pools) {
    const state = await lockPool(tx, workspaceId, pool.name);
    counts = await openDealCounts(tx, workspaceId, req.dealId);
    const reasons = new Map<string, string | null>();
    const check = (respectHours: boolean) =>
      pool.owners.filter((o) => {
        const a = dir.availability.get(o.ownerId) ?? { onLeave: false, offHours: false };
        const why = unavailableReason(o, { ...a, openDeals: counts!.get(o.ownerId) ?? 0 }, { excluded: req.reassign && o.ownerId === req.currentOwnerId, respectHours });
        reasons.set(o.ownerId, why);
        return why === null;
      });
    let eligible = check(dir.config.respectWorkingHours);
    let offHoursNote = '';
    // Nobody is at work right now: someone back tomorrow is better than nobody.
    if (eligible.length === 0 && dir.config.respectWorkingHours) {
      eligible = check(false);
      if (eligible.length > 0) offHoursNote = ' (nobody in the pool is inside working hours; chose among those not on leave)';
    }
    const picked = rotate(eligible, state);
    if (!picked) {
      skipped.push(`${pool.name}: ${pool.owners.map((o) => `${o.ownerId} ${reasons.get(o.ownerId) ?? 'unavailable'}`).join(', ')}`);
      continue;
    }
    const seq = await advancePool(tx, workspaceId, pool.name, picked.next);
    const passed = pool.owners.filter((o) => reasons.get(o.ownerId)).map((o) => `${o.ownerId} ${reasons.get(o.ownerId)}`);
    const explanation = [
      pool.strategy === 'round_robin' ? `weighted round-robin over all owners picked ${picked.ownerId}` : `${pool.strategy} match (${pool.matched}) picked ${picked.ownerId}`,
      `rotation ${pool.name} #${seq}${offHoursNote}`,
      passed.length > 0 ? `skipped ${passed.join(', ')}` : '',
      skipped.length > 0 ? `earlier pools had nobody: ${skipped.join('; ')}` : '',
    ].filter(Boolean).join('; ');
    return record(tx, workspaceId, req, { strategy: pool.strategy, pool: pool.name, ownerId: picked.ownerId, explanation }, seq);
  }
  const why = pools.length === 0 ? 'no active owner in the routing directory' : `nobody could take it (${skipped.join('; ')})`;
  const fallbackOwner = req.fallback === 'manager' ? fallbackFor(dir, req.currentOwnerId) : null;
  if (fallbackOwner) {
    return record(tx, workspaceId, req, { strategy: 'fallback', pool: null, ownerId: fallbackOwner.ownerId, explanation: `${why}; fallback to ${fallbackOwner.who} ${fallbackOwner.ownerId}` }, null);
  }
  return record(tx, workspaceId, req, { strategy: 'none', pool: null, ownerId: null, explanation: `${why}; no fallback owner, the deal keeps ${req.currentOwnerId ?? 'no owner'}` }, null);
}

/** The current owner's manager, else the workspace's fallback owner. */
function fallbackFor(dir: RoutingDirectory, currentOwnerId: string | null): { ownerId: string; who: string } | null {
  const manager = currentOwnerId === null ? null : (dir.people.get(currentOwnerId)?.managerId ?? null);
  if (manager && manager !== currentOwnerId) return { ownerId: manager, who: `the manager of ${currentOwnerId},` };
  if (dir.config.fallbackOwnerId && dir.config.fallbackOwnerId !== currentOwnerId) return { ownerId: dir.config.fallbackOwnerId, who: 'the fallback owner' };
  return null;
}

async function record(tx: Tx, workspaceId: string, req: AssignmentRequest, outcome: RoutingOutcome, seq: string | null): Promise<RoutingOutcome> {
  await tx
    .insertInto('routing_assignments')
    .values({
      workspace_id: workspaceId,
      deal_id: req.dealId,
      decision_key: req.decisionKey,
      rule_id: req.ruleId,
      owner_id: outcome.ownerId,
      pool: outcome.pool,
      seq,
      strategy: outcome.strategy,
      explanation: outcome.explanation,
      // An assignment that changes nothing has nothing to wait for.
      settled_at: outcome.ownerId === null || outcome.ownerId === req.currentOwnerId ? new Date() : null,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'decision_key']).doNothing())
    .execute();
  return outcome;
}

