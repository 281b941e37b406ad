import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import type { Workspace } from '../../workspaces/workspaces-dal.ts';
import { loadConnection, putConnection, recordConnectionTest, type StoredConnection } from '../../writeback/connection-store.ts';
import { connectionUsage } from '../../writeback/connection-usage.ts';
import { crmClientFor } from '../../writeback/crm-target.ts';
import { queueImportForConnection } from '../../sync/sync-store.ts';
import { queuePeopleSyncForConnection } from '../../people/people-sync-store.ts';
import { consoleWorkspace, pageContext, redirectWithNotice, sendHtml, type ConsoleDeps } from '../console-context.ts';
import { formOf, type FormBody } from '../console-http.ts';
import { html } from '../html.ts';
import { csrfField, errorList, formatTime, page, postButton, wsPath } from '../layout.ts';

interface Field {
  name: string;
  label: string;
  secret?: boolean;
  multiline?: boolean;
  hint?: string;
  options?: readonly string[];
}

interface AuthKind {
  key: string;
  provider: 'hubspot' | 'salesforce';
  type: string;
  title: string;
  auth: Field[];
  settings: Field[];
}

const hubspotSettings: Field[] = [
  { name: 'appId', label: 'HubSpot app id', hint: 'Recognizes changes Momentum itself wrote when they come back as webhooks.' },
  { name: 'probabilityProperty', label: 'Probability property', hint: 'Deal property that receives the probability; empty: probability is not written.' },
  { name: 'taskKeyProperty', label: 'Task key property', hint: 'Optional single-line task property holding the idempotency key.' },
  { name: 'tier', label: 'Account tier', options: ['', 'starter', 'professional', 'enterprise', 'oauth_app'], hint: 'Sets the rate limits Momentum keeps to.' },
  { name: 'apiBaseUrl', label: 'API base URL', hint: 'Leave empty for https://api.hubapi.com.' },
];
const salesforceSettings: Field[] = [
  { name: 'apiVersion', label: 'API version', hint: 'For example 62.0; empty for the default.' },
  { name: 'integrationUserId', label: 'Integration user id', hint: 'The user Momentum writes as (005…); its changes are recognized as echoes.' },
  { name: 'taskExternalIdField', label: 'Task external id field', hint: 'Optional external-id field on Task, e.g. Momentum_Key__c.' },
];

const kinds: AuthKind[] = [
  { key: 'hubspot-private_app', provider: 'hubspot', type: 'private_app', title: 'HubSpot private app', auth: [{ name: 'accessToken', label: 'Access token', secret: true }], settings: hubspotSettings },
  {
    key: 'hubspot-oauth', provider: 'hubspot', type: 'oauth', title: 'HubSpot OAuth app',
    auth: [{ name: 'clientId', label: 'Client id' }, { name: 'clientSecret', label: 'Client secret', secret: true }, { name: 'refreshToken', label: 'Refresh token', secret: true }],
    settings: hubspotSettings,
  },
  {
    key: 'salesforce-refresh_token', provider: 'salesforce', type: 'refresh_token', title: 'Salesforce connected app (refresh token)',
    auth: [
      { name: 'clientId', label: 'Consumer key (client id)' },
      { name: 'clientSecret', label: 'Consumer secret', secret: true },
      { name: 'refreshToken', label: 'Refresh token', secret: true },
      { name: 'instanceUrl', label: 'Instance URL', hint: 'https://yourorg.my.salesforce.com' },
      { name: 'loginUrl', label: 'Login URL', hint: 'Empty for https://login.salesforce.com; https://test.salesforce.com for a sandbox.' },
    ],
    settings: salesforceSettings,
  },
  {
    key: 'salesforce-jwt', provider: 'salesforce', type: 'jwt', title: 'Salesforce connected app (JWT bearer)',
    auth: [
      { name: 'consumerKey', label: 'Consumer key' },
      { name: 'username', label: 'Username' },
      { name: 'privateKey', label: 'Private key (PEM)', secret: true, multiline: true },
      { name: 'loginUrl', label: 'Login URL', hint: 'Empty for https://login.salesforce.com.' },
      { name: 'instanceUrl', label: 'Instance URL' },
    ],
    settings: salesforceSettings,
  },
];

