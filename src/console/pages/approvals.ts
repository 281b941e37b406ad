import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { notFound } from '../../platform/errors.ts';
import { decideApproval, expireApprovals, listApprovals, type ApprovalListItem, type ApprovalStatus } from '../../writeback/approvals.ts';
import type { Workspace } from '../../workspaces/workspaces-dal.ts';
import { consoleWorkspace, pageContext, redirectWithNotice, sendHtml, type ConsoleDeps } from '../console-context.ts';
import { formOf } from '../console-http.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, formatTime, page, wsPath } from '../layout.ts';

const statuses: ApprovalStatus[] = ['pending', 'approved', 'rejected', 'expired', 'obsolete'];

/** A proposed change in words. */
export function describeProposed(proposed: unknown): string {
  const p = proposed as Record<string, unknown> | null;
  if (!p || typeof p.type !== 'string') return 'no change proposed';
  switch (p.type) {
    case 'advance_stage': return `advance from ${String(p.fromStage)} to ${String(p.toStage)}${Array.isArray(p.skipped) && p.skipped.length > 0 ? ` (skipping ${p.skipped.join(', ')})` : ''}`;
    case 'regress_stage': return `move back from ${String(p.fromStage)} to ${String(p.toStage)}`;
    case 'set_probability': return `set probability from ${p.from === null ? 'unset' : String(p.from)} to ${String(p.to)}`;
    case 'set_close_date': return `set close date from ${p.from === null ? 'unset' : String(p.from)} to ${String(p.to)}`;
    case 'create_task': return `create task "${String((p.task as { subject?: string } | undefined)?.subject ?? '')}"`;
    case 'update_field': return `set ${String(p.field)} to ${p.value === null ? 'empty' : String(p.value)}`;
    default: return p.type.replaceAll('_', ' ');
  }
}

export const approvalPages: FastifyPluginAsync<ConsoleDeps> = async (app, deps) => {
  const { db } = deps;

  const evidenceFor = async (workspaceId: string, items: ApprovalListItem[]) => {
    const ids = [...new Set(items.flatMap((i) => i.signalIds))].filter((id) => /^\d{1,18}$/.test(id));
    if (ids.length === 0) return new Map<string, { type: string; source: string; occurred_at: Date | string }>();
    const rows = await db.selectFrom('signals').select(['id', 'type', 'source', 'occurred_at']).where('workspace_id', '=', workspaceId).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [String(r.id), r]));
  };

  const card = (request: FastifyRequest, workspace: Workspace, item: ApprovalListItem, evidence: Awaited<ReturnType<typeof evidenceFor>>): SafeHtml => {
    const gates = item.missingGates as Array<{ stage?: string; label?: string; gateId?: string }>;
    const heading = `approval-${item.id}`;
    return html`<section class="card" aria-labelledby="${heading}">
      <h2 id="${heading}">Deal <a href="${wsPath(workspace.id, `/deals/${encodeURIComponent(item.dealId)}`)}">${item.dealId}</a>: ${describeProposed(item.proposed)}</h2>
      <dl class="facts">
        <dt>Rule</dt><dd><code>${item.ruleId}</code> (playbook v${item.playbookVersion})</dd>
        <dt>Why</dt><dd>${item.reason}</dd>
        <dt>Gates not met</dt><dd>${gates.length === 0 ? html`<span class="muted">none</span>` : html`<ul>${gates.map((g) => html`<li>${g.label ?? g.gateId ?? ''}${g.stage ? html` <span class="muted">(${g.stage})</span>` : ''}</li>`)}</ul>`}</dd>
        <dt>Evidence</dt><dd>${item.signalIds.length === 0 ? html`<span class="muted">no signals</span>` : html`<ul>${item.signalIds.map((id) => {
          const s = evidence.get(id);
          return html`<li>${s ? html`<code>${s.type}</code> from ${s.source}, ${formatTime(s.occurred_at)}` : html`signal ${id}`}</li>`;
        })}</ul>`}</dd>
        <dt>Requested</dt><dd>${formatTime(item.createdAt)}</dd>
        ${item.status === 'pending'
          ? html`<dt>Expires</dt><dd>${formatTime(item.expiresAt)}</dd>`
          : html`<dt>Decided</dt><dd>${item.status}${item.decidedBy ? ` by ${item.decidedBy}` : ''}${item.decidedReason ? `: ${item.decidedReason}` : ''}</dd>`}
      </dl>
      ${item.status === 'pending' ? html`<form method="post" action="${wsPath(workspace.id, `/approvals/${item.id}/approve`)}">
        ${csrfField(request.consoleCsrf)}
        <label for="reason-${item.id}">Reason (recorded with your decision)</label>
        <textarea id="reason-${item.id}" name="reason" rows="2" maxlength="2000"></textarea>
        <div class="actions">
          <button type="submit" class="primary">Approve</button>
          <button type="submit" formaction="${wsPath(workspace.id, `/approvals/${item.id}/reject`)}">Reject</button>
        </div>
      </form>` : ''}
    </section>`;
  };

  app.get('/w/:workspaceId/approvals', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    await expireApprovals(db, workspace.id, deps.now());
    const wanted = (request.query as Record<string, unknown>).status;
    const status = statuses.find((s) => s === wanted) ?? 'pending';
    const items = await listApprovals(db, workspace.id, { status, limit: 100 });
    const evidence = await evidenceFor(workspace.id, items);
    return sendHtml(reply, page('Approvals', pageContext(request, { workspace, section: 'approvals' }), html`
      <nav aria-label="Approval status"><ul class="nav">${statuses.map((s) => html`<li><a href="${wsPath(workspace.id, `/approvals?status=${s}`)}"${s === status ? html` aria-current="page"` : ''}>${s}</a></li>`)}</ul></nav>
      ${items.length === 0 ? html`<p>No ${status} approvals.</p>` : items.map((item) => card(request, workspace, item, evidence))}`));
  });

  for (const verdict of ['approve', 'reject'] as const) {
    app.post(`/w/:workspaceId/approvals/:approvalId/${verdict}`, async (request, reply) => {
      const workspace = await consoleWorkspace(deps, request);
      const approvalId = (request.params as { approvalId: string }).approvalId;
      if (!/^\d{1,18}$/.test(approvalId)) throw notFound(`Approval ${approvalId}`);
      const reason = formOf(request).reason?.trim().slice(0, 2000);
      await decideApproval(db, { workspaceId: workspace.id, approvalId, approve: verdict === 'approve', by: request.admin!.name, reason: reason || undefined, now: deps.now() });
      return redirectWithNotice(reply, wsPath(workspace.id, '/approvals'), verdict === 'approve' ? 'approved' : 'rejected');
    });
  }
};
