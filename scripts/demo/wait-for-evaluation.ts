import type { AdminApi } from './admin-api.ts';
import type { DemoDeal } from './delivery.ts';

export interface DealView {
  dealId: string;
  provider: string;
  stage: string | null;
  crmStage: string | null;
  closeDate: string | null;
  healthScore: number | null;
  isClosed: boolean;
  evaluatedAt: string | null;
  timeline: TimelineEntry[];
}

export type TimelineEntry = { at: string; kind: 'signal' | 'decision' | 'action' | 'approval'; id: string } & Record<string, unknown>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What changes while the worker is still busy with a deal. */
const fingerprint = (view: DealView | undefined) => (view ? `${view.evaluatedAt}|${view.timeline.length}` : 'missing');

async function readDeal(api: AdminApi, workspaceId: string, dealId: string): Promise<DealView | undefined> {
  try {
    return await api.get<DealView>(`/workspaces/${workspaceId}/deals/${dealId}?limit=2000`);
  } catch (error) {
    if (/answered 404/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/**
 * Polls each deal until it has been evaluated and nothing about it changed for `quietPolls`
 * polls in a row, or until `timeoutMs` has passed. Returns the last view of every deal.
 */
export async function waitForEvaluation(
  api: AdminApi,
  workspaceId: string,
  deals: DemoDeal[],
  options: { timeoutMs?: number; intervalMs?: number; quietPolls?: number } = {},
): Promise<{ views: Map<string, DealView>; unsettled: string[] }> {
  const { timeoutMs = 30_000, intervalMs = 500, quietPolls = 3 } = options;
  const deadline = Date.now() + timeoutMs;
  const views = new Map<string, DealView>();
  const last = new Map<string, string>();
  const quiet = new Map<string, number>();
  const settled = () => deals.every((deal) => (quiet.get(deal.id) ?? 0) >= quietPolls);
  while (!settled() && Date.now() < deadline) {
    for (const deal of deals) {
      const view = await readDeal(api, workspaceId, deal.id);
      if (view) views.set(deal.id, view);
      const print = fingerprint(view);
      const evaluated = view?.evaluatedAt != null;
      quiet.set(deal.id, evaluated && print === last.get(deal.id) ? (quiet.get(deal.id) ?? 0) + 1 : 0);
      last.set(deal.id, print);
    }
    if (!settled()) await sleep(intervalMs);
  }
  return { views, unsettled: deals.filter((deal) => (quiet.get(deal.id) ?? 0) < quietPolls).map((deal) => deal.name) };
}
