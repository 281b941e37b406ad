import { z } from 'zod';
import type { DealState, EngineMemory, PlanMilestone, Provider } from './types.ts';

/** A fresh mirror for a deal the engine has not seen yet. */
export function initialDealState(crmDealId: string, provider: Provider): DealState {
  return {
    schemaVersion: 1,
    crmDealId,
    provider,
    pipeline: null,
    stage: null,
    crmStage: null,
    stageEnteredAt: null,
    amount: null,
    closeDate: null,
    originalCloseDate: null,
    closeDateChanges: 0,
    ownerId: null,
    probability: null,
    createdAt: null,
    lastActivityAt: null,
    lastBuyerResponseAt: null,
    deleted: false,
    stakeholders: [],
    fields: {},
    healthScore: null,
    healthHistory: [],
    gatesMet: {},
    planMilestones: [],
    memory: initialMemory(),
  };
}

function initialMemory(): EngineMemory {
  return {
    watermark: null,
    recentSignalIds: {},
    emitted: {},
    alertsRaisedAt: {},
    writeSeq: 0,
    pendingRegressions: [],
    override: null,
    sequence: null,
    probabilityBoosts: [],
    repProbability: null,
    repCloseDate: null,
    engagementBand: null,
    healthBand: null,
    touches: [],
    lastSeenByType: {},
    crmAsOf: {},
  };
}

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');

export const planMilestoneSchema = z
  .object({
    id: z.string().min(1),
    title: z.string().min(1),
    dueDate: isoDate,
    owner: z.enum(['buyer', 'seller', 'both']).default('both'),
    completedAt: z.iso.datetime().nullable().default(null),
  })
  .strict();

export const planMilestonesSchema = z
  .array(planMilestoneSchema)
  .refine((list) => new Set(list.map((m) => m.id)).size === list.length, { message: 'milestone ids must be unique' });

/**
 * Replaces the deal's mutual action plan. Pure: returns a new state. Milestones are sorted by due
 * date so the timeline and the overdue check read them in order.
 */
export function setPlanMilestones(state: DealState, milestones: readonly z.input<typeof planMilestoneSchema>[]): DealState {
  const parsed: PlanMilestone[] = planMilestonesSchema.parse(milestones);
  const sorted = [...parsed].sort((a, b) => (a.dueDate === b.dueDate ? (a.id < b.id ? -1 : 1) : a.dueDate < b.dueDate ? -1 : 1));
  return { ...state, planMilestones: sorted };
}
