import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';

export interface RuleMetrics {
  ruleId: string;
  fires: number;
  /** Decisions carried out at once (mode auto). */
  auto: number;
  /** Decisions left to the owner as a CRM task (mode suggest). */
  suggested: number;
  approved: number;
  rejected: number;
  /** Approval requests still waiting, expired, or made obsolete by a later decision. */
  awaiting: number;
  closedOther: number;
  /** Distinct closed deals the rule fired on, by how they closed. */
  firedOnWon: number;
  firedOnLost: number;
}

/**
 * Per rule, over the decisions made since `since`: how often it fired, how it was carried out and
 * what people decided, and on how many later-won and later-lost deals it fired. Won and lost are
 * the stage keys the current playbook marks closed.
 */
export async function ruleMetrics(
  db: Database,
  input: { workspaceId: string; since: Date; wonStages: string[]; lostStages: string[] },
): Promise<RuleMetrics[]> {
  const { workspaceId } = input;
  const result = await sql<{
    rule_id: string; fires: number; auto: number; suggested: number; approved: number; rejected: number; pending: number;
    closed_other: number; won: number; lost: number;
  }>`
    with d as (
      select id, rule_id, mode, deal_id from decisions
      where workspace_id = ${workspaceId} and decided_at >= ${input.since}
    ),
    a as (
      select d.rule_id,
             count(*) filter (where ap.status = 'approved')::int as approved,
             count(*) filter (where ap.status = 'rejected')::int as rejected,
             count(*) filter (where ap.status in ('pending', 'expired', 'obsolete'))::int as pending
      from d join approvals ap on ap.workspace_id = ${workspaceId} and ap.decision_id = d.id
      group by d.rule_id
    ),
    o as (
      select d.rule_id,
             count(distinct d.deal_id) filter (where dl.is_closed and dl.stage = any(${input.wonStages}::text[]))::int as won,
             count(distinct d.deal_id) filter (where dl.is_closed and dl.stage = any(${input.lostStages}::text[]))::int as lost,
             count(distinct d.deal_id) filter (where dl.is_closed and not (coalesce(dl.stage, '') = any(${[...input.wonStages, ...input.lostStages]}::text[])))::int as closed_other
      from d join deals dl on dl.workspace_id = ${workspaceId} and dl.deal_id = d.deal_id
      group by d.rule_id
    ),
    f as (
      select rule_id, count(*)::int as fires,
             count(*) filter (where mode = 'auto')::int as auto,
             count(*) filter (where mode = 'suggest')::int as suggested
      from d group by rule_id
    )
    select f.rule_id, f.fires, f.auto, f.suggested,
           coalesce(a.approved, 0) as approved, coalesce(a.rejected, 0) as rejected, coalesce(a.pending, 0) as pending,
           coalesce(o.won, 0) as won, coalesce(o.lost, 0) as lost, coalesce(o.closed_other, 0) as closed_other
    from f left join a using (rule_id) left join o using (rule_id)
    order by f.fires desc, f.rule_id
  `.execute(db);
  return result.rows.map((r) => ({
    ruleId: r.rule_id,
    fires: r.fires,
    auto: r.auto,
    suggested: r.suggested,
    approved: r.approved,
    rejected: r.rejected,
    awaiting: r.pending,
    closedOther: r.closed_other,
    firedOnWon: r.won,
    firedOnLost: r.lost,
  }));
}
