import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError, conflict, notFound } from '../../platform/errors.ts';
import type { DeliveryStatus } from '../../platform/schema.ts';
import { webhookAdapter } from '../../integrations/registry.ts';
import { webhookSourceNames, type AnyWebhookSourceAdapter, type WebhookSourceName } from '../../integrations/webhook-source.ts';
import { loadSourceConfig, putSourceConfig, toView } from '../../ingest/source-config-store.ts';
import { countDeliveries, deliveryStatuses, listDeliveries } from '../../ingest/delivery-queries.ts';
import { replayDelivery } from '../../ingest/replay-delivery.ts';
import { publicBaseUrl, webhookUrlFor } from '../../ingest/webhook-url.ts';
import type { Workspace } from '../../workspaces/workspaces-dal.ts';
import { consoleWorkspace, pageContext, sendHtml, type ConsoleDeps } from '../console-context.ts';
import { formOf, type FormBody } from '../console-http.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, errorList, formatTime, page, postButton, wsPath } from '../layout.ts';

/** Settings a source needs besides its secrets, as a starting point for a new one. */
const starterSettings: Record<WebhookSourceName, Record<string, unknown>> = {
  hubspot: { appId: '', portalId: '' },
  salesforce: { organizationId: '' },
  docusign: {},
  pandadoc: {},
  gong: { mode: 'url_token' },
};

const vendorNames: Record<WebhookSourceName, string> = { hubspot: 'HubSpot', salesforce: 'Salesforce', docusign: 'DocuSign Connect', pandadoc: 'PandaDoc', gong: 'Gong' };

const statusClass: Record<DeliveryStatus, string> = { accepted: 'good', duplicate: '', ignored: '', unattributed: 'warn', rejected: 'bad' };

const RECENT_DAYS = 7;

type Problems = Array<{ where?: string; message: string }>;

/** The body `putSourceConfig` takes: the settings JSON plus each secret typed, as a list. */
export function sourceBodyFromForm(
  adapter: AnyWebhookSourceAdapter,
  form: FormBody,
  storedSecrets: Record<string, unknown>,
): { body: Record<string, unknown> } | { problems: Problems } {
  let settings: unknown;
  try {
    settings = JSON.parse(form.settings?.trim() || '{}');
  } catch (error) {
    return { problems: [{ where: 'settings', message: `not valid JSON: ${(error as Error).message}` }] };
  }
  if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) return { problems: [{ where: 'settings', message: 'expected a JSON object' }] };
  const body: Record<string, unknown> = { ...(settings as Record<string, unknown>) };
  for (const field of adapter.secretFields) {
    // Secrets never travel in the settings box: they go in their own write-only fields.
    if (field in body) return { problems: [{ where: 'settings', message: `put ${field} in its own secret field, not in the settings` }] };
    const value = form[`secret.${field}`]?.trim();
    if (!value) continue;
    const stored = storedSecrets[field];
    const previous = Array.isArray(stored) ? stored : stored ? [stored] : [];
    body[field] = form[`rotate.${field}`] === 'yes' ? [...previous, value] : [value];
  }
  return { body };
}

function splitStoredSecrets(adapter: AnyWebhookSourceAdapter, config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(adapter.secretFields.map((field) => [field, config[field]]));
}

