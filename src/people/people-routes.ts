import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { conflict, notFound } from '../platform/errors.ts';
import { decodeCursor, pageQuery, paginate } from '../http/pagination.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { getPerson, listPeople, putPerson } from './people-store.ts';
import { isTimeZone } from './local-time.ts';
import { personFields, type PersonField } from './person-fields.ts';
import { loadPeopleSyncState, requestPeopleSync, type PeopleSyncStateRow } from './people-sync-store.ts';

const ownerId = z.string().min(1).max(100);
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:MM, 24-hour');
const isoDate = z.iso.date();

// A field present in the body (null included) is set through the API and wins over the CRM; a
// field left out takes the CRM's value, or nothing on record.
const personBody = z
  .object({
    name: z.string().max(200).nullable().optional(),
    email: z.email().nullable().optional(),
    managerId: ownerId.nullable().optional(),
    timeZone: z.string().refine(isTimeZone, 'use an IANA time zone such as America/New_York').nullable().optional(),
    workingDays: z.array(z.number().int().min(1).max(7)).min(1).max(7).nullable().optional(),
    workingHours: z
      .object({ start: clockTime, end: clockTime })
      .strict()
      .refine((h) => h.start < h.end, 'start must be before end')
      .nullable()
      .optional(),
    outOfOffice: z
      .array(z.object({ from: isoDate, to: isoDate }).strict().refine((r) => r.from <= r.to, 'from must not be after to'))
      .max(100)
      .optional(),
    slackUserId: z.string().regex(/^[UW][A-Z0-9]{2,30}$/, 'a Slack member id such as U024BE7LH').nullable().optional(),
  })
  .strict();

const fieldSource = z.enum(['api', 'crm', 'default']);

const personView = z.object({
  ownerId: z.string(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  managerId: z.string().nullable(),
  timeZone: z.string().nullable(),
  workingDays: z.array(z.number()).nullable(),
  workingHours: z.object({ start: z.string(), end: z.string() }).nullable(),
  outOfOffice: z.array(z.object({ from: z.string(), to: z.string() })),
  slackUserId: z.string().nullable(),
  source: z.enum(['api', 'crm', 'crm+api']),
  fieldSources: z.object(Object.fromEntries(personFields.map((f) => [f, fieldSource])) as Record<PersonField, typeof fieldSource>),
  active: z.boolean(),
  inactiveSince: z.string().nullable(),
  inactiveReason: z.string().nullable(),
  crmSeenAt: z.string().nullable(),
  updatedAt: z.string(),
});

const peopleSyncView = z.object({
  status: z.enum(['never', 'queued', 'running', 'waiting', 'completed', 'failed']),
  reason: z.string().nullable(),
  requestedAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  people: z.number(),
  deactivated: z.number(),
  error: z.record(z.string(), z.unknown()).nullable(),
});

function syncView(row: PeopleSyncStateRow | undefined): z.infer<typeof peopleSyncView> {
  if (!row) return { status: 'never', reason: null, requestedAt: null, startedAt: null, finishedAt: null, people: 0, deactivated: 0, error: null };
  return {
    status: row.status,
    reason: row.reason,
    requestedAt: row.requested_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    people: row.people,
    deactivated: row.deactivated,
    error: row.error,
  };
}

export const peopleRoutes: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.put('/workspaces/:workspaceId/people/:ownerId', {
    schema: {
      summary: "Set a CRM owner's directory entry: manager, time zone, working days and hours, out-of-office dates, Slack id (fields sent win over the CRM's)",
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId, ownerId }),
      body: personBody,
      response: { 200: personView },
    },
  }, async (request) => {
    const { workspaceId: ws, ownerId: id } = request.params;
    await requireWorkspace(db, request, ws);
    return putPerson(db, ws, id, request.body);
  });

  // `sync` is a static segment, so it wins over /people/:ownerId (no CRM owner id is "sync").
  api.post('/workspaces/:workspaceId/people/sync', {
    schema: {
      summary: "Read the CRM's owners/users into the people directory now (a job; API-set fields keep their values)",
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      response: { 202: peopleSyncView },
    },
  }, async (request, reply) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const connection = await db.selectFrom('connections').select('workspace_id').where('workspace_id', '=', ws).executeTakeFirst();
    if (!connection) throw conflict('no_connection', `Workspace ${ws} has no CRM connection to read people from; set one with PUT /api/workspaces/${ws}/connection first`);
    const row = await requestPeopleSync(db, ws, { reason: 'api' });
    void reply.code(202);
    return syncView(row);
  });

  api.get('/workspaces/:workspaceId/people/sync', {
    schema: {
      summary: "When the people directory was last read from the CRM, how many people it listed, and the last error",
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      response: { 200: peopleSyncView },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    return syncView(await loadPeopleSyncState(db, ws));
  });

  api.get('/workspaces/:workspaceId/people/:ownerId', {
    schema: { summary: "A CRM owner's directory entry", security: [{ adminToken: [] }], params: z.object({ workspaceId, ownerId }), response: { 200: personView } },
  }, async (request) => {
    const { workspaceId: ws, ownerId: id } = request.params;
    await requireWorkspace(db, request, ws);
    const person = await getPerson(db, ws, id);
    if (!person) throw notFound(`Person ${id}`);
    return person;
  });

  api.get('/workspaces/:workspaceId/people', {
    schema: {
      summary: 'The people directory, by owner id',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      querystring: pageQuery,
      response: { 200: z.object({ items: z.array(personView), nextCursor: z.string().nullable() }) },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const after = decodeCursor(request.query.cursor, ownerId);
    const rows = await listPeople(db, ws, { limit: request.query.limit + 1, after });
    return paginate(rows, request.query.limit, (p) => p.ownerId);
  });
};
