import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Cookie names; the session cookie is scoped to the console's path. */
export const SESSION_COOKIE = 'momentum_console';
export const LOGIN_COOKIE = 'momentum_console_login';

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) {
      const value = part.slice(index + 1).trim();
      return /^[A-Za-z0-9_-]{1,200}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export interface CookieOptions {
  path: string;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
  secure: boolean;
}

/** HttpOnly (no script reads it) and SameSite=Strict (no other site's page sends it). */
export function setCookie(reply: FastifyReply, name: string, value: string, options: CookieOptions): void {
  const parts = [`${name}=${value}`, `Path=${options.path}`, `Max-Age=${options.maxAge}`, 'HttpOnly', 'SameSite=Strict'];
  if (options.secure) parts.push('Secure');
  const existing = reply.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  void reply.header('set-cookie', [...list, parts.join('; ')]);
}

/**
 * Cookies get the Secure flag when the browser reached us over https: directly, through a trusted
 * proxy, or on the public host a proxy in front serves over https.
 */
export function isSecureRequest(request: FastifyRequest, publicBaseUrl: string | undefined): boolean {
  if (request.protocol === 'https') return true;
  if (!publicBaseUrl?.startsWith('https:')) return false;
  return new URL(publicBaseUrl).hostname === request.hostname;
}

export type FormBody = Record<string, string>;

/** HTML forms post `application/x-www-form-urlencoded`; the console scope alone parses it. */
export function registerFormParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const form: FormBody = {};
    for (const [key, value] of new URLSearchParams(body as string)) form[key] = value;
    done(null, form);
  });
}

export function formOf(request: FastifyRequest): FormBody {
  const body = request.body;
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as FormBody) : {};
}

/**
 * Headers for every console answer: scripts and styles only from our own files (nothing inline can
 * run), never framed, no referrer leaving the site, no content sniffing, and nothing cached.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header(
      'content-security-policy',
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'same-origin');
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('cross-origin-opener-policy', 'same-origin');
    if (!request.url.startsWith('/console/assets/')) void reply.header('cache-control', 'no-store');
    return payload;
  });
}

/** A path inside the console to return to after signing in; anything else goes to the start page. */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/console\/[A-Za-z0-9/_.?=&%-]*$/.test(value) && !value.includes('//') ? value : '/console/workspaces';
}
