import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { assertGlobalAdmin } from '../../http/admin-auth.ts';
import { getWorkspace, listWorkspaces, putWorkspace, type Workspace } from '../../workspaces/workspaces-dal.ts';
import { workspaceId as workspaceIdSchema } from '../../workspaces/workspace-routes.ts';
import { consoleWorkspace, pageContext, redirectWithNotice, sendHtml, type ConsoleDeps } from '../console-context.ts';
import { formOf } from '../console-http.ts';
import { html } from '../html.ts';
import { csrfField, errorList, formatTime, page, workspaceSections, wsPath } from '../layout.ts';

const createForm = z.object({ id: workspaceIdSchema, name: z.string().trim().min(1, 'give the workspace a name').max(200) });

const modeBadge = (mode: Workspace['mode']) =>
  mode === 'live' ? html`<span class="status good">live</span>` : html`<span class="status warn">shadow</span>`;

export const workspacePages: FastifyPluginAsync<ConsoleDeps> = async (app, deps) => {
  const { db } = deps;

  const listPage = async (request: Parameters<typeof pageContext>[0], problems: Array<{ where?: string; message: string }> = [], values: Record<string, string> = {}) => {
    const workspaces = await listWorkspaces(db, { limit: 500, onlyId: request.admin?.workspaceId ?? undefined });
    const scoped = request.admin?.workspaceId !== null && request.admin?.workspaceId !== undefined;
    return page('Workspaces', pageContext(request, { section: 'workspaces' }), html`
      ${workspaces.length === 0
        ? html`<p>No workspaces yet. Create one below; new workspaces start in shadow mode.</p>`
        : html`<table>
          <caption class="muted">Every workspace this token may see</caption>
          <thead><tr><th scope="col">Workspace</th><th scope="col">Id</th><th scope="col">Mode</th><th scope="col">Updated</th></tr></thead>
          <tbody>${workspaces.map((w) => html`<tr><td><a href="${wsPath(w.id)}">${w.name}</a></td><td><code>${w.id}</code></td><td>${modeBadge(w.mode)}</td><td>${formatTime(w.updatedAt)}</td></tr>`)}</tbody>
        </table>`}
      ${scoped ? '' : html`
      <h2>Create a workspace</h2>
      ${problems.length > 0 ? errorList('The workspace was not created', problems) : ''}
      <form method="post" action="/console/workspaces">
        ${csrfField(request.consoleCsrf)}
        <label for="ws-id">Id</label>
        <p class="hint" id="ws-id-hint">1–63 lowercase letters, digits, "-" or "_"; it appears in webhook URLs and cannot change.</p>
        <input type="text" id="ws-id" name="id" required aria-describedby="ws-id-hint" value="${values.id ?? ''}">
        <label for="ws-name">Name</label>
        <input type="text" id="ws-name" name="name" required value="${values.name ?? ''}">
        <div class="actions"><button type="submit" class="primary">Create in shadow mode</button></div>
      </form>`}`);
  };

  app.get('/workspaces', async (request, reply) => sendHtml(reply, await listPage(request)));

  app.post('/workspaces', async (request, reply) => {
    assertGlobalAdmin(request);
    const form = formOf(request);
    const parsed = createForm.safeParse(form);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => ({ where: String(i.path[0] ?? ''), message: i.message }));
      return sendHtml(reply, await listPage(request, problems, form), 400);
    }
    if (await getWorkspace(db, parsed.data.id)) {
      return sendHtml(reply, await listPage(request, [{ where: 'id', message: `a workspace ${parsed.data.id} exists already` }], form), 409);
    }
    await putWorkspace(db, { id: parsed.data.id, name: parsed.data.name, mode: 'shadow' });
    return redirectWithNotice(reply, wsPath(parsed.data.id), 'created');
  });

  const overview = (request: Parameters<typeof pageContext>[0], workspace: Workspace, confirmLive: boolean, problem?: string) =>
    page('Overview', pageContext(request, { workspace, section: 'overview' }), html`
      <dl class="facts">
        <dt>Id</dt><dd><code>${workspace.id}</code></dd>
        <dt>Mode</dt><dd>${modeBadge(workspace.mode)}</dd>
        <dt>Created</dt><dd>${formatTime(workspace.createdAt)}</dd>
      </dl>
      <h2>Mode</h2>
      ${workspace.mode === 'live'
        ? html`<p>Momentum writes its decisions to the CRM. Switch back to shadow mode to stop writing; decisions are still made and recorded.</p>
          <form method="post" action="${wsPath(workspace.id, '/mode')}">${csrfField(request.consoleCsrf)}
            <input type="hidden" name="mode" value="shadow">
            <button type="submit">Switch to shadow mode</button></form>`
        : confirmLive
          ? html`<div class="card" role="region" aria-labelledby="confirm-live">
              <h3 id="confirm-live">Confirm: go live</h3>
              <p>From now on, stage changes, tasks, notes and field updates that rules decide in <code>auto</code> mode are <strong>written to the CRM</strong>, and approved changes are written when approved.</p>
              ${problem ? html`<p class="errors" role="alert">${problem}</p>` : ''}
              <form method="post" action="${wsPath(workspace.id, '/mode')}">${csrfField(request.consoleCsrf)}
                <input type="hidden" name="mode" value="live">
                <label class="check" for="confirm"><input type="checkbox" id="confirm" name="confirm" value="yes" required> I understand that Momentum will write to the CRM of ${workspace.name}.</label>
                <div class="actions"><button type="submit" class="danger">Go live now</button> <a href="${wsPath(workspace.id)}">Cancel</a></div>
              </form></div>`
          : html`<p>Nothing is written to the CRM while the workspace is in shadow mode. Check the decisions on the deal timelines and the rule metrics before going live.</p>
            <form method="get" action="${wsPath(workspace.id)}"><input type="hidden" name="confirm" value="live">
              <button type="submit">Go live…</button></form>`}
      <h2>Sections</h2>
      <ul>${workspaceSections.filter(([key]) => key !== 'overview').map(([, suffix, label]) => html`<li><a href="${wsPath(workspace.id, suffix)}">${label}</a></li>`)}</ul>`);

  app.get('/w/:workspaceId', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const confirmLive = (request.query as Record<string, unknown>).confirm === 'live';
    return sendHtml(reply, overview(request, workspace, confirmLive));
  });

  app.post('/w/:workspaceId/mode', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const form = formOf(request);
    const mode = form.mode === 'live' ? 'live' : 'shadow';
    // Going live is the one change that makes Momentum write to a CRM: it takes a second, explicit step.
    if (mode === 'live' && form.confirm !== 'yes') {
      return sendHtml(reply, overview(request, workspace, true, 'Tick the box to confirm, then go live.'), 400);
    }
    await putWorkspace(db, { id: workspace.id, name: workspace.name, mode });
    return redirectWithNotice(reply, wsPath(workspace.id), mode === 'live' ? 'mode-live' : 'mode-shadow');
  });
};