export const sourcePages: FastifyPluginAsync<ConsoleDeps> = async (app, deps) => {
  const { db, secretBox } = deps;
  const base = publicBaseUrl(deps.config);

  const sourceCard = async (request: FastifyRequest, workspace: Workspace, name: WebhookSourceName, counts: Record<DeliveryStatus, number> | undefined, failed?: { problems: Problems; form: FormBody }): Promise<SafeHtml> => {
    const adapter = webhookAdapter(name)!;
    const stored = await loadSourceConfig(db, secretBox, adapter, workspace.id);
    const view = stored ? toView(adapter, stored.config as Record<string, unknown>, stored.lastVerifiedAt, stored.updatedAt) : undefined;
    const settingsText = failed?.form.settings ?? JSON.stringify(view?.config ?? starterSettings[name], null, 2);
    const id = (suffix: string) => `${name}-${suffix}`;
    return html`<section class="card" aria-labelledby="${id('heading')}">
      <h2 id="${id('heading')}">${vendorNames[name]}</h2>
      <dl class="facts">
        <dt>Webhook URL</dt><dd><code>${webhookUrlFor(base, workspace.id, adapter)}</code></dd>
        <dt>Configured</dt><dd>${view ? html`yes, ${formatTime(view.updatedAt)}` : html`<span class="muted">no</span>`}</dd>
        ${adapter.secretFields.map((field) => {
          const secret = view?.secrets[field];
          return html`<dt>${field}</dt><dd>${secret?.set ? html`<span class="status good">set</span>${secret.count && secret.count > 1 ? ` (${secret.count} active)` : ''}` : html`<span class="status warn">not set</span>`}</dd>`;
        })}
        <dt>Last verified delivery</dt><dd>${formatTime(view?.lastVerifiedAt ?? null)}</dd>
        <dt>Last ${RECENT_DAYS} days</dt><dd>${counts
          ? html`${deliveryStatuses.map((s) => `${counts[s]} ${s}`).join(', ')}${counts.rejected > 0 ? html` — <strong>${counts.rejected} refused</strong>` : ''}`
          : html`<span class="muted">no deliveries</span>`}</dd>
      </dl>
      <details${failed ? html` open` : ''}>
        <summary>${view ? 'Change settings or secrets' : 'Configure'}</summary>
        ${failed ? errorList('The source was not saved', failed.problems) : ''}
        <form method="post" action="${wsPath(workspace.id, `/sources/${name}`)}">
          ${csrfField(request.consoleCsrf)}
          <label for="${id('settings')}">Settings (JSON)</label>
          <p class="hint" id="${id('settings-hint')}">Everything but the secrets; see docs/webhooks.md for the fields of ${vendorNames[name]}.</p>
          <textarea id="${id('settings')}" name="settings" class="code" rows="5" spellcheck="false" aria-describedby="${id('settings-hint')}">${settingsText}</textarea>
          ${adapter.secretFields.map((field) => html`
            <label for="${id(`secret-${field}`)}">${field} (secret)</label>
            <p class="hint" id="${id(`secret-${field}-hint`)}">${view?.secrets[field]?.set ? 'Set. Leave empty to keep it; it is never shown.' : 'Not set.'}</p>
            <input type="password" id="${id(`secret-${field}`)}" name="secret.${field}" autocomplete="off" aria-describedby="${id(`secret-${field}-hint`)}">
            ${view?.secrets[field]?.set ? html`<label class="check" for="${id(`rotate-${field}`)}"><input type="checkbox" id="${id(`rotate-${field}`)}" name="rotate.${field}" value="yes"> Keep the current ${field} active too (while rotating)</label>` : ''}`)}
          <div class="actions"><button type="submit" class="primary">Save ${vendorNames[name]}</button></div>
        </form>
      </details>
    </section>`;
  };

  const render = async (request: FastifyRequest, workspace: Workspace, failed?: { source: WebhookSourceName; problems: Problems; form: FormBody }) => {
    const query = request.query as Record<string, string | undefined>;
    const status = deliveryStatuses.find((s) => s === query.status);
    const counts = await countDeliveries(db, workspace.id, new Date(deps.now().getTime() - RECENT_DAYS * 86_400_000));
    const cards = [];
    for (const name of webhookSourceNames) cards.push(await sourceCard(request, workspace, name, counts.get(name), failed?.source === name ? failed : undefined));
    const deliveries = await listDeliveries(db, workspace.id, { limit: 50, status });
    const added = query.notice === 'replayed' && /^\d+$/.test(query.events ?? '') && /^\d+$/.test(query.signals ?? '')
      ? ` It added ${query.events} event(s) and ${query.signals} signal(s).` : '';
    const ctx = pageContext(request, { workspace, section: 'sources' });
    if (ctx.notice) ctx.notice += added;
    return page('Sources', ctx, html`
      <p>Paste each URL into the vendor's webhook settings. Signatures are checked against the secrets below; a request with a wrong signature is answered 401 and not stored (count them with <code>momentum_webhooks_total</code> on <code>/metrics</code>).</p>
      <div class="cards">${cards}</div>
      <h2 id="deliveries">Recent deliveries</h2>
      <form method="get" action="${wsPath(workspace.id, '/sources')}" class="actions">
        <label for="status-filter" class="check">Status</label>
        <select id="status-filter" name="status"><option value="">any</option>${deliveryStatuses.map((s) => html`<option value="${s}"${s === status ? html` selected` : ''}>${s}</option>`)}</select>
        <button type="submit">Show</button>
      </form>
      ${deliveries.length === 0 ? html`<p class="muted">No deliveries${status ? ` with status ${status}` : ''} yet.</p>` : html`<table>
        <thead><tr><th scope="col">Id</th><th scope="col">Received</th><th scope="col">Source</th><th scope="col">Status</th><th scope="col" class="num">Events</th><th scope="col" class="num">Signals</th><th scope="col">Reason</th><th scope="col">Replay</th></tr></thead>
        <tbody>${deliveries.map((d) => html`<tr>
          <td>${d.id}</td><td>${formatTime(d.received_at)}</td><td>${d.source}</td>
          <td><span class="status ${statusClass[d.status]}">${d.status}</span></td>
          <td class="num">${d.event_count}</td><td class="num">${d.signal_count}</td><td>${d.reason ?? ''}</td>
          <td>${d.body_bytes && !d.body_truncated ? postButton(wsPath(workspace.id, `/deliveries/${d.id}/replay`), request.consoleCsrf, 'Replay', { ariaLabel: `Replay delivery ${d.id}` }) : html`<span class="muted">no body kept</span>`}</td>
        </tr>`)}</tbody></table>`}`);
  };

  app.get('/w/:workspaceId/sources', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    return sendHtml(reply, await render(request, workspace));
  });

  app.post('/w/:workspaceId/sources/:source', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const adapter = webhookAdapter((request.params as { source: string }).source);
    if (!adapter) throw notFound('That source');
    const form = formOf(request);
    const stored = await loadSourceConfig(db, secretBox, adapter, workspace.id);
    const built = sourceBodyFromForm(adapter, form, stored ? splitStoredSecrets(adapter, stored.config as Record<string, unknown>) : {});
    const fail = (problems: Problems) => render(request, workspace, { source: adapter.source, problems, form: { settings: form.settings ?? '' } });
    if ('problems' in built) return sendHtml(reply, await fail(built.problems), 400);
    try {
      await putSourceConfig(db, secretBox, adapter, workspace.id, built.body);
    } catch (error) {
      if (!(error instanceof AppError) || error.statusCode !== 400) throw error;
      const details = (error.details ?? []) as Array<{ path?: string; message: string }>;
      // Zod may quote a rejected value; for a secret field show only where the problem is.
      const problems = details.length > 0
        ? details.map((d) => {
          const where = d.path?.replace(/^body\./, '');
          const secret = adapter.secretFields.some((f) => where === f || where?.startsWith(`${f}.`));
          return { where, message: secret ? 'this secret is not in the form the vendor uses (too short or empty?)' : d.message };
        })
        : [{ message: error.message }];
      return sendHtml(reply, await fail(problems), 400);
    }
    deps.sources.invalidate(workspace.id, adapter.source);
    return reply.redirect(`${wsPath(workspace.id, '/sources')}?notice=source-saved`, 303);
  });

  app.post('/w/:workspaceId/deliveries/:deliveryId/replay', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const deliveryId = (request.params as { deliveryId: string }).deliveryId;
    if (!/^\d{1,18}$/.test(deliveryId)) throw notFound(`Delivery ${deliveryId}`);
    const result = await replayDelivery(db, secretBox, workspace.id, deliveryId);
    if (result.kind === 'not_found') throw notFound(`Delivery ${deliveryId}`);
    if (result.kind === 'no_body') throw conflict('nothing_to_replay', `Delivery ${deliveryId} ${result.reason}`);
    if (result.newSignals > 0) deps.onSignalsStored();
    return reply.redirect(`${wsPath(workspace.id, '/sources')}?notice=replayed&events=${result.newEvents}&signals=${result.newSignals}#deliveries`, 303);
  });
};
