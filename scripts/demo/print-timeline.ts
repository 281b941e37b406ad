import type { DemoDeal } from './delivery.ts';
import { bold, dim, good, pad, paint, shortTime, warn, bad } from './style.ts';
import type { DealView, TimelineEntry } from './wait-for-evaluation.ts';

/** An outbox row as `GET /api/workspaces/{id}/outbox` lists it. */
export interface OutboxItem {
  id: string;
  dealId: string;
  decisionId: string | null;
  kind: 'deal_update' | 'task' | 'note';
  status: string;
  payload: Record<string, unknown>;
}

const decisionColours: Record<string, (text: string) => string> = {
  advance_stage: good,
  regress_stage: bad,
  raise_alert: warn,
  flag: warn,
  request_approval: (text) => paint('magenta', text),
  suggest: (text) => paint('magenta', text),
};

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The few payload fields that say what a signal means, as `key=value`. */
function signalDetail(entry: TimelineEntry): string {
  const payload = (entry.payload ?? {}) as Record<string, unknown>;
  const parts = Object.entries(payload)
    .filter(([key, value]) => value !== undefined && value !== null && !['callId', 'documentId'].includes(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return `${dim(String(entry.source))} ${clip(parts.join(' '), 90)}`;
}

/** What a CRM write would do, in a few words. */
export function describeWrite(item: OutboxItem): string {
  const p = item.payload;
  if (item.kind === 'task') return `task "${clip(String(p.subject), 70)}"`;
  if (item.kind === 'note') return `note "${clip(String(p.body), 70)}"`;
  const fields = (p.fields ?? {}) as { stage?: { stageId: string }; probability?: number; closeDate?: string };
  const changes = [
    fields.stage ? `stage → ${fields.stage.stageId}` : '',
    fields.probability !== undefined ? `probability → ${Math.round(fields.probability * 100)}%` : '',
    fields.closeDate ? `close date → ${fields.closeDate}` : '',
  ].filter(Boolean);
  return `deal ${changes.join(', ')}`;
}

const indent = ' '.repeat(2 + 16 + 2 + 9);

function followUps(entry: TimelineEntry, children: Map<string, TimelineEntry[]>, outbox: Map<string, OutboxItem>): string[] {
  return (children.get(entry.id) ?? []).map((child) => {
    if (child.kind === 'approval') return `${indent}${dim('↳')} approval ${String(child.status)}`;
    const item = outbox.get(child.id);
    const what = item ? describeWrite(item) : String(child.action);
    const verb = child.status === 'shadow' ? 'would write' : `write (${String(child.status)})`;
    return `${indent}${dim(`↳ ${verb}:`)} ${what}`;
  });
}

function entryLine(entry: TimelineEntry): string {
  const time = dim(shortTime(entry.at));
  const kind = pad(entry.kind, 9);
  if (entry.kind === 'signal') return `  ${time}  ${dim(kind)}${pad(String(entry.type), 34)}${signalDetail(entry)}`;
  if (entry.kind === 'decision') {
    const colour = decisionColours[String(entry.type)] ?? ((text: string) => text);
    return `  ${time}  ${bold(kind)}${colour(pad(String(entry.type), 34))}${paint('cyan', String(entry.ruleId))} ${dim('—')} ${String(entry.reason)}`;
  }
  return `  ${time}  ${kind}${pad(String(entry.action ?? entry.status), 34)}${String(entry.status)}`;
}

export function printDealTimeline(deal: DemoDeal, view: DealView | undefined, outbox: Map<string, OutboxItem>): void {
  console.log('');
  if (!view) {
    console.log(`${bold(deal.name)} ${dim(`(${deal.crm} ${deal.id})`)}: no record yet`);
    return;
  }
  const health = view.healthScore === null ? '' : `, health ${view.healthScore}`;
  console.log(`${bold(deal.name)} ${dim(`· ${deal.crm} deal ${deal.id} · ${deal.story}`)}`);
  console.log(`  now ${bold(view.stage ?? 'unknown stage')}${dim(` (CRM stage ${view.crmStage ?? '—'}${health}, close date ${view.closeDate ?? '—'})`)}`);
  // Actions and approvals are shown under the decision they carry out.
  const children = new Map<string, TimelineEntry[]>();
  for (const entry of view.timeline) {
    const parent = (entry.kind === 'action' || entry.kind === 'approval') && entry.decisionId ? String(entry.decisionId) : undefined;
    if (parent) children.set(parent, [...(children.get(parent) ?? []), entry]);
  }
  for (const entry of view.timeline) {
    if ((entry.kind === 'action' || entry.kind === 'approval') && entry.decisionId) continue;
    console.log(entryLine(entry));
    if (entry.kind === 'decision') for (const line of followUps(entry, children, outbox)) console.log(line);
  }
}
