import type { Task, TaskList } from 'graphile-worker';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Database, Tx } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { RequestApprovalDecision } from '../engine/types.ts';
import { cachedPlaybookVersion, currentPlaybook } from '../progression/playbook-store.ts';
import { getPeople, workingPatternOf } from '../people/people-store.ts';
import { addWorkingDays } from '../people/working-time.ts';
import { alertingOf } from '../alerts/alerting-config.ts';
import { loadReportingChain } from '../alerts/recipients.ts';
import { approvalsOf, approverRuleFor, chooseApprover } from './approver.ts';
import { approvalTaskWrite } from './approval-task.ts';
import { createJobNudger } from '../worker/job-nudger.ts';
import { enqueueWrites, scheduleFlush } from './outbox-store.ts';

export const NOTIFY_APPROVER_TASK = 'notify-approver';

/**
 * Asks, in the transaction that opens an approval, for the approver to be told once it commits.
 * The job (not the evaluation) writes the task because it knows the service's public address,
 * which the task links to; one job per approval, so the evaluation's transaction shares no row
 * with any other.
 */
export async function scheduleApproverNotices(tx: Tx, approvals: ReadonlyArray<{ workspaceId: string; approvalId: string }>): Promise<void> {
  if (approvals.length === 0) return;
  await sql`
    select graphile_worker.add_jobs(array(
      select row(${NOTIFY_APPROVER_TASK}::text, json_build_object('workspaceId', a.workspace_id, 'approvalId', a.approval_id), null, null, 10,
                 'approver:' || a.workspace_id || ':' || a.approval_id, null, null)::graphile_worker.job_spec
      from unnest(${approvals.map((a) => a.workspaceId)}::text[], ${approvals.map((a) => a.approvalId)}::text[]) as a(workspace_id, approval_id)
    ))
  `.execute(tx);
}

export type ApproverNotice =
  | { outcome: 'queued' | 'shadow'; approverId: string; idempotencyKey: string; added: number }
  | { outcome: 'skipped'; reason: string };

interface ApprovalRow {
  status: string;
  expires_at: Date;
  deal_id: string;
  decision_id: string;
  playbook_version: number;
  body: unknown;
  mode: 'shadow' | 'live';
  owner_id: string | null;
}

/**
 * Queues the approver's CRM task for a pending approval through the outbox (a `shadow` row in a
 * shadow workspace). The approval row is share-locked, so a decision made meanwhile either waits
 * for this (and then withdraws the unsent task) or comes first (and this finds it closed).
 */
