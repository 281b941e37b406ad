import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError, notFound } from '../../platform/errors.ts';
import { parsePlaybook, type PlaybookProblem } from '../../engine/playbook/parse.ts';
import { currentPlaybook, listPlaybookVersions, playbookVersion } from '../../progression/playbook-store.ts';
import { publishCheckedPlaybook } from '../../progression/publish-playbook.ts';
import type { BacktestReport } from '../../progression/backtest.ts';
import type { Workspace } from '../../workspaces/workspaces-dal.ts';
import { consoleWorkspace, pageContext, redirectWithNotice, sendHtml, type ConsoleDeps } from '../console-context.ts';
import { formOf } from '../console-http.ts';
import type { DryRun } from '../dry-runs.ts';
import { html, type SafeHtml } from '../html.ts';
import { diffLines, withContext } from '../line-diff.ts';
import { csrfField, errorList, formatTime, page, wsPath } from '../layout.ts';

const DRY_RUN_DAYS = 30;

type Problem = { where?: string | undefined; message: string };

/** A problem as a person reads it: where in the text (line, column), where in the document (path), what. */
export function describeProblem(p: PlaybookProblem | { path?: string; message: string; line?: number; column?: number }): Problem {
  const at = [p.line === undefined ? undefined : `line ${p.line}${p.column === undefined ? '' : `, column ${p.column}`}`, p.path || undefined].filter(Boolean).join(' · ');
  return { where: at || undefined, message: p.message };
}

export function diffView(before: string, after: string, caption: string): SafeHtml {
  const lines = withContext(diffLines(before, after));
  if (lines.length === 0) return html`<p class="muted">${caption}: no changes.</p>`;
  return html`<div class="diff"><table>
    <caption class="muted">${caption}</caption>
    <thead><tr><th scope="col" class="ln">Old</th><th scope="col" class="ln">New</th><th scope="col"><span class="muted">±</span></th><th scope="col">Line</th></tr></thead>
    <tbody>${lines.map((l) => l === null
      ? html`<tr class="gap"><td class="ln"></td><td class="ln"></td><td></td><td>⋯</td></tr>`
      : html`<tr class="${l.op}"><td class="ln">${l.oldLine ?? ''}</td><td class="ln">${l.newLine ?? ''}</td><td>${l.op === 'add' ? '+' : l.op === 'remove' ? '−' : ''}</td><td>${l.text}</td></tr>`)}</tbody>
  </table></div>`;
}

function backtestSummary(report: BacktestReport): SafeHtml {
  const pct = (value: number | null) => (value === null ? '—' : `${Math.round(value * 100)}%`);
  return html`<dl class="facts">
      <dt>Period</dt><dd>${formatTime(report.from)} to ${formatTime(report.to)}</dd>
      <dt>Deals replayed</dt><dd>${report.deals.total} (${report.deals.won} won, ${report.deals.lost} lost, ${report.deals.open} open)</dd>
      <dt>Decisions</dt><dd>${report.decisions}</dd>
    </dl>
    ${report.rules.length === 0 ? html`<p class="muted">No rule fired in this period.</p>` : html`<table>
      <caption class="muted">What each rule would have done</caption>
      <thead><tr><th scope="col">Rule</th><th scope="col" class="num">Fires</th><th scope="col" class="num">Advances</th><th scope="col" class="num">Regressions</th><th scope="col" class="num">Alerts</th><th scope="col" class="num">Approvals</th><th scope="col" class="num">Suggestions</th><th scope="col" class="num">Tasks</th><th scope="col" class="num">Won deals</th><th scope="col" class="num">Lost deals</th><th scope="col" class="num">Win rate</th></tr></thead>
      <tbody>${report.rules.map((r) => html`<tr><th scope="row"><code>${r.ruleId}</code></th><td class="num">${r.fires}</td><td class="num">${r.advances}</td><td class="num">${r.regressions}</td><td class="num">${r.alerts}</td><td class="num">${r.approvals}</td><td class="num">${r.suggestions}</td><td class="num">${r.tasks}</td><td class="num">${r.firedOnWon}</td><td class="num">${r.firedOnLost}</td><td class="num">${pct(r.winRate)}</td></tr>`)}</tbody>
    </table>`}`;
}

