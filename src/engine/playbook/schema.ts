import { z } from 'zod';
import { seniorityLevels, signalTypes, stakeholderRole, type SignalType } from '../../signals/catalogue.ts';

/**
 * The playbook document: a team's pipeline, rules and policies. Stored as YAML or JSON text,
 * validated here, then compiled once (see compile.ts) before the engine runs it.
 */

const id = z.string().regex(/^[a-z][a-z0-9_.:-]*$/, 'use lowercase letters, digits and . _ : -');
const signalType = z.enum(signalTypes as [SignalType, ...SignalType[]]);
const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const modes = ['auto', 'approve', 'suggest', 'off'] as const;
export const mode = z.enum(modes);
export type Mode = z.infer<typeof mode>;

/** `customer_success` and `finance` receive hand-offs (onboarding, renewals); they hold no deal. */
export const roles = ['owner', 'manager', 'leadership', 'customer_success', 'finance'] as const;
export const role = z.enum(roles);
export type Role = z.infer<typeof role>;

export const alertTiers = ['critical', 'warning', 'opportunity'] as const;
export const alertTier = z.enum(alertTiers);
export type AlertTier = z.infer<typeof alertTier>;

/** Comparison applied to one payload field; a bare scalar means "equals". */
export const comparison = z.union([
  scalar,
  z
    .object({
      eq: scalar.optional(),
      ne: scalar.optional(),
      gt: z.number().optional(),
      gte: z.number().optional(),
      lt: z.number().optional(),
      lte: z.number().optional(),
      in: z.array(scalar).min(1).optional(),
      exists: z.boolean().optional(),
    })
    .strict(),
]);
export type Comparison = z.infer<typeof comparison>;

export const signalMatch = z
  .object({
    type: z.union([signalType, z.array(signalType).min(1)]),
    where: z.record(z.string(), comparison).optional(),
    withinDays: z.number().positive().optional(),
  })
  .strict();
export type SignalMatch = z.infer<typeof signalMatch>;

export interface Condition {
  signal?: SignalMatch | undefined;
  count?: CountCondition | undefined;
  field?: FieldCondition | undefined;
  stakeholder?: StakeholderCondition | undefined;
  owner?: OwnerCondition | undefined;
  all?: Condition[] | undefined;
  any?: Condition[] | undefined;
  not?: Condition | undefined;
}

const countCondition = z
  .object({
    type: z.union([signalType, z.array(signalType).min(1)]),
    where: z.record(z.string(), comparison).optional(),
    withinDays: z.number().positive().optional(),
    atLeast: z.number().int().min(1),
  })
  .strict();
export type CountCondition = z.infer<typeof countCondition>;

const fieldCondition = z
  .object({
    name: z.string().min(1),
    equals: scalar.optional(),
    exists: z.boolean().optional(),
    gte: z.number().optional(),
    lte: z.number().optional(),
    gt: z.number().optional(),
    lt: z.number().optional(),
  })
  .strict();
export type FieldCondition = z.infer<typeof fieldCondition>;

const stakeholderCondition = z
  .object({
    role: z.union([stakeholderRole, z.array(stakeholderRole).min(1)]).optional(),
    seniority: z.array(z.enum(seniorityLevels)).min(1).optional(),
    atLeast: z.number().int().min(1).optional(),
  })
  .strict();
export type StakeholderCondition = z.infer<typeof stakeholderCondition>;

