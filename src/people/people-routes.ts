import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { notFound } from '../platform/errors.ts';
import { decodeCursor, pageQuery, paginate } from '../http/pagination.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { getPerson, listPeople, putPerson } from './people-store.ts';
import { isTimeZone } from './local-time.ts';

const ownerId = z.string().min(1).max(100);
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:MM, 24-hour');
const isoDate = z.iso.date();

const personBody = z
  .object({
    name: z.string().max(200).nullable().default(null),
    email: z.email().nullable().default(null),
    managerId: ownerId.nullable().default(null),
    timeZone: z.string().refine(isTimeZone, 'use an IANA time zone such as America/New_York').nullable().default(null),
    workingDays: z.array(z.number().int().min(1).max(7)).min(1).max(7).nullable().default(null),
    workingHours: z
      .object({ start: clockTime, end: clockTime })
      .strict()
      .refine((h) => h.start < h.end, 'start must be before end')
      .nullable()
      .default(null),
    outOfOffice: z
      .array(z.object({ from: isoDate, to: isoDate }).strict().refine((r) => r.from <= r.to, 'from must not be after to'))
      .max(100)
      .default([]),
    slackUserId: z.string().regex(/^[UW][A-Z0-9]{2,30}$/, 'a Slack member id such as U024BE7LH').nullable().default(null),
  })
  .strict();

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
  source: z.enum(['api', 'crm']),
  updatedAt: z.string(),
});

export const peopleRoutes: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.put('/workspaces/:workspaceId/people/:ownerId', {
    schema: {
      summary: "Set a CRM owner's directory entry: manager, time zone, working days and hours, out-of-office dates, Slack id",
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
