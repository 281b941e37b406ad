import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '../platform/db.ts';
import type { AdminPrincipal } from '../workspaces/admin-tokens.ts';

export const SESSION_TTL_MS = 12 * 3600_000;

const hashId = (id: string) => createHash('sha256').update(id).digest('hex');

/**
 * Starts a console session for an authenticated admin token. The returned id goes into the cookie
 * and nowhere else; the table holds only its hash.
 */
export async function createConsoleSession(db: Database, principal: AdminPrincipal, now: Date): Promise<{ id: string; expiresAt: Date }> {
  const id = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await db.insertInto('console_sessions').values({ id_hash: hashId(id), admin_token_id: principal.tokenId, expires_at: expiresAt }).execute();
  // Ended sessions are dropped as new ones start, so the table never grows without bound.
  await db.deleteFrom('console_sessions').where('expires_at', '<=', now).execute();
  return { id, expiresAt };
}

/** The principal behind a session, while the session is unexpired and its token not revoked. */
export async function findConsoleSession(db: Database, id: string, now: Date): Promise<AdminPrincipal | undefined> {
  const row = await db
    .selectFrom('console_sessions')
    .innerJoin('admin_tokens', 'admin_tokens.id', 'console_sessions.admin_token_id')
    .select(['admin_tokens.id', 'admin_tokens.name', 'admin_tokens.workspace_id'])
    .where('console_sessions.id_hash', '=', hashId(id))
    .where('console_sessions.expires_at', '>', now)
    .where('admin_tokens.revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { tokenId: row.id, name: row.name, workspaceId: row.workspace_id } : undefined;
}

export async function endConsoleSession(db: Database, id: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('id_hash', '=', hashId(id)).execute();
}

/**
 * The CSRF token of a session: derived from its secret id, so it needs no storage, differs per
 * session, and a page that shows it reveals nothing that could sign in.
 */
export function csrfTokenFor(sessionId: string): string {
  return createHmac('sha256', sessionId).update('momentum console csrf').digest('base64url');
}

export function sameToken(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