export async function notifyApprover(
  deps: { db: Database; publicBaseUrl: string | undefined },
  input: { workspaceId: string; approvalId: string },
  now: Date,
): Promise<ApproverNotice> {
  const { workspaceId, approvalId } = input;
  return deps.db.transaction().execute(async (tx) => {
    const row = (await tx
      .selectFrom('approvals')
      .innerJoin('decisions', (join) => join.onRef('decisions.workspace_id', '=', 'approvals.workspace_id').onRef('decisions.id', '=', 'approvals.decision_id'))
      .innerJoin('workspaces', 'workspaces.id', 'approvals.workspace_id')
      .innerJoin('deals', (join) => join.onRef('deals.workspace_id', '=', 'approvals.workspace_id').onRef('deals.deal_id', '=', 'approvals.deal_id'))
      .select(['approvals.status', 'approvals.expires_at', 'approvals.deal_id', 'approvals.decision_id', 'decisions.playbook_version', 'decisions.body', 'workspaces.mode', 'deals.owner_id'])
      .where('approvals.workspace_id', '=', workspaceId)
      .where('approvals.id', '=', approvalId)
      .forShare('approvals')
      .executeTakeFirst()) as ApprovalRow | undefined;
    if (!row) return { outcome: 'skipped', reason: 'the approval no longer exists' };
    if (row.status !== 'pending') return { outcome: 'skipped', reason: `the approval is already ${row.status}` };
    const expiresAt = new Date(row.expires_at);
    if (expiresAt <= now) return { outcome: 'skipped', reason: 'the approval has expired' };

    const stored = (await cachedPlaybookVersion(tx, workspaceId, row.playbook_version)) ?? (await currentPlaybook(tx, workspaceId));
    const playbook = stored.playbook;
    const settings = approvalsOf(playbook);
    if (settings.notify === 'none') return { outcome: 'skipped', reason: 'the playbook asks for no approval tasks (approvals.notify: none)' };

    const decision = row.body as RequestApprovalDecision;
    // The owner column mirrors the state's owner; the whole state is not needed here.
    const ownerId = row.owner_id;
    const alerting = alertingOf(playbook);
    const rule = approverRuleFor(decision, playbook);
    const people = await loadReportingChain(tx, workspaceId, ownerId);
    if ('ownerId' in rule) for (const [id, person] of await getPeople(tx, workspaceId, [rule.ownerId])) people.set(id, person);
    const choice = chooseApprover(rule, ownerId, people, alerting, now.getTime());
    if (choice.ownerId === null) return { outcome: 'skipped', reason: choice.why };

    const approver = people.get(choice.ownerId) ?? (await getPeople(tx, workspaceId, [choice.ownerId])).get(choice.ownerId);
    const dueAt = new Date(addWorkingDays(workingPatternOf(approver, alerting), now.getTime(), settings.taskDueBusinessDays));
    const labels = new Map(playbook.stages.map((stage) => [stage.key, stage.label]));
    const write = approvalTaskWrite({
      workspaceId,
      approvalId,
      dealId: row.deal_id,
      dealName: await dealNameOf(tx, workspaceId, row.deal_id),
      decision,
      stageLabel: (key) => labels.get(key) ?? key,
      approverId: choice.ownerId,
      why: choice.why,
      dueAt,
      expiresAt,
      publicBaseUrl: deps.publicBaseUrl,
    });
    const shadow = row.mode === 'shadow';
    const added = await enqueueWrites(tx, { workspaceId, dealId: row.deal_id, decisionId: String(row.decision_id), writes: [write], shadow });
    return { outcome: shadow ? 'shadow' : 'queued', approverId: choice.ownerId, idempotencyKey: write.idempotencyKey, added };
  });
}

/** The newest name the CRM gave the deal (imports and hydration carry it); null when none was seen. */
async function dealNameOf(tx: Tx, workspaceId: string, dealId: string): Promise<string | null> {
  const result = await sql<{ name: string }>`
    select payload->>'name' as name from signals
    where workspace_id = ${workspaceId} and deal_id = ${dealId} and type = 'crm.deal_created' and coalesce(payload->>'name', '') <> ''
    order by occurred_at desc
    limit 1
  `.execute(tx);
  return result.rows[0]?.name ?? null;
}

const noticePayload = z.object({ workspaceId: z.string(), approvalId: z.string().regex(/^\d+$/) });

/** The worker's job: tell the approver, then ask for a flush when a task was queued for sending. */
export function approvalJobs(deps: { db: Database; logger: Logger; config: { publicBaseUrl: string | undefined } }): TaskList {
  // Notices of one workspace come in bursts (an evaluation batch opens many approvals): rather than
  // each writing the flush job's row, they share one request (see worker/job-nudger.ts). It is for
  // "now", replacing a flush booked for a later retry: the approver should not wait for that.
  const nudgeFlush = createJobNudger((workspaceId) => scheduleFlush(deps.db, workspaceId));
  const notify: Task = async (raw) => {
    const input = noticePayload.parse(raw);
    const notice = await notifyApprover({ db: deps.db, publicBaseUrl: deps.config.publicBaseUrl }, input, new Date());
    const log = deps.logger.child({ ...input, component: 'approvals' });
    if (notice.outcome === 'skipped') log.info({ reason: notice.reason }, 'no approval task');
    else log.debug({ approverId: notice.approverId, outcome: notice.outcome }, 'approval task queued');
    if (notice.outcome === 'queued' && notice.added > 0) await nudgeFlush(input.workspaceId);
  };
  return { [NOTIFY_APPROVER_TASK]: notify };
}
