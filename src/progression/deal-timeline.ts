import type { Database } from '../platform/db.ts';

export type TimelineEntry =
  | { at: string; kind: 'signal'; id: string; type: string; source: string; origin: string; payload: Record<string, unknown> }
  | { at: string; kind: 'decision'; id: string; type: string; ruleId: string; mode: string; reason: string; signalIds: string[]; playbookVersion: number; status: string }
  | { at: string; kind: 'action'; id: string; decisionId: string | null; action: string; status: string; attempts: number; crmId: string | null; error: Record<string, unknown> | null }
  | { at: string; kind: 'approval'; id: string; decisionId: string; status: string; decidedBy: string | null; reason: string | null };

/**
 * Everything that happened to a deal, in time order: what arrived (signals), what the engine
 * concluded and why (decisions, with rule, evidence and playbook version), what was done about it
 * (CRM writes and their answers) and what people decided (approvals).
 */
export async function dealTimeline(db: Database, workspaceId: string, dealId: string, limit: number): Promise<TimelineEntry[]> {
  const [signals, decisions, actions, approvals] = await Promise.all([
    db.selectFrom('signals').select(['id', 'type', 'source', 'origin', 'occurred_at', 'payload'])
      .where('workspace_id', '=', workspaceId).where('deal_id', '=', dealId).orderBy('occurred_at', 'desc').limit(limit).execute(),
    db.selectFrom('decisions').select(['id', 'type', 'rule_id', 'mode', 'reason', 'signal_ids', 'playbook_version', 'status', 'decided_at'])
      .where('workspace_id', '=', workspaceId).where('deal_id', '=', dealId).orderBy('decided_at', 'desc').limit(limit).execute(),
    db.selectFrom('outbox').select(['id', 'decision_id', 'kind', 'status', 'attempts', 'crm_id', 'last_error', 'created_at', 'sent_at', 'updated_at'])
      .where('workspace_id', '=', workspaceId).where('deal_id', '=', dealId).orderBy('id', 'desc').limit(limit).execute(),
    db.selectFrom('approvals').select(['id', 'decision_id', 'status', 'decided_by', 'decided_reason', 'created_at', 'decided_at'])
      .where('workspace_id', '=', workspaceId).where('deal_id', '=', dealId).orderBy('id', 'desc').limit(limit).execute(),
  ]);
  const iso = (value: Date | string) => new Date(value).toISOString();
  const entries: TimelineEntry[] = [
    ...signals.map((s) => ({ at: iso(s.occurred_at), kind: 'signal' as const, id: String(s.id), type: s.type, source: s.source, origin: s.origin, payload: s.payload })),
    ...decisions.map((d) => ({
      at: iso(d.decided_at), kind: 'decision' as const, id: String(d.id), type: d.type, ruleId: d.rule_id, mode: d.mode, reason: d.reason,
      signalIds: d.signal_ids, playbookVersion: d.playbook_version, status: d.status,
    })),
    ...actions.map((a) => ({
      at: iso(a.sent_at ?? a.updated_at ?? a.created_at), kind: 'action' as const, id: String(a.id), decisionId: a.decision_id === null ? null : String(a.decision_id),
      action: a.kind, status: a.status, attempts: a.attempts, crmId: a.crm_id, error: a.last_error,
    })),
    ...approvals.map((a) => ({
      at: iso(a.decided_at ?? a.created_at), kind: 'approval' as const, id: String(a.id), decisionId: String(a.decision_id), status: a.status,
      decidedBy: a.decided_by, reason: a.decided_reason,
    })),
  ];
  const order = { signal: 0, decision: 1, approval: 2, action: 3 };
  return entries.sort((a, b) => a.at.localeCompare(b.at) || order[a.kind] - order[b.kind] || Number(a.id) - Number(b.id));
}
