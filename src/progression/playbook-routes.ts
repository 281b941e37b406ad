import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { notFound } from '../platform/errors.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { playbookJsonSchema } from '../engine/playbook/parse.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { currentPlaybook, listPlaybookVersions, playbookVersion, type StoredPlaybook } from './playbook-store.ts';
import { publishCheckedPlaybook } from './publish-playbook.ts';

const playbookView = z.object({
  version: z.number(),
  format: z.enum(['yaml', 'json']),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  document: z.record(z.string(), z.unknown()),
  source: z.string(),
  warnings: z.array(z.string()).optional(),
});

const toView = (p: StoredPlaybook, warnings?: string[]) => ({
  version: p.version,
  format: p.format,
  createdAt: p.createdAt.toISOString(),
  createdBy: p.createdBy,
  document: p.playbook as unknown as Record<string, unknown>,
  source: p.sourceText,
  ...(warnings && warnings.length > 0 ? { warnings } : {}),
});

export const playbookRoutes: FastifyPluginAsync<{ db: Database; secretBox: SecretBox; logger: Logger; crmTimeoutMs: number }> = async (app, deps) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { db } = deps;
  // Playbooks are often written in YAML; the text is kept as sent so comments survive.
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_request, body, done) => done(null, body));

  api.get('/playbook/schema.json', {
    schema: { summary: 'The playbook JSON Schema (for editor autocompletion)', security: [{ adminToken: [] }] },
  }, async () => playbookJsonSchema());

  api.put('/workspaces/:workspaceId/playbook', {
    schema: {
      summary: 'Publish a new playbook version (JSON body, or YAML with Content-Type: application/yaml)',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      body: z.union([z.string(), z.record(z.string(), z.unknown())]),
      response: { 201: playbookView },
    },
  }, async (request, reply) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const text = typeof request.body === 'string' ? request.body : `${JSON.stringify(request.body, null, 2)}\n`;
    const { stored, warnings } = await publishCheckedPlaybook(deps, ws, text, request.admin?.name ?? null);
    return reply.code(201).send(toView(stored, warnings));
  });

  api.get('/workspaces/:workspaceId/playbook', {
    schema: { summary: 'The current playbook', security: [{ adminToken: [] }], params: z.object({ workspaceId }), response: { 200: playbookView } },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    return toView(await currentPlaybook(db, ws));
  });

  api.get('/workspaces/:workspaceId/playbook/versions', {
    schema: {
      summary: 'Every published playbook version, newest first',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      response: { 200: z.object({ items: z.array(z.object({ version: z.number(), format: z.string(), createdAt: z.string(), createdBy: z.string().nullable() })) }) },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    await currentPlaybook(db, ws);
    const rows = await listPlaybookVersions(db, ws);
    return { items: rows.map((r) => ({ version: r.version, format: r.format, createdAt: r.created_at.toISOString(), createdBy: r.created_by })) };
  });

  api.get('/workspaces/:workspaceId/playbook/versions/:version', {
    schema: {
      summary: 'One playbook version',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId, version: z.coerce.number().int().min(1) }),
      response: { 200: playbookView },
    },
  }, async (request) => {
    const { workspaceId: ws, version } = request.params;
    await requireWorkspace(db, request, ws);
    const stored = await playbookVersion(db, ws, version);
    if (!stored) throw notFound(`Playbook version ${version}`);
    return toView(stored);
  });
};
