import type { FastifyPluginAsync } from 'fastify';
import { notFound } from '../../platform/errors.ts';
import type { OutboxStatus } from '../../platform/schema.ts';
import { listOutbox, retryOutboxWrite } from '../../writeback/outbox-admin.ts';
import { acknowledgeAlert, listAlerts } from '../../alerts/alert-store.ts';
import { consoleWorkspace, pageContext, redirectWithNotice, sendHtml, type ConsoleDeps } from '../console-context.ts';
import { html } from '../html.ts';
import { formatTime, page, postButton, wsPath } from '../layout.ts';

const waiting: OutboxStatus[] = ['pending', 'sending', 'failed', 'held'];

function crmError(error: Record<string, unknown> | null) {
  if (!error) return html`<span class="muted">—</span>`;
  const message = typeof error.message === 'string' ? error.message : JSON.stringify(error);
  const code = typeof error.code === 'string' ? error.code : typeof error.status === 'number' ? String(error.status) : undefined;
  return html`${code ? html`<code>${code}</code> ` : ''}${message.length > 500 ? `${message.slice(0, 500)}…` : message}`;
}

function summary(payload: Record<string, unknown>): string {
  if (typeof payload.subject === 'string') return payload.subject;
  if (payload.fields && typeof payload.fields === 'object') return `fields: ${Object.keys(payload.fields).join(', ')}`;
  if (typeof payload.body === 'string') return payload.body.length > 80 ? `${payload.body.slice(0, 80)}…` : payload.body;
  return '';
}

export const outboxPages: FastifyPluginAsync<ConsoleDeps> = async (app, deps) => {
  const { db } = deps;

  app.get('/w/:workspaceId/outbox', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const [dead, pending, openAlerts, escalated] = await Promise.all([
      listOutbox(db, workspace.id, { limit: 100, status: 'dead' }),
      listOutbox(db, workspace.id, { limit: 100, statuses: waiting }),
      listAlerts(db, workspace.id, { state: 'open', limit: 100 }),
      listAlerts(db, workspace.id, { state: 'escalated', limit: 100 }),
    ]);
    const alerts = [...escalated, ...openAlerts].sort((a, b) => b.openedAt.localeCompare(a.openedAt));
    const writes = (rows: typeof dead, caption: string) => html`<table>
      <caption class="muted">${caption}</caption>
      <thead><tr><th scope="col">Id</th><th scope="col">Deal</th><th scope="col">Write</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col">Next attempt</th><th scope="col">CRM's answer</th><th scope="col">Action</th></tr></thead>
      <tbody>${rows.map((row) => html`<tr>
        <td>${row.id}</td>
        <td><a href="${wsPath(workspace.id, `/deals/${encodeURIComponent(row.deal_id)}`)}">${row.deal_id}</a></td>
        <td>${row.kind.replace('_', ' ')}<div class="muted">${summary(row.payload)}</div></td>
        <td><span class="status ${row.status === 'dead' || row.status === 'failed' ? 'bad' : ''}">${row.status}</span></td>
        <td class="num">${row.attempts}</td>
        <td>${row.status === 'dead' ? html`<span class="muted">none</span>` : formatTime(row.next_attempt_at)}</td>
        <td>${crmError(row.last_error)}</td>
        <td>${row.status === 'dead' || row.status === 'failed' ? postButton(wsPath(workspace.id, `/outbox/${row.id}/retry`), request.consoleCsrf, 'Retry', { ariaLabel: `Retry write ${row.id}` }) : ''}</td>
      </tr>`)}</tbody></table>`;
    return sendHtml(reply, page('Outbox and alerts', pageContext(request, { workspace, section: 'outbox' }), html`
      <h2>Dead writes</h2>
      <p>Writes the CRM refused for good, or that ran out of attempts. Fix the cause (credentials, a field, a deleted record), then retry.</p>
      ${dead.length === 0 ? html`<p class="muted">None.</p>` : writes(dead, 'Dead writes, newest first')}
      <h2>Waiting writes</h2>
      ${pending.length === 0 ? html`<p class="muted">None: everything queued has been sent.</p>` : writes(pending, 'Pending, sending, failed (will retry) and held writes')}
      <h2>Open alerts</h2>
      ${alerts.length === 0 ? html`<p class="muted">No open alerts.</p>` : html`<table>
        <thead><tr><th scope="col">Opened</th><th scope="col">Tier</th><th scope="col">Deal</th><th scope="col">Rule</th><th scope="col">Why</th><th scope="col">State</th><th scope="col">Action</th></tr></thead>
        <tbody>${alerts.map((a) => html`<tr>
          <td>${formatTime(a.openedAt)}</td>
          <td><span class="status ${a.tier === 'critical' ? 'bad' : a.tier === 'warning' ? 'warn' : 'good'}">${a.tier}</span></td>
          <td><a href="${wsPath(workspace.id, `/deals/${encodeURIComponent(a.dealId)}`)}">${a.dealId}</a></td>
          <td><code>${a.ruleId}</code></td>
          <td>${a.reason}</td>
          <td>${a.state}${a.rung > 0 ? ` (rung ${a.rung})` : ''}${a.requiresAck ? html` <span class="muted">needs acknowledgement</span>` : ''}</td>
          <td>${postButton(wsPath(workspace.id, `/alerts/${a.id}/ack`), request.consoleCsrf, 'Acknowledge', { ariaLabel: `Acknowledge alert ${a.id} on deal ${a.dealId}` })}</td>
        </tr>`)}</tbody></table>`}`));
  });

  app.post('/w/:workspaceId/outbox/:outboxId/retry', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const outboxId = (request.params as { outboxId: string }).outboxId;
    if (!/^\d{1,18}$/.test(outboxId)) throw notFound(`Outbox entry ${outboxId}`);
    await retryOutboxWrite(db, workspace.id, outboxId, deps.now());
    return redirectWithNotice(reply, wsPath(workspace.id, '/outbox'), 'retried');
  });

  app.post('/w/:workspaceId/alerts/:alertId/ack', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const alertId = (request.params as { alertId: string }).alertId;
    if (!/^\d{1,18}$/.test(alertId)) throw notFound(`Alert ${alertId}`);
    await acknowledgeAlert(db, workspace.id, alertId, request.admin!.name, deps.now());
    return redirectWithNotice(reply, wsPath(workspace.id, '/outbox'), 'acknowledged');
  });
};