/** The request body `putConnection` takes, from a form: empty fields are left out (secrets: kept). */
export function connectionBodyFromForm(form: FormBody): { kind: AuthKind; body: Record<string, unknown> } | undefined {
  const kind = kinds.find((k) => k.key === form.kind);
  if (!kind) return undefined;
  const auth: Record<string, unknown> = { type: kind.type };
  for (const field of kind.auth) {
    const value = form[`auth.${field.name}`]?.trim();
    if (value) auth[field.name] = value;
  }
  const body: Record<string, unknown> = { provider: kind.provider, auth };
  for (const field of kind.settings) {
    const value = form[`setting.${field.name}`]?.trim();
    if (value) body[field.name] = value;
  }
  return { kind, body };
}

function currentKind(stored: StoredConnection | undefined): string | undefined {
  return stored ? `${stored.config.provider}-${stored.config.auth.type}` : undefined;
}

export const connectionPages: FastifyPluginAsync<ConsoleDeps> = async (app, deps) => {
  const { db, secretBox } = deps;

  const render = async (request: FastifyRequest, workspace: Workspace, problems: Array<{ where?: string; message: string }> = [], submitted?: FormBody) => {
    const stored = await loadConnection(db, secretBox, workspace.id);
    const usage = stored ? await connectionUsage(db, workspace.id, stored.config, deps.now()) : undefined;
    const view = stored?.view;
    const lastTest = view?.lastTest as { ok?: boolean; checks?: Array<{ name: string; ok: boolean; message: string }> } | null | undefined;
    const active = submitted?.kind ?? currentKind(stored) ?? 'hubspot-private_app';
    const visible = (stored?.view.config ?? {}) as Record<string, unknown>;
    const storedAuth = (visible.auth ?? {}) as Record<string, unknown>;

    const valueOf = (kind: AuthKind, group: 'auth' | 'setting', field: Field): string => {
      if (field.secret) return '';
      if (submitted && submitted.kind === kind.key) return submitted[`${group}.${field.name}`] ?? '';
      if (currentKind(stored) !== kind.key) return '';
      const value = group === 'auth' ? storedAuth[field.name] : visible[field.name];
      return typeof value === 'string' ? value : '';
    };

    const input = (kind: AuthKind, group: 'auth' | 'setting', field: Field) => {
      const id = `${kind.key}-${group}-${field.name}`;
      const name = `${group}.${field.name}`;
      const isSet = field.secret && currentKind(stored) === kind.key && storedAuth[field.name] !== undefined;
      const hint = field.secret ? (isSet ? 'Set. Leave empty to keep the stored value; it is never shown.' : 'Not set. Stored encrypted and never shown again.') : field.hint;
      const described = hint ? html` aria-describedby="${id}-hint"` : '';
      return html`<label for="${id}">${field.label}</label>
        ${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ''}
        ${field.options
          ? html`<select id="${id}" name="${name}"${described}>${field.options.map((o) => html`<option value="${o}"${valueOf(kind, group, field) === o ? html` selected` : ''}>${o === '' ? '(not set)' : o}</option>`)}</select>`
          : field.multiline
            ? html`<textarea id="${id}" name="${name}" class="code" rows="4" autocomplete="off" spellcheck="false"${described}></textarea>`
            : html`<input type="${field.secret ? 'password' : 'text'}" id="${id}" name="${name}" autocomplete="off" value="${valueOf(kind, group, field)}"${described}>`}`;
    };

    return page('Connection', pageContext(request, { workspace, section: 'connection' }), html`
      ${view
        ? html`<dl class="facts">
            <dt>Provider</dt><dd>${view.provider === 'hubspot' ? 'HubSpot' : 'Salesforce'} (${String(storedAuth.type ?? '')})</dd>
            <dt>Last test</dt><dd>${lastTest ? html`${lastTest.ok ? html`<span class="status good">passed</span>` : html`<span class="status bad">failed</span>`} ${formatTime(view.lastTestedAt)}` : html`<span class="muted">not tested yet</span>`}</dd>
            <dt>Access token expires</dt><dd>${view.tokenExpiresAt ? formatTime(view.tokenExpiresAt) : html`<span class="muted">no cached access token</span>`}</dd>
            <dt>API calls today</dt><dd>${usage!.today}${usage!.ownDailyLimit ? html` of ${usage!.ownDailyLimit} (Momentum's daily ceiling for this tier)` : ''}</dd>
            ${usage!.dailyLimit !== null ? html`<dt>CRM daily budget</dt><dd>${usage!.dailyUsed} used of ${usage!.dailyLimit}, as the CRM reports it</dd>` : ''}
            ${usage!.pausedUntil ? html`<dt>Paused until</dt><dd>${formatTime(usage!.pausedUntil)} <span class="muted">(the CRM asked us to wait)</span></dd>` : ''}
            <dt>Updated</dt><dd>${formatTime(view.updatedAt)}</dd>
          </dl>
          ${lastTest?.checks && lastTest.checks.length > 0 ? html`<h2>Last test</h2><table><thead><tr><th scope="col">Check</th><th scope="col">Result</th><th scope="col">What it means</th></tr></thead>
            <tbody>${lastTest.checks.map((c) => html`<tr><td>${c.name}</td><td>${c.ok ? html`<span class="status good">ok</span>` : html`<span class="status bad">failed</span>`}</td><td>${c.message}</td></tr>`)}</tbody></table>` : ''}
          <div class="actions">${postButton(wsPath(workspace.id, '/connection/test'), request.consoleCsrf, 'Test the connection now')}</div>`
        : html`<p>No CRM connection yet. Choose how Momentum signs in to the CRM below.</p>`}
      <h2>Set credentials</h2>
      <p>Credentials are encrypted at rest and never shown again, here or in the API. ${view ? 'Secret fields left empty keep their stored value when the provider and sign-in type stay the same.' : ''}</p>
      ${problems.length > 0 ? errorList('The connection was not saved', problems) : ''}
      ${kinds.map((kind) => html`<details class="card"${active === kind.key ? html` open` : ''}>
        <summary><strong>${kind.title}</strong>${currentKind(stored) === kind.key ? ' (current)' : ''}</summary>
        <form method="post" action="${wsPath(workspace.id, '/connection')}">
          ${csrfField(request.consoleCsrf)}
          <input type="hidden" name="kind" value="${kind.key}">
          ${kind.auth.map((f) => input(kind, 'auth', f))}
          ${kind.settings.map((f) => input(kind, 'setting', f))}
          <div class="actions"><button type="submit" class="primary">Save ${kind.title} credentials</button></div>
        </form>
      </details>`)}`);
  };

  app.get('/w/:workspaceId/connection', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    return sendHtml(reply, await render(request, workspace));
  });

  app.post('/w/:workspaceId/connection', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const form = formOf(request);
    const parsed = connectionBodyFromForm(form);
    if (!parsed) return sendHtml(reply, await render(request, workspace, [{ message: 'choose one of the sign-in types' }]), 400);
    try {
      await putConnection(db, secretBox, workspace.id, parsed.body);
    } catch (error) {
      if (!(error instanceof AppError) || error.statusCode !== 400) throw error;
      const details = (error.details ?? []) as Array<{ path?: string; message: string }>;
      const problems = details.length > 0 ? details.map((d) => ({ where: d.path?.replace(/^body\./, ''), message: d.message })) : [{ message: error.message }];
      return sendHtml(reply, await render(request, workspace, problems, form), 400);
    }
    // As through the API: a new connection brings in the CRM's open deals (docs/sync.md) and its people.
    await queueImportForConnection(db, workspace.id, deps.now());
    await queuePeopleSyncForConnection(db, workspace.id, deps.now());
    return redirectWithNotice(reply, wsPath(workspace.id, '/connection'), 'connection-saved');
  });

  app.post('/w/:workspaceId/connection/test', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const stored = await loadConnection(db, secretBox, workspace.id);
    if (!stored) throw new AppError(404, 'not_found', 'This workspace has no CRM connection to test');
    const client = crmClientFor({ db, secretBox, logger: deps.logger, config: { crmTimeoutMs: deps.config.crmTimeoutMs } }, workspace.id, stored.config);
    await recordConnectionTest(db, workspace.id, { ...(await client.testConnection()) });
    return redirectWithNotice(reply, wsPath(workspace.id, '/connection'), 'connection-tested');
  });
};