/** Facts about the deal's owner, from the workspace's routing directory (see docs/routing.md). */
const ownerCondition = z
  .object({
    assigned: z.boolean().optional(),
    /** Not out of office and inside working hours now. */
    available: z.boolean().optional(),
    /** Known in the routing directory. */
    known: z.boolean().optional(),
    territory: z.array(z.string().min(1)).min(1).optional(),
    segment: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();
export type OwnerCondition = z.infer<typeof ownerCondition>;

const conditionKeys = ['signal', 'count', 'field', 'stakeholder', 'owner', 'all', 'any', 'not'] as const;

/** One key per node keeps documents readable and every error lands on a precise path. */
export const condition: z.ZodType<Condition> = z.lazy(() =>
  z
    .object({
      signal: signalMatch.optional(),
      count: countCondition.optional(),
      field: fieldCondition.optional(),
      stakeholder: stakeholderCondition.optional(),
      owner: ownerCondition.optional(),
      all: z.array(condition).min(1).optional(),
      any: z.array(condition).min(1).optional(),
      not: condition.optional(),
    })
    .strict()
    .refine((c) => conditionKeys.filter((k) => c[k] !== undefined).length === 1, {
      message: `a condition has exactly one of: ${conditionKeys.join(', ')}`,
    }),
);

export const taskSpec = z
  .object({
    subject: z.string().min(1),
    body: z.string().optional(),
    due: z
      .union([
        z.object({ businessDays: z.number().int().min(0) }).strict(),
        z.object({ hours: z.number().int().min(0) }).strict(),
      ])
      .optional(),
    priority: z.enum(['high', 'medium', 'low']).optional(),
    ownerRole: role.optional(),
  })
  .strict();
export type TaskSpec = z.infer<typeof taskSpec>;

export const alertSpec = z
  .object({
    tier: alertTier,
    type: id,
    recipients: z.array(role).min(1),
    message: z.string().optional(),
  })
  .strict();
export type AlertSpec = z.infer<typeof alertSpec>;

export const flagSpec = z.object({ type: id, message: z.string().optional() }).strict();
export type FlagSpec = z.infer<typeof flagSpec>;

const gate = z.object({ id, label: z.string().min(1), when: condition }).strict();
export type Gate = z.infer<typeof gate>;

const stage = z
  .object({
    key: id,
    label: z.string().min(1),
    crmStageIds: z
      .object({ hubspot: z.array(z.string().min(1)).optional(), salesforce: z.array(z.string().min(1)).optional() })
      .strict(),
    probability: z.number().min(0).max(100),
    probabilityCap: z.number().min(0).max(100).optional(),
    durationDays: z.object({ min: z.number().positive(), max: z.number().positive() }).strict().optional(),
    closed: z.enum(['won', 'lost']).optional(),
    exitGates: z.array(gate).default([]),
    onEntry: z
      .object({
        mode: mode.optional(),
        tasks: z.array(taskSpec).default([]),
        notify: z.array(alertSpec).default([]),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Stage = z.infer<typeof stage>;

const ruleBase = {
  id,
  description: z.string().optional(),
  mode,
};

const stageTarget = z.union([id, z.literal('next')]);

/** Activity, signal and milestone rules share one shape: a trigger condition and its effects. */
const triggerRule = z
  .object({
    ...ruleBase,
    type: z.enum(['activity', 'signal', 'milestone']),
    from: z.array(id).min(1).optional(),
    when: condition,
    advanceTo: stageTarget.optional(),
    /** A conclusive milestone moves the deal regardless of exit gates (e.g. contract signed). */
    conclusive: z.boolean().optional(),
    /** Advance only when gates are met; otherwise stay silent instead of suggesting. */
    onlyIfReady: z.boolean().optional(),
    adjustProbability: z.number().min(-50).max(50).optional(),
    maxPerStage: z.number().int().min(1).optional(),
    flag: flagSpec.optional(),
    alert: alertSpec.optional(),
  })
  .strict();
export type TriggerRule = z.infer<typeof triggerRule>;

const regressionRule = z
  .object({
    ...ruleBase,
    type: z.literal('regression'),
    from: z.array(id).min(1).optional(),
    when: condition,
    regressTo: z.union([id, z.literal('previous')]),
    /** Wait before regressing; a new stakeholder in the lost role during the wait cancels it. */
    grace: z.object({ days: z.number().positive().optional(), cancelWhenRoleFilled: z.boolean().default(true) }).strict().optional(),
    probabilityPenalty: z.number().min(0).max(100).optional(),
    alert: alertSpec.optional(),
  })
  .strict();
export type RegressionRule = z.infer<typeof regressionRule>;

/** Time rules may alert, flag or create tasks; the schema gives them no way to move a stage. */
const timeRule = z
  .object({
    ...ruleBase,
    type: z.literal('time'),
    check: z.enum(['stall_warning', 'stall_critical', 'stale_alert', 'stale_suggest', 'close_date_past', 'plan_overdue']),
    threshold: z.number().positive().optional(),
    alert: alertSpec.optional(),
    flag: flagSpec.optional(),
    task: taskSpec.optional(),
    suggest: taskSpec.optional(),
  })
  .strict();
export type TimeRule = z.infer<typeof timeRule>;

const probabilityRule = z.object({ ...ruleBase, type: z.literal('probability') }).strict();
export type ProbabilityRule = z.infer<typeof probabilityRule>;

const closeDateRule = z
  .object({
    ...ruleBase,
    type: z.literal('close_date'),
    source: z.enum(['velocity', 'timeline_signal']),
    when: condition.optional(),
  })
  .strict();
export type CloseDateRule = z.infer<typeof closeDateRule>;

const cadenceRule = z
  .object({ ...ruleBase, type: z.literal('cadence'), cadence: z.enum(['follow_up', 're_engagement']) })
  .strict();
export type CadenceRule = z.infer<typeof cadenceRule>;

/** Exactly one key set, so each trigger and action reads as one thing and errors land precisely. */
function exactlyOne<T extends object>(keys: readonly (keyof T)[], what: string) {
  return [(v: T) => keys.filter((k) => v[k] !== undefined).length === 1, { message: `${what} has exactly one of: ${keys.join(', ')}` }] as const;
}

/** A date read from a deal field, or from a payload field of the latest signal of a type. */
const dateSource = z
  .object({
    field: z.string().min(1).optional(),
    signal: z.object({ type: z.union([signalType, z.array(signalType).min(1)]), field: z.string().min(1) }).strict().optional(),
  })
  .strict()
  .refine(...exactlyOne<{ field?: unknown; signal?: unknown }>(['field', 'signal'], 'a date source'));
export type DateSource = z.infer<typeof dateSource>;

const timeTriggerKeys = ['quietDays', 'beforeDate', 'unworkedAssignmentHours'] as const;
const timeTrigger = z
  .object({
    /** No buyer or rep activity for this many days. */
    quietDays: z.number().positive().optional(),
    /** A fixed time before a date (a contract end, the next meeting). */
    beforeDate: z
      .object({ date: dateSource, days: z.number().min(0).optional(), hours: z.number().min(0).optional() })
      .strict()
      .optional(),
    /** The owner was assigned this many hours ago and nobody has touched the deal since. */
    unworkedAssignmentHours: z.number().positive().optional(),
  })
  .strict()
  .refine(...exactlyOne<Partial<Record<(typeof timeTriggerKeys)[number], unknown>>>(timeTriggerKeys, 'a time trigger'));
export type TimeTrigger = z.infer<typeof timeTrigger>;

const workflowTriggerKeys = ['signal', 'stageEntered', 'stageLeft', 'time', 'score'] as const;
const workflowTrigger = z
  .object({
    signal: signalMatch.optional(),
    stageEntered: z.array(id).min(1).optional(),
    stageLeft: z.array(id).min(1).optional(),
    time: timeTrigger.optional(),
    /** The health score crossing a value, in one direction. */
    score: z.object({ crosses: z.enum(['above', 'below']), value: z.number().min(0).max(100) }).strict().optional(),
  })
  .strict()
  .refine(...exactlyOne<Partial<Record<(typeof workflowTriggerKeys)[number], unknown>>>(workflowTriggerKeys, 'a trigger'));
export type WorkflowTrigger = z.infer<typeof workflowTrigger>;

/** A literal value, or a payload field of the latest matching signal (e.g. the competitor named). */
const fieldValue = z.union([
  scalar,
  z.null(),
  z.object({ fromSignal: z.object({ type: z.union([signalType, z.array(signalType).min(1)]), field: z.string().min(1) }).strict() }).strict(),
]);
export type FieldValue = z.infer<typeof fieldValue>;
const fieldWrite = z.object({ name: z.string().min(1), value: fieldValue }).strict();
export type FieldWrite = z.infer<typeof fieldWrite>;

const workflowActionKeys = ['task', 'alert', 'approval', 'updateField', 'assignOwner'] as const;
const workflowAction = z
  .object({
    /** Overrides the rule's mode for this action. */
    mode: mode.optional(),
    task: taskSpec.optional(),
    alert: alertSpec.optional(),
    /** Ask a person; approving performs `setField` (or creates the task `subject` names). */
    approval: z
      .object({ approver: role, subject: z.string().min(1), setField: fieldWrite.optional() })
      .strict()
      .optional(),
    updateField: fieldWrite.optional(),
    /** Routed by the workspace's routing rules; `reassign` excludes the current owner. */
    assignOwner: z
      .object({ reassign: z.boolean().default(false), fallback: z.enum(['manager', 'none']).default('manager') })
      .strict()
      .optional(),
  })
  .strict()
  .refine(...exactlyOne<Partial<Record<(typeof workflowActionKeys)[number], unknown>>>(workflowActionKeys, 'an action'));
export type WorkflowAction = z.infer<typeof workflowAction>;

/** A general trigger–condition–action rule (recipes); see docs/playbook.md, "Workflow rules". */
const workflowRule = z
  .object({
    ...ruleBase,
    type: z.literal('workflow'),
    trigger: workflowTrigger,
    /** Only while the deal is in one of these stages (closed stages included); any stage when absent. */
    stages: z.array(id).min(1).optional(),
    when: condition.optional(),
    actions: z.array(workflowAction).min(1),
  })
  .strict();
export type WorkflowRule = z.infer<typeof workflowRule>;

export const rule = z.discriminatedUnion('type', [
  triggerRule,
  regressionRule,
  timeRule,
  probabilityRule,
  closeDateRule,
  cadenceRule,
  workflowRule,
]);
export type Rule = z.infer<typeof rule>;

const bandKey = z.enum(['hot', 'warm', 'cooling', 'at_risk']);
export type BandKey = z.infer<typeof bandKey>;

const policies = z
  .object({
    /** Skipping stages always needs approval above this many skipped stages; at most 1. */
    stageSkip: z.object({ maxSkippedWithoutApproval: z.number().int().min(0).max(1) }).strict(),
    unmetGates: z.enum(['suggest', 'approve']),
    overrideRespectDays: z.number().min(0),
    alertThrottleHours: z.object({ default: z.number().min(0) }).catchall(z.number().min(0)),
    closeDate: z
      .object({
        driftAlertDays: z.number().positive(),
        changesFlagAt: z.number().int().min(1),
        driftAlert: alertSpec,
        approvalForExtensionDays: z.number().positive().optional(),
      })
      .strict(),
    engagement: z
      .object({
        windowDays: z.number().positive(),
        touchTypes: z.array(signalType).min(1),
        fast: z.object({ aboveTouchesPerWeek: z.number().min(0), multiplier: z.number().positive() }).strict(),
        normal: z.object({ multiplier: z.number().positive() }).strict(),
        slow: z.object({ belowTouchesPerWeek: z.number().min(0), multiplier: z.number().positive() }).strict(),
      })
      .strict(),
    stall: z.object({ warningMultiple: z.number().positive(), criticalMultiple: z.number().positive() }).strict(),
    stale: z.object({ alertDays: z.number().positive(), suggestDays: z.number().positive() }).strict(),
    championGraceDays: z.number().min(0),
    cadence: z
      .object({
        buyerResponse: z.array(signalMatch).min(1),
        followUp: z.object({ afterHours: z.number().positive(), task: taskSpec }).strict(),
        reengagement: z
          .object({
            startAfterQuietDays: z.number().positive(),
            steps: z.array(z.object({ day: z.number().int().min(1), task: taskSpec }).strict()).min(1),
          })
          .strict(),
      })
      .strict(),
    mutualActionPlan: z.object({ overdueAfterDays: z.number().min(0) }).strict(),
    health: z
      .object({
        weights: z
          .object({
            engagement: z.number().min(0),
            stakeholders: z.number().min(0),
            champion: z.number().min(0),
            urgency: z.number().min(0),
            timeInStage: z.number().min(0),
          })
          .strict(),
        stakeholderTarget: z.number().int().min(1),
        scoreDrop: z
          .object({ points: z.number().positive(), withinDays: z.number().positive(), alert: alertSpec, mode: mode.optional() })
          .strict(),
        bands: z
          .array(
            z
              .object({
                key: bandKey,
                min: z.number().min(0).max(100),
                alertOnEnter: alertSpec.extend({ direction: z.enum(['up', 'down', 'any']) }).strict().optional(),
              })
              .strict(),
          )
          .min(1),
        historyDays: z.number().positive(),
      })
      .strict(),
    probability: z
      .object({
        bandAdjustment: z.record(bandKey, z.number()),
        repDiscrepancyFlagPoints: z.number().positive().optional(),
      })
      .strict(),
    /** Signals that arrive this long after later ones were applied are still applied. */
    lateSignalWindowDays: z.number().min(0),
  })
  .strict();
export type Policies = z.infer<typeof policies>;

/** Alert delivery: channels per tier, escalation ladders, quiet hours, digests and fatigue limits (docs/alerts.md). */
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:MM, 24-hour');
export const alertChannels = ['crm_task', 'slack', 'digest'] as const;
const alertChannel = z.enum(alertChannels);
export type AlertChannel = z.infer<typeof alertChannel>;
const escalationRung = z
  .object({ afterDays: z.number().positive(), notify: z.array(role).default([]), flag: id.optional() })
  .strict();
export type EscalationRung = z.infer<typeof escalationRung>;
const tierDelivery = z
  .object({
    channels: z.array(alertChannel).min(1),
    requireAck: z.boolean().default(false),
    /** Rungs after the first delivery, counted from it, while nobody acknowledges. */
    escalation: z.array(escalationRung).default([]),
    taskDueBusinessDays: z.number().int().min(0).default(1),
  })
  .strict();
const deliveryWindow = z.object({ max: z.number().int().min(1), hours: z.number().positive() }).strict();
export const alertingSettings = z
  .object({
    timeZone: z.string().refine(isTimeZone, 'use an IANA time zone such as Europe/Berlin').default('UTC'),
    workingHours: z
      .object({ days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]), start: clockTime.default('09:00'), end: clockTime.default('18:00') })
      .strict()
      .prefault({}),
    quietHours: z.union([z.enum(['outside_working_hours', 'off']), z.object({ from: clockTime, to: clockTime }).strict()]).default('outside_working_hours'),
    digest: z.object({ hour: z.number().int().min(0).max(23).default(8) }).strict().prefault({}),
    tiers: z
      .object({ critical: tierDelivery, warning: tierDelivery, opportunity: tierDelivery })
      .strict()
      .prefault({
        critical: { channels: ['crm_task', 'slack'], requireAck: true, taskDueBusinessDays: 0, escalation: [{ afterDays: 2, notify: ['manager'] }, { afterDays: 6, flag: 'pipeline_review' }] },
        warning: { channels: ['crm_task', 'digest'] },
        opportunity: { channels: ['digest'] },
      }),
    /** Per alert type: other channels, another ladder, or the advice a message carries. */
    types: z
      .record(id, z.object({ channels: z.array(alertChannel).min(1).optional(), escalation: z.array(escalationRung).optional(), advice: z.string().min(1).optional() }).strict())
      .default({}),
    dedupeHours: z.number().min(0).default(24),
    throttle: z
      .object({ perDeal: deliveryWindow.default({ max: 3, hours: 24 }), perRecipient: deliveryWindow.default({ max: 10, hours: 24 }) })
      .strict()
      .prefault({}),
    dailyCap: z.number().int().min(1).default(200),
  })
  .strict();
export type AlertingSettings = z.infer<typeof alertingSettings>;

/**
 * Who is asked when a decision waits for approval, and how they hear of it (docs/playbook.md,
 * "Approvals"). A workflow `approval` action that names its own approver keeps it.
 */
export const approvalApprovers = ['manager', 'owner'] as const;
export const approvalSettings = z
  .object({
    /** The deal owner's manager (the owner when none is on record), the owner, or one fixed CRM owner/user. */
    approver: z.union([z.enum(approvalApprovers), z.object({ ownerId: z.string().min(1) }).strict()]).default('manager'),
    /** `crm_task`: a high-priority CRM task on the deal for the approver; `none`: the API and console only. */
    notify: z.enum(['crm_task', 'none']).default('crm_task'),
    /** The approver's working days until the task is due. */
    taskDueBusinessDays: z.number().int().min(0).default(1),
  })
  .strict();
export type ApprovalSettings = z.infer<typeof approvalSettings>;

export const playbookSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    pipelines: z
      .object({ hubspot: z.array(z.string()).optional(), salesforce: z.array(z.string()).optional() })
      .strict()
      .optional(),
    stages: z.array(stage).min(2),
    rules: z.array(rule),
    policies,
    alerting: alertingSettings.optional(),
    approvals: approvalSettings.optional(),
  })
  .strict();

export type Playbook = z.infer<typeof playbookSchema>;
