import type { RoutingConfig, RoutingOwner } from './routing-config.ts';

/**
 * Pure routing choices. Strategies run in priority order — territory, segment, then weighted
 * round-robin over everyone — and each takes the first owner it can from its pool. The database
 * side (locks, counts) is in routing-store.ts.
 */

export type Strategy = 'territory' | 'segment' | 'round_robin';

export interface Pool {
  strategy: Strategy;
  /** Stable name of the rotation, e.g. `territory:west`, `segment:healthcare`, `all`. */
  name: string;
  /** What matched, for the explanation. */
  matched: string | null;
  owners: RoutingOwner[];
}

function norm(s: string): string {
  return s.trim().toLowerCase();
}

/** The pools to try for a deal, in priority order; empty pools are left out. */
export function poolsFor(config: RoutingConfig, fields: Readonly<Record<string, string | null>>): Pool[] {
  const active = config.owners.filter((o) => o.active);
  const pools: Pool[] = [];
  const territory = fields[config.territoryField];
  if (territory) {
    const owners = active.filter((o) => o.territories.some((t) => norm(t) === norm(territory)));
    if (owners.length > 0) pools.push({ strategy: 'territory', name: `territory:${norm(territory)}`, matched: `${config.territoryField}=${territory}`, owners });
  }
  for (const field of config.segmentFields) {
    const segment = fields[field];
    if (!segment) continue;
    const owners = active.filter((o) => o.segments.some((s) => norm(s) === norm(segment)));
    if (owners.length > 0) {
      pools.push({ strategy: 'segment', name: `segment:${norm(segment)}`, matched: `${field}=${segment}`, owners });
      break;
    }
  }
  if (active.length > 0) pools.push({ strategy: 'round_robin', name: 'all', matched: null, owners: active });
  return pools;
}

/** Why an owner cannot take the deal now, or null when they can. */
export interface OwnerStatus {
  onLeave: boolean;
  offHours: boolean;
  openDeals: number;
}

export function unavailableReason(owner: RoutingOwner, status: OwnerStatus, opts: { excluded: boolean; respectHours: boolean }): string | null {
  if (opts.excluded) return 'current owner';
  if (status.onLeave) return 'out of office';
  if (owner.capacity !== null && status.openDeals >= owner.capacity) return `at capacity (${status.openDeals}/${owner.capacity})`;
  if (opts.respectHours && status.offHours) return 'outside working hours';
  return null;
}

/** Smooth weighted round-robin state: each owner's running credit. */
export type RotationState = { credit: Record<string, number> };

/**
 * One smooth weighted round-robin step (the nginx algorithm) over the eligible owners: every
 * eligible owner gains its weight, the richest is chosen (ties go to the earlier in the list) and
 * pays the total back. With equal weights this is plain rotation; weights 2:1 give A A B, spread
 * out. Owners who are skipped neither gain nor lose, so they are not owed a burst on return.
 */
export function rotate(eligible: readonly RoutingOwner[], state: RotationState): { ownerId: string; next: RotationState } | null {
  if (eligible.length === 0) return null;
  const credit: Record<string, number> = { ...state.credit };
  let total = 0;
  let best: RoutingOwner | null = null;
  for (const o of eligible) {
    credit[o.ownerId] = (credit[o.ownerId] ?? 0) + o.weight;
    total += o.weight;
    if (best === null || credit[o.ownerId]! > credit[best.ownerId]!) best = o;
  }
  credit[best!.ownerId] = credit[best!.ownerId]! - total;
  return { ownerId: best!.ownerId, next: { credit } };
}
