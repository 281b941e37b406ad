import type { Workspace } from '../workspaces/workspaces-dal.ts';
import type { AdminPrincipal } from '../workspaces/admin-tokens.ts';
import { html, type SafeHtml } from './html.ts';

export interface PageContext {
  principal: AdminPrincipal;
  csrf: string;
  /** The workspace the page belongs to; its sections appear in the navigation. */
  workspace?: Workspace;
  /** Which section of the workspace navigation is current. */
  section?: string;
  notice?: string | undefined;
}

export const workspaceSections = [
  ['overview', '', 'Overview'],
  ['connection', '/connection', 'Connection'],
  ['sources', '/sources', 'Sources'],
  ['playbook', '/playbook', 'Playbook'],
  ['approvals', '/approvals', 'Approvals'],
  ['deals', '/deals', 'Deal timeline'],
  ['rules', '/rules', 'Rule metrics'],
  ['outbox', '/outbox', 'Outbox and alerts'],
] as const;

export const wsPath = (workspaceId: string, suffix = '') => `/console/w/${encodeURIComponent(workspaceId)}${suffix}`;

/** Hidden field every POST form carries; the server refuses a POST without the session's token. */
export const csrfField = (csrf: string) => html`<input type="hidden" name="_csrf" value="${csrf}">`;

/** A form with one button that POSTs to `action` (retry, replay, acknowledge …). */
export function postButton(action: string, csrf: string, label: string, options: { ariaLabel?: string; fields?: SafeHtml } = {}): SafeHtml {
  const name = options.ariaLabel ? html` aria-label="${options.ariaLabel}"` : '';
  return html`<form method="post" action="${action}" class="inline">${csrfField(csrf)}${options.fields ?? ''}<button type="submit"${name}>${label}</button></form>`;
}

export function formatTime(value: string | Date | null | undefined): SafeHtml {
  if (value === null || value === undefined) return html`<span class="muted">never</span>`;
  const iso = new Date(value).toISOString();
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>`;
}

function navigation(ctx: PageContext): SafeHtml {
  const ws = ctx.workspace;
  return html`<nav aria-label="Console">
    <ul class="nav">
      <li><a href="/console/workspaces"${!ws && ctx.section === 'workspaces' ? html` aria-current="page"` : ''}>Workspaces</a></li>
      ${ws && workspaceSections.map(([key, suffix, label]) => html`<li><a href="${wsPath(ws.id, suffix)}"${ctx.section === key ? html` aria-current="page"` : ''}>${label}</a></li>`)}
    </ul>
  </nav>`;
}

/** The page shell: skip link, header with who is signed in, navigation, shadow banner, content. */
export function page(title: string, ctx: PageContext, body: SafeHtml): SafeHtml {
  const ws = ctx.workspace;
  const fullTitle = ws ? `${title} · ${ws.name}` : title;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${fullTitle} · Momentum console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <p class="brand">Momentum console${ws ? html` · <span class="ws">${ws.name} <span class="muted">(${ws.id})</span></span>` : ''}</p>
  <div class="who">Signed in as <strong>${ctx.principal.name}</strong>${ctx.principal.workspaceId ? html` <span class="muted">(workspace ${ctx.principal.workspaceId} only)</span>` : ''}
    <form method="post" action="/console/logout" class="inline">${csrfField(ctx.csrf)}<button type="submit">Sign out</button></form>
  </div>
  ${navigation(ctx)}
</header>
${ws?.mode === 'shadow' ? html`<div class="banner shadow" role="note"><strong>Shadow mode.</strong> This workspace decides and records everything but writes nothing to the CRM. <a href="${wsPath(ws.id)}">Change the mode</a></div>` : ''}
<main id="main" tabindex="-1">
<h1>${title}</h1>
${ctx.notice ? html`<p class="notice" role="status">${ctx.notice}</p>` : ''}
${body}
</main>
</body>
</html>`;
}

/** Pages outside a session (sign-in, errors before one exists). */
export function barePage(title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Momentum console</title>
<link rel="stylesheet" href="/console/assets/console.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<main id="main" tabindex="-1" class="narrow">
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

/** A problem list: what is wrong, where. */
export function errorList(title: string, problems: Array<{ where?: string | undefined; message: string }>, id?: string): SafeHtml {
  return html`<div class="errors" role="alert"${id ? html` id="${id}"` : ''}><h2>${title}</h2><ul>${problems.map((p) => html`<li>${p.where ? html`<code>${p.where}</code>: ` : ''}${p.message}</li>`)}</ul></div>`;
}
