import type { FastifyRequest } from 'fastify';
import type { Database } from '../platform/db.ts';
import { notFound } from '../platform/errors.ts';
import { assertWorkspaceAccess } from '../http/admin-auth.ts';
import { getWorkspace, type Workspace } from './workspaces-dal.ts';

/** The workspace a request names, if the caller's token may see it; otherwise 404. */
export async function requireWorkspace(db: Database, request: FastifyRequest, workspaceId: string): Promise<Workspace> {
  assertWorkspaceAccess(request, workspaceId);
  const workspace = await getWorkspace(db, workspaceId);
  if (!workspace) throw notFound(`Workspace ${workspaceId}`);
  return workspace;
}
