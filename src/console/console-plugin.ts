import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors.ts';
import { authenticateAdminToken } from '../workspaces/admin-tokens.ts';
import { createConsoleSession, csrfTokenFor, endConsoleSession, findConsoleSession, sameToken, SESSION_TTL_MS } from './console-sessions.ts';
import {
  formOf, isSecureRequest, LOGIN_COOKIE, readCookie, registerFormParser, registerSecurityHeaders, safeNext, SESSION_COOKIE, setCookie,
} from './console-http.ts';
import { pageContext, sendHtml, type ConsoleDeps } from './console-context.ts';
import { html } from './html.ts';
import { barePage, page } from './layout.ts';
import { workspacePages } from './pages/workspaces.ts';
import { connectionPages } from './pages/connection.ts';
import { sourcePages } from './pages/sources.ts';
import { playbookPages } from './pages/playbook.ts';
import { approvalPages } from './pages/approvals.ts';
import { dealPages } from './pages/deals.ts';
import { rulePages } from './pages/rules.ts';
import { outboxPages } from './pages/outbox.ts';

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');

const PUBLIC_PATHS = new Set(['/console/login', '/console/assets/console.css', '/console/assets/console.js']);

/**
 * The ops console: server-rendered pages under /console, signed in with an admin token that becomes
 * a server-side session. Registered outside /api: it authenticates with its own cookie, and every
 * POST carries the session's CSRF token.
 */
export const consolePlugin: FastifyPluginAsync<ConsoleDeps> = async (app, deps) => {
  const { db, now } = deps;
  const styles = asset('console.css');
  const script = asset('console.js');
  const cookiePath = '/console';

  registerFormParser(app);
  registerSecurityHeaders(app);
  app.decorateRequest('admin', null);
  app.decorateRequest('consoleCsrf', '');

  app.setErrorHandler(async (error: Error, request, reply) => {
    const known = error instanceof AppError ? error : undefined;
    const validation = (error as { validation?: unknown }).validation !== undefined;
    const status = known?.statusCode ?? (validation ? 400 : (error as { statusCode?: number }).statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error }, 'console request failed');
    const message = status >= 500 ? 'Something went wrong on our side; the service log has the details.' : error.message;
    const body = html`<p>${message}</p><p><a href="/console/workspaces">Back to the workspaces</a></p>`;
    const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : status >= 500 ? 'Error' : 'Request refused';
    return sendHtml(reply, request.admin ? page(title, pageContext(request), body) : barePage(title, body), status);
  });

  // Every page but sign-in and the two assets needs a live session.
  app.addHook('preHandler', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (PUBLIC_PATHS.has(path)) return;
    const sessionId = readCookie(request, SESSION_COOKIE);
    const principal = sessionId ? await findConsoleSession(db, sessionId, now()) : undefined;
    if (!principal || !sessionId) {
      const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
      return reply.redirect(`/console/login${next}`, 303);
    }
    request.admin = principal;
    request.consoleCsrf = csrfTokenFor(sessionId);
    if (request.method === 'POST' && !sameToken(request.consoleCsrf, formOf(request)._csrf)) {
      throw new AppError(403, 'csrf', 'This form has expired or did not come from the console. Go back, reload the page and try again.');
    }
  });

  app.get('/assets/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=300').send(styles));
  app.get('/assets/console.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=300').send(script));

  const loginPage = (request: FastifyRequest, loginToken: string, problem?: string) => {
    const next = safeNext((request.query as Record<string, unknown>).next ?? formOf(request).next);
    return barePage('Sign in', html`
      <p>Paste an admin token (<code>mtm_…</code>). Create one with <code>npm run momentum -- token create --name &lt;you&gt;</code>.</p>
      ${problem ? html`<p class="errors" role="alert" id="login-problem">${problem}</p>` : ''}
      <form method="post" action="/console/login">
        <input type="hidden" name="_login" value="${loginToken}">
        <input type="hidden" name="next" value="${next}">
        <label for="token">Admin token</label>
        <input type="password" id="token" name="token" autocomplete="off" required${problem ? html` aria-describedby="login-problem"` : ''}>
        <div class="actions"><button type="submit" class="primary">Sign in</button></div>
      </form>`);
  };

  // Sign-in has no session yet, so its form is protected by a double-submit token instead.
  const freshLoginToken = (request: FastifyRequest, reply: Parameters<typeof setCookie>[0]) => {
    const value = randomBytes(24).toString('base64url');
    setCookie(reply, LOGIN_COOKIE, value, { path: '/console/login', maxAge: 3600, secure: isSecureRequest(request, deps.config.publicBaseUrl) });
    return value;
  };

  app.get('/login', async (request, reply) => sendHtml(reply, loginPage(request, freshLoginToken(request, reply))));

  app.post('/login', async (request, reply) => {
    const form = formOf(request);
    const expected = readCookie(request, LOGIN_COOKIE);
    if (!expected || !sameToken(expected, form._login)) {
      return sendHtml(reply, loginPage(request, freshLoginToken(request, reply), 'The sign-in form expired. Please try again.'), 403);
    }
    const principal = typeof form.token === 'string' ? await authenticateAdminToken(db, form.token.trim()) : null;
    if (!principal) {
      return sendHtml(reply, loginPage(request, freshLoginToken(request, reply), 'That token is not valid or has been revoked.'), 401);
    }
    const session = await createConsoleSession(db, principal, now());
    const secure = isSecureRequest(request, deps.config.publicBaseUrl);
    setCookie(reply, LOGIN_COOKIE, '', { path: '/console/login', maxAge: 0, secure });
    setCookie(reply, SESSION_COOKIE, session.id, { path: cookiePath, maxAge: Math.floor(SESSION_TTL_MS / 1000), secure });
    return reply.redirect(safeNext(form.next), 303);
  });

  app.post('/logout', async (request, reply) => {
    const sessionId = readCookie(request, SESSION_COOKIE);
    if (sessionId) await endConsoleSession(db, sessionId);
    setCookie(reply, SESSION_COOKIE, '', { path: cookiePath, maxAge: 0, secure: isSecureRequest(request, deps.config.publicBaseUrl) });
    return reply.redirect('/console/login', 303);
  });

  app.get('/', async (_request, reply) => reply.redirect('/console/workspaces', 303));

  // The pages get the dependencies only: passing this plugin's options on would repeat its prefix.
  const pageDeps: ConsoleDeps = {
    config: deps.config, db, secretBox: deps.secretBox, logger: deps.logger, sources: deps.sources, onSignalsStored: deps.onSignalsStored, now, dryRuns: deps.dryRuns,
  };
  for (const pages of [workspacePages, connectionPages, sourcePages, playbookPages, approvalPages, dealPages, rulePages, outboxPages]) {
    await app.register(pages, pageDeps);
  }
};
