import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { notFound } from '../platform/errors.ts';
import { assertWorkspaceAccess } from '../http/admin-auth.ts';
import { decodeCursor, pageQuery, paginate } from '../http/pagination.ts';
import { getWorkspace, listWorkspaces, putWorkspace, type Workspace } from './workspaces-dal.ts';

export const workspaceId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'workspace ids are 1–63 lowercase letters, digits, "-" or "_"');

const workspaceBody = z.object({
  name: z.string().min(1).max(200),
  mode: z.enum(['shadow', 'live']).default('shadow'),
});

export const workspaceView = z.object({
  id: z.string(),
  name: z.string(),
  mode: z.enum(['shadow', 'live']),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const toView = (w: Workspace) => ({
  id: w.id,
  name: w.name,
  mode: w.mode,
  createdAt: w.createdAt.toISOString(),
  updatedAt: w.updatedAt.toISOString(),
});

export const workspaceRoutes: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.put('/workspaces/:workspaceId', {
    schema: {
      summary: 'Create or replace a workspace',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      body: workspaceBody,
      response: { 200: workspaceView, 201: workspaceView },
    },
  }, async (request, reply) => {
    assertWorkspaceAccess(request, request.params.workspaceId);
    const { workspace, created } = await putWorkspace(db, { id: request.params.workspaceId, ...request.body });
    return reply.code(created ? 201 : 200).send(toView(workspace));
  });

  api.get('/workspaces/:workspaceId', {
    schema: {
      summary: 'Read a workspace',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      response: { 200: workspaceView },
    },
  }, async (request) => {
    assertWorkspaceAccess(request, request.params.workspaceId);
    const workspace = await getWorkspace(db, request.params.workspaceId);
    if (!workspace) throw notFound(`Workspace ${request.params.workspaceId}`);
    return toView(workspace);
  });

  api.get('/workspaces', {
    schema: {
      summary: 'List workspaces',
      security: [{ adminToken: [] }],
      querystring: pageQuery,
      response: { 200: z.object({ items: z.array(workspaceView), nextCursor: z.string().nullable() }) },
    },
  }, async (request) => {
    const after = decodeCursor(request.query.cursor, z.string());
    // A scoped token lists only its own workspace.
    const rows = await listWorkspaces(db, { after, limit: request.query.limit + 1, onlyId: request.admin?.workspaceId ?? undefined });
    const page = paginate(rows, request.query.limit, (w) => w.id);
    return { items: page.items.map(toView), nextCursor: page.nextCursor };
  });
};
