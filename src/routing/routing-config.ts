import { z } from 'zod';

/**
 * A workspace's routing document (PUT /api/workspaces/{id}/routing). Owners are CRM owner ids;
 * their manager, time zone, working hours and leave live in the people directory (src/people).
 */
const name = z.string().trim().min(1).max(200);

export const routingOwner = z
  .object({
    ownerId: z.string().trim().min(1).max(100),
    territories: z.array(name).default([]),
    segments: z.array(name).default([]),
    /** Share of round-robin assignments relative to the others (2 = twice as many as 1). */
    weight: z.number().int().min(1).max(100).default(1),
    /** Most open deals this owner may hold; null for no limit. */
    capacity: z.number().int().min(0).nullable().default(null),
    /** false keeps the owner on record but out of every rotation. */
    active: z.boolean().default(true),
  })
  .strict();
export type RoutingOwner = z.infer<typeof routingOwner>;

export const routingConfig = z
  .object({
    /** Deal field holding the territory (e.g. a region); compared case-insensitively. */
    territoryField: name.default('territory'),
    /** Deal fields holding the industry or segment, tried in order. */
    segmentFields: z.array(name).min(1).default(['industry', 'segment']),
    /** Prefer owners inside their working hours; owners on leave are always skipped. */
    respectWorkingHours: z.boolean().default(true),
    /** Who takes a deal when nobody in the rotation can (all at capacity or away). */
    fallbackOwnerId: z.string().trim().min(1).nullable().default(null),
    owners: z.array(routingOwner).max(1000).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.owners.forEach((o, i) => {
      if (seen.has(o.ownerId)) ctx.addIssue({ code: 'custom', path: ['owners', i, 'ownerId'], message: `owner "${o.ownerId}" is listed twice` });
      seen.add(o.ownerId);
    });
  });
export type RoutingConfig = z.infer<typeof routingConfig>;