/** The part of the dry-run page that refreshes itself while the backtest runs. */
export function dryRunStatus(run: DryRun, statusUrl: string): SafeHtml {
  if (run.error) return html`<p class="errors" role="alert">${run.error}</p>`;
  if (!run.report) {
    const known = run.total !== null;
    return html`<p>Replaying the deals with signals in the last ${DRY_RUN_DAYS} days${known ? html`: ${run.done} of ${run.total}` : ' (counting them)'}…</p>
      <label for="dry-run-progress">Progress</label>
      <progress id="dry-run-progress"${known ? html` max="${run.total || 1}" value="${run.done}"` : ''}>${known ? `${run.done} of ${run.total}` : 'starting'}</progress>
      <p class="hint">This page updates itself. <a href="${statusUrl.replace(/\/status$/, '')}">Refresh</a> if it does not.</p>`;
  }
  return html`<h2>Dry-run result</h2>${backtestSummary(run.report)}`;
}

export const playbookPages: FastifyPluginAsync<ConsoleDeps> = async (app, deps) => {
  const { db } = deps;
  const publishDeps = { db, secretBox: deps.secretBox, logger: deps.logger, crmTimeoutMs: deps.config.crmTimeoutMs };

  const editor = async (request: FastifyRequest, workspace: Workspace, options: { draft?: string; problems?: Problem[]; checked?: boolean; status?: number } = {}) => {
    const current = await currentPlaybook(db, workspace.id);
    const versions = await listPlaybookVersions(db, workspace.id);
    const draft = options.draft ?? current.sourceText;
    const problems = options.problems ?? [];
    const base = wsPath(workspace.id, '/playbook');
    return page('Playbook', pageContext(request, { workspace, section: 'playbook' }), html`
      <p>Current version: <strong>v${current.version}</strong>, published ${formatTime(current.createdAt)}${current.createdBy ? ` by ${current.createdBy}` : ''}. The format is described in docs/playbook.md.</p>
      ${problems.length > 0 ? errorList(`The draft has ${problems.length} problem(s)`, problems, 'playbook-problems') : ''}
      ${options.checked && problems.length === 0 ? html`<p class="notice" role="status">The draft is valid. Review the changes below, try it over the last ${DRY_RUN_DAYS} days, then publish.</p>` : ''}
      <form method="post" action="${base}/check">
        ${csrfField(request.consoleCsrf)}
        <label for="playbook-text">Draft playbook (YAML or JSON)</label>
        <textarea id="playbook-text" name="text" class="editor" spellcheck="false"${problems.length > 0 ? html` aria-invalid="true" aria-describedby="playbook-problems"` : ''}>${draft}</textarea>
        <div class="actions">
          <button type="submit">Check and show changes</button>
          <button type="submit" formaction="${base}/dry-run">Dry run over the last ${DRY_RUN_DAYS} days</button>
          <button type="submit" formaction="${base}/publish" class="primary">Publish as v${current.version + 1}</button>
        </div>
      </form>
      ${options.checked ? html`<h2>Changes against v${current.version}</h2>${diffView(current.sourceText, draft, `v${current.version} → draft`)}` : ''}
      <h2>Version history</h2>
      <table><thead><tr><th scope="col">Version</th><th scope="col">Published</th><th scope="col">By</th><th scope="col">Format</th></tr></thead>
        <tbody>${versions.map((v) => html`<tr><td><a href="${base}/versions/${v.version}">v${v.version}</a>${v.version === current.version ? ' (current)' : ''}</td><td>${formatTime(v.created_at)}</td><td>${v.created_by ?? ''}</td><td>${v.format}</td></tr>`)}</tbody>
      </table>`);
  };

  const draftOf = (request: FastifyRequest) => (formOf(request).text ?? '').replace(/\r\n/g, '\n');
  const problemsOf = (text: string): Problem[] => {
    const parsed = parsePlaybook(text);
    return parsed.ok ? [] : parsed.problems.map(describeProblem);
  };

  app.get('/w/:workspaceId/playbook', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    return sendHtml(reply, await editor(request, workspace));
  });

  app.post('/w/:workspaceId/playbook/check', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const draft = draftOf(request);
    const problems = problemsOf(draft);
    return sendHtml(reply, await editor(request, workspace, { draft, problems, checked: true }), problems.length > 0 ? 400 : 200);
  });

  app.post('/w/:workspaceId/playbook/publish', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const draft = draftOf(request);
    const problems = problemsOf(draft);
    if (problems.length > 0) return sendHtml(reply, await editor(request, workspace, { draft, problems, checked: true }), 400);
    try {
      const { warnings } = await publishCheckedPlaybook(publishDeps, workspace.id, draft, request.admin!.name);
      return redirectWithNotice(reply, wsPath(workspace.id, '/playbook'), warnings.length > 0 ? 'published-unchecked' : 'published');
    } catch (error) {
      if (!(error instanceof AppError) || error.statusCode !== 400) throw error;
      const details = (error.details ?? []) as Array<{ path?: string; message: string; line?: number }>;
      const listed = details.length > 0 ? details.map(describeProblem) : [{ message: error.message }];
      return sendHtml(reply, await editor(request, workspace, { draft, problems: listed, checked: true }), 400);
    }
  });

  app.post('/w/:workspaceId/playbook/dry-run', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const draft = draftOf(request);
    const parsed = parsePlaybook(draft);
    if (!parsed.ok) return sendHtml(reply, await editor(request, workspace, { draft, problems: parsed.problems.map(describeProblem), checked: true }), 400);
    const run = deps.dryRuns.start({ workspaceId: workspace.id, tokenId: request.admin!.tokenId, draft, playbook: parsed.playbook, now: deps.now(), days: DRY_RUN_DAYS });
    return reply.redirect(wsPath(workspace.id, `/playbook/dry-runs/${run.id}`), 303);
  });

  const findRun = (request: FastifyRequest, workspace: Workspace) => {
    const run = deps.dryRuns.get((request.params as { runId: string }).runId, workspace.id, request.admin!.tokenId);
    if (!run) throw notFound('That dry run (results are kept for 30 minutes)');
    return run;
  };

  app.get('/w/:workspaceId/playbook/dry-runs/:runId', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const run = findRun(request, workspace);
    const current = await currentPlaybook(db, workspace.id);
    const base = wsPath(workspace.id, '/playbook');
    const statusUrl = `${base}/dry-runs/${run.id}/status`;
    const done = Boolean(run.report || run.error);
    return sendHtml(reply, page('Dry run', pageContext(request, { workspace, section: 'playbook' }), html`
      <p>The draft runs over the stored history of the last ${DRY_RUN_DAYS} days: each deal is replayed from the start with a daily clock. Nothing is written.</p>
      <div id="dry-run-status" aria-live="polite"${done ? '' : html` data-poll="${statusUrl}"`}>${dryRunStatus(run, statusUrl)}</div>
      <h2>Draft</h2>
      ${diffView(current.sourceText, run.draft, `v${current.version} → draft`)}
      <form method="post" action="${base}/publish">
        ${csrfField(request.consoleCsrf)}
        <label for="playbook-text">Draft playbook (YAML or JSON)</label>
        <textarea id="playbook-text" name="text" class="editor" spellcheck="false">${run.draft}</textarea>
        <div class="actions">
          <button type="submit" formaction="${base}/check">Back to checking</button>
          <button type="submit" class="primary">Publish as v${current.version + 1}</button>
        </div>
      </form>`));
  });

  app.get('/w/:workspaceId/playbook/dry-runs/:runId/status', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const run = findRun(request, workspace);
    const statusUrl = wsPath(workspace.id, `/playbook/dry-runs/${run.id}/status`);
    if (run.report || run.error) void reply.header('x-poll-done', '1');
    return sendHtml(reply, dryRunStatus(run, statusUrl));
  });

  app.get('/w/:workspaceId/playbook/versions/:version', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const version = Number((request.params as { version: string }).version);
    const stored = Number.isInteger(version) && version > 0 ? await playbookVersion(db, workspace.id, version) : undefined;
    if (!stored) throw notFound(`Playbook version ${(request.params as { version: string }).version}`);
    const previous = version > 1 ? await playbookVersion(db, workspace.id, version - 1) : undefined;
    return sendHtml(reply, page(`Playbook v${version}`, pageContext(request, { workspace, section: 'playbook' }), html`
      <p>Published ${formatTime(stored.createdAt)}${stored.createdBy ? ` by ${stored.createdBy}` : ''}. <a href="${wsPath(workspace.id, '/playbook')}">Back to the editor</a></p>
      ${previous ? html`<h2>Changes against v${previous.version}</h2>${diffView(previous.sourceText, stored.sourceText, `v${previous.version} → v${version}`)}` : ''}
      <h2>Text</h2>
      <pre>${stored.sourceText}</pre>`));
  });
};
