import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticateAdminToken, type AdminPrincipal } from '../workspaces/admin-tokens.ts';
import { AppError, notFound } from '../platform/errors.ts';
import type { Database } from '../platform/db.ts';

declare module 'fastify' {
  interface FastifyRequest {
    admin: AdminPrincipal | null;
  }
}

/** Requires a valid admin bearer token on every route of the scope it is registered in. */
export function requireAdminToken(app: FastifyInstance, db: Database): void {
  app.decorateRequest('admin', null);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new AppError(401, 'unauthorized', 'Send an admin token as "Authorization: Bearer <token>"');
    const principal = await authenticateAdminToken(db, match[1]);
    if (!principal) throw new AppError(401, 'unauthorized', 'The admin token is not valid or has been revoked');
    request.admin = principal;
  });
}

/**
 * A token scoped to one workspace sees nothing of any other: the answer is the same 404 a missing
 * workspace gets, so a scoped token cannot even learn which workspaces exist.
 */
export function assertWorkspaceAccess(request: FastifyRequest, workspaceId: string): void {
  const scope = request.admin?.workspaceId;
  if (scope && scope !== workspaceId) throw notFound(`Workspace ${workspaceId}`);
}

export function assertGlobalAdmin(request: FastifyRequest): void {
  if (request.admin?.workspaceId) throw new AppError(403, 'forbidden', 'This action needs a token that is not scoped to one workspace');
}
