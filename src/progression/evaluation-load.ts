import { sql } from 'kysely';
import type { Tx } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import { initialDealState } from '../engine/state.ts';
import type { DealState, Provider } from '../engine/types.ts';

export interface DealKey {
  workspaceId: string;
  dealId: string;
}

export const dealKeyOf = (deal: DealKey) => `${deal.workspaceId}:${deal.dealId}`;

export interface WorkspaceFacts {
  mode: 'shadow' | 'live';
  playbookVersion: number | null;
  /** When its CRM was connected: what an import finds from before shapes the mirror only. */
  connectedAt: Date | null;
  /** The CRM of its connection, if it has one. */
  provider: Provider | null;
}

/** Mode, current playbook version (the playbook itself is cached) and connection of each workspace, in one read. */
export async function loadWorkspaceFacts(tx: Tx, workspaceIds: readonly string[]): Promise<Map<string, WorkspaceFacts>> {
  const result = await sql<{ id: string; mode: 'shadow' | 'live'; version: number | null; connected_at: Date | null; provider: Provider | null }>`
    select w.id, w.mode,
           (select max(version) from playbooks p where p.workspace_id = w.id) as version,
           c.created_at as connected_at, c.provider
    from workspaces w left join connections c on c.workspace_id = w.id
    where w.id = any(${[...workspaceIds]}::text[])
  `.execute(tx);
  return new Map(result.rows.map((r) => [r.id, { mode: r.mode, playbookVersion: r.version, connectedAt: r.connected_at, provider: r.provider }]));
}

/**
 * Locks the deal rows for the rest of the transaction, creating first the deals never seen. Rows
 * are locked in key order, so two batches sharing deals wait for each other instead of deadlocking.
 * The common case (known deals) is a single statement.
 */
export async function lockDeals(tx: Tx, deals: readonly DealKey[], workspaces: Map<string, WorkspaceFacts>): Promise<Map<string, DealState>> {
  const lock = async (keys: readonly DealKey[]) => {
    const result = await sql<{ workspace_id: string; deal_id: string; state: DealState }>`
      select d.workspace_id, d.deal_id, d.state
      from deals d
      join unnest(${keys.map((k) => k.workspaceId)}::text[], ${keys.map((k) => k.dealId)}::text[]) as k(workspace_id, deal_id)
        on d.workspace_id = k.workspace_id and d.deal_id = k.deal_id
      order by d.workspace_id, d.deal_id
      for update of d
    `.execute(tx);
    return result.rows;
  };
  const states = new Map<string, DealState>();
  for (const row of await lock(deals)) states.set(dealKeyOf({ workspaceId: row.workspace_id, dealId: row.deal_id }), row.state);
  const unseen = deals.filter((d) => !states.has(dealKeyOf(d)));
  if (unseen.length === 0) return states;

  const providers = await providersOf(tx, unseen, workspaces);
  // Inserted in key order too: two batches creating the same new deals then wait for each other
  // on the first one they share instead of each holding one the other needs.
  const byKey = (a: DealKey, b: DealKey) => (a.workspaceId === b.workspaceId ? compare(a.dealId, b.dealId) : compare(a.workspaceId, b.workspaceId));
  const rows = [...unseen].sort(byKey).map((d) => {
    const provider = providers.get(dealKeyOf(d))!;
    return { workspace_id: d.workspaceId, deal_id: d.dealId, provider, state: json(initialDealState(d.dealId, provider)) };
  });
  await tx.insertInto('deals').values(rows).onConflict((oc) => oc.doNothing()).execute();
  for (const row of await lock(unseen)) states.set(dealKeyOf({ workspaceId: row.workspace_id, dealId: row.deal_id }), row.state);
  return states;
}

/** Plain code-unit order: any order every process shares will do. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The CRM a deal lives in (see providersOf). */
export async function providerFor(tx: Tx, workspaceId: string, dealId: string): Promise<Provider> {
  const workspaces = await loadWorkspaceFacts(tx, [workspaceId]);
  const providers = await providersOf(tx, [{ workspaceId, dealId }], workspaces);
  return providers.get(dealKeyOf({ workspaceId, dealId }))!;
}

/** The CRM each deal lives in: its workspace's connection, else the source of its CRM signals. */
async function providersOf(tx: Tx, deals: readonly DealKey[], workspaces: Map<string, WorkspaceFacts>): Promise<Map<string, Provider>> {
  const providers = new Map<string, Provider>();
  const unknown: DealKey[] = [];
  for (const deal of deals) {
    const connected = workspaces.get(deal.workspaceId)?.provider;
    if (connected) providers.set(dealKeyOf(deal), connected);
    else unknown.push(deal);
  }
  if (unknown.length > 0) {
    const result = await sql<{ workspace_id: string; deal_id: string; source: string | null }>`
      select k.workspace_id, k.deal_id,
             (select s.source from signals s
              where s.workspace_id = k.workspace_id and s.deal_id = k.deal_id and s.source in ('hubspot', 'salesforce')
              limit 1) as source
      from unnest(${unknown.map((k) => k.workspaceId)}::text[], ${unknown.map((k) => k.dealId)}::text[]) as k(workspace_id, deal_id)
    `.execute(tx);
    for (const row of result.rows) {
      providers.set(dealKeyOf({ workspaceId: row.workspace_id, dealId: row.deal_id }), row.source === 'salesforce' ? 'salesforce' : 'hubspot');
    }
  }
  return providers;
}
