import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { notFound } from '../../platform/errors.ts';
import { dealTimeline, type TimelineEntry } from '../../progression/deal-timeline.ts';
import { replayStoredDeal } from '../../progression/replay-stored-deal.ts';
import type { Decision } from '../../engine/types.ts';
import type { Workspace } from '../../workspaces/workspaces-dal.ts';
import { consoleWorkspace, pageContext, sendHtml, type ConsoleDeps } from '../console-context.ts';
import { html, type SafeHtml } from '../html.ts';
import { formatTime, page, postButton, wsPath } from '../layout.ts';

const TIMELINE_LIMIT = 500;

const dealIdOf = (request: FastifyRequest) => {
  const id = (request.params as { dealId: string }).dealId;
  if (id.length === 0 || id.length > 100) throw notFound('That deal');
  return id;
};

function compact(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function entryView(entry: TimelineEntry): SafeHtml {
  switch (entry.kind) {
    case 'signal':
      return html`<li class="signal"><span class="kind">signal</span>${formatTime(entry.at)} · <code>${entry.type}</code> from ${entry.source}${entry.origin !== 'live' ? html` <span class="muted">(${entry.origin})</span>` : ''}
        <div class="muted"><code>${compact(entry.payload)}</code></div></li>`;
    case 'decision':
      return html`<li class="decision"><span class="kind">decision</span>${formatTime(entry.at)} · <strong>${entry.type.replaceAll('_', ' ')}</strong> by rule <code>${entry.ruleId}</code> (playbook v${entry.playbookVersion}, mode ${entry.mode}) · <span class="status">${entry.status.replaceAll('_', ' ')}</span>
        <div>${entry.reason}</div></li>`;
    case 'action':
      return html`<li class="action"><span class="kind">CRM write</span>${formatTime(entry.at)} · ${entry.action.replace('_', ' ')} · <span class="status ${entry.status === 'sent' ? 'good' : entry.status === 'dead' || entry.status === 'failed' ? 'bad' : ''}">${entry.status}</span>${entry.attempts > 0 ? ` after ${entry.attempts} attempt(s)` : ''}${entry.crmId ? html` · CRM id <code>${entry.crmId}</code>` : ''}
        ${entry.error ? html`<div class="errors">CRM answered: <code>${compact(entry.error)}</code></div>` : ''}</li>`;
    case 'approval':
      return html`<li class="approval"><span class="kind">approval</span>${formatTime(entry.at)} · ${entry.status}${entry.decidedBy ? ` by ${entry.decidedBy}` : ''}${entry.reason ? `: ${entry.reason}` : ''}</li>`;
  }
}

function replayView(playbookVersion: string, decisions: readonly Decision[], finalStage: string | null, evaluations: number): SafeHtml {
  return html`<section aria-labelledby="replay-heading" class="card">
    <h2 id="replay-heading">Replay under playbook v${playbookVersion}</h2>
    <p>${evaluations} evaluation(s) from a fresh state; final stage <strong>${finalStage ?? 'unknown'}</strong>. Nothing was stored or written.</p>
    ${decisions.length === 0 ? html`<p class="muted">No decisions.</p>` : html`<ol>${decisions.map((d) => html`<li>${formatTime(d.at)} · <strong>${d.type.replaceAll('_', ' ')}</strong> by <code>${d.ruleId}</code> (${d.mode}): ${d.reason}</li>`)}</ol>`}
  </section>`;
}

export const dealPages: FastifyPluginAsync<ConsoleDeps> = async (app, deps) => {
  const { db } = deps;

  const searchForm = (workspace: Workspace, value = '') => html`<form method="get" action="${wsPath(workspace.id, '/deals')}" role="search">
      <label for="deal-id">CRM deal id</label>
      <p class="hint" id="deal-id-hint">The HubSpot deal id or Salesforce opportunity id.</p>
      <input type="search" id="deal-id" name="dealId" required maxlength="100" value="${value}" aria-describedby="deal-id-hint">
      <div class="actions"><button type="submit" class="primary">Open timeline</button></div>
    </form>`;

  app.get('/w/:workspaceId/deals', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const wanted = (request.query as Record<string, unknown>).dealId;
    if (typeof wanted === 'string' && wanted.trim()) return reply.redirect(wsPath(workspace.id, `/deals/${encodeURIComponent(wanted.trim())}`), 303);
    const recent = await db.selectFrom('deals').select(['deal_id', 'stage', 'evaluated_at']).where('workspace_id', '=', workspace.id)
      .orderBy('updated_at', 'desc').limit(20).execute();
    return sendHtml(reply, page('Deal timeline', pageContext(request, { workspace, section: 'deals' }), html`
      ${searchForm(workspace)}
      <h2>Recently updated deals</h2>
      ${recent.length === 0 ? html`<p class="muted">No deals yet.</p>` : html`<ul>${recent.map((d) => html`<li><a href="${wsPath(workspace.id, `/deals/${encodeURIComponent(d.deal_id)}`)}">${d.deal_id}</a> <span class="muted">${d.stage ?? 'stage unknown'}, evaluated ${formatTime(d.evaluated_at)}</span></li>`)}</ul>`}`));
  });

  const dealPage = async (request: FastifyRequest, workspace: Workspace, dealId: string, replay?: SafeHtml) => {
    const deal = await db.selectFrom('deals').selectAll().where('workspace_id', '=', workspace.id).where('deal_id', '=', dealId).executeTakeFirst();
    const timeline = await dealTimeline(db, workspace.id, dealId, TIMELINE_LIMIT);
    if (!deal && timeline.length === 0) throw notFound(`Deal ${dealId}`);
    return page(`Deal ${dealId}`, pageContext(request, { workspace, section: 'deals' }), html`
      ${searchForm(workspace, dealId)}
      <h2>Mirror</h2>
      <dl class="facts">
        <dt>Stage</dt><dd>${deal?.stage ?? 'unknown'}${deal?.crm_stage ? html` <span class="muted">(CRM ${deal.crm_stage})</span>` : ''}</dd>
        <dt>In stage since</dt><dd>${formatTime(deal?.stage_entered_at ?? null)}</dd>
        <dt>Close date</dt><dd>${deal?.close_date ?? '—'}</dd>
        <dt>Owner</dt><dd>${deal?.owner_id ?? '—'}</dd>
        <dt>Health</dt><dd>${deal?.health_score ?? '—'}</dd>
        <dt>Last evaluated</dt><dd>${formatTime(deal?.evaluated_at ?? null)}${deal?.playbook_version ? ` with playbook v${deal.playbook_version}` : ''}</dd>
      </dl>
      <div class="actions">${postButton(wsPath(workspace.id, `/deals/${encodeURIComponent(dealId)}/replay`), request.consoleCsrf, 'Replay under the current playbook')}</div>
      ${replay ?? ''}
      <h2>Timeline</h2>
      <p class="muted">Oldest first: what arrived, what the rules decided and why, what was written to the CRM and what people decided.${timeline.length >= TIMELINE_LIMIT ? ` Showing the latest ${TIMELINE_LIMIT} of each kind.` : ''}</p>
      ${timeline.length === 0 ? html`<p>Nothing yet.</p>` : html`<ol class="timeline">${timeline.map(entryView)}</ol>`}`);
  };

  app.get('/w/:workspaceId/deals/:dealId', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    return sendHtml(reply, await dealPage(request, workspace, dealIdOf(request)));
  });

  // A replay reads and computes only, so its answer is shown at once rather than redirected.
  app.post('/w/:workspaceId/deals/:dealId/replay', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const dealId = dealIdOf(request);
    const { playbookVersion, result } = await replayStoredDeal(db, { workspaceId: workspace.id, dealId, choice: {}, now: deps.now() });
    const view = replayView(playbookVersion, result.decisions, result.finalState.stage, result.evaluations);
    return sendHtml(reply, await dealPage(request, workspace, dealId, view));
  });
};
