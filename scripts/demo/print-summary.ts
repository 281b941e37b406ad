import type { DemoDeal, SentDelivery } from './delivery.ts';
import type { OutboxItem } from './print-timeline.ts';
import { bold, dim, pad, warn } from './style.ts';
import type { DealView } from './wait-for-evaluation.ts';

const counted = (values: string[]) => {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([value, n]) => `${value} ${n}`).join(', ');
};

/** The deal fields Momentum would leave in the CRM: the last value written for each. */
function finalFields(writes: OutboxItem[]): string {
  const last: Record<string, string> = {};
  for (const write of writes) {
    const fields = (write.payload.fields ?? {}) as { stage?: { stageId: string }; probability?: number; closeDate?: string };
    if (fields.stage) last.stage = fields.stage.stageId;
    if (fields.probability !== undefined) last.probability = `${Math.round(fields.probability * 100)}%`;
    if (fields.closeDate) last['close date'] = fields.closeDate;
  }
  return Object.entries(last).map(([field, value]) => `${field} → ${value}`).join(', ');
}

function printDealWrites(deal: DemoDeal, writes: OutboxItem[]): void {
  const tasks = writes.filter((write) => write.kind === 'task').length;
  const notes = writes.filter((write) => write.kind === 'note').length;
  const fields = finalFields(writes.filter((write) => write.kind === 'deal_update'));
  const parts = [`${tasks} tasks`, ...(notes > 0 ? [`${notes} note${notes > 1 ? 's' : ''}`] : []), ...(fields ? [fields] : [])];
  console.log(`    ${pad(deal.name, 19)}${parts.join(', ')}`);
}

export function printSummary(input: {
  workspaceId: string;
  runTag: string;
  deals: DemoDeal[];
  views: Map<string, DealView>;
  sent: SentDelivery[];
  /** How the service stored the deliveries (accepted, duplicate, …). */
  stored: string[];
  shadowWrites: OutboxItem[];
}): void {
  const entries = [...input.views.values()].flatMap((view) => view.timeline);
  const decisions = entries.filter((entry) => entry.kind === 'decision');
  const answered = input.sent.filter((s) => s.status >= 200 && s.status < 300).length;
  console.log('');
  console.log(bold(`Summary — run ${input.runTag}, workspace "${input.workspaceId}" (shadow mode)`));
  console.log(`  deliveries  ${input.sent.length} sent, ${answered} answered 2xx; stored as ${counted(input.stored)}`);
  const notAccepted = input.stored.filter((status) => status !== 'accepted').length;
  if (notAccepted > 0) console.log(warn(`              ${notAccepted} not accepted: see GET /api/workspaces/${input.workspaceId}/deliveries`));
  console.log(`  deals       ${input.deals.length}: ${input.deals.map((deal) => `${deal.name} → ${input.views.get(deal.id)?.stage ?? '?'}`).join(', ')}`);
  console.log(`  signals     ${entries.filter((entry) => entry.kind === 'signal').length}`);
  console.log(`  decisions   ${decisions.length}: ${counted(decisions.map((entry) => String(entry.type)))}`);
  console.log(`  CRM writes  ${input.shadowWrites.length} held in shadow mode, none sent: ${counted(input.shadowWrites.map((write) => write.kind))}`);
  for (const deal of input.deals) printDealWrites(deal, input.shadowWrites.filter((write) => write.dealId === deal.id));
  console.log('');
  console.log(dim(`More: GET /api/workspaces/${input.workspaceId}/deals/<dealId>, …/deliveries, …/outbox?status=shadow, …/approvals (OpenAPI UI at /docs).`));
}
