import type { Seniority, Signal, StakeholderRole } from '../signals/catalogue.ts';
import type { AlertTier, BandKey, Role } from './playbook/schema.ts';
import type { CompiledPlaybook } from './playbook/compile.ts';
import type { Playbook } from './playbook/schema.ts';

/** An instant as an ISO-8601 UTC string; state is stored as jsonb, so no Date objects. */
export type IsoInstant = string;
/** A calendar date as YYYY-MM-DD (CRM close dates have no time of day). */
export type IsoDate = string;

export type Provider = 'hubspot' | 'salesforce';
export type Trigger = 'signals' | 'time' | 'replay';
/** The mode a decision was made under; rules in mode `off` produce nothing. */
export type DecisionMode = 'auto' | 'approve' | 'suggest';

export interface Stakeholder {
  contactId: string;
  role: StakeholderRole | null;
  seniority: Seniority | null;
  addedAt: IsoInstant;
  /** Left the company. */
  departedAt: IsoInstant | null;
  /** Taken off the deal's buying committee. */
  removedAt: IsoInstant | null;
}

export interface HealthPoint {
  at: IsoInstant;
  score: number;
}

export interface PlanMilestone {
  id: string;
  title: string;
  dueDate: IsoDate;
  owner: 'buyer' | 'seller' | 'both';
  completedAt: IsoInstant | null;
}

/** A regression waiting out its grace period (e.g. champion left, replacement may be named). */
export interface PendingRegression {
  ruleId: string;
  contactId: string | null;
  role: StakeholderRole | null;
  startedAt: IsoInstant;
  dueAt: IsoInstant;
  signalIds: string[];
}

export interface OverrideRecord {
  at: IsoInstant;
  fromStage: string | null;
  toStage: string | null;
  crmStage: string;
  signalId: string;
  respectUntil: IsoInstant;
}

export interface ActiveSequence {
  name: 're_engagement';
  ruleId: string;
  startedAt: IsoInstant;
  /** Days of the sequence whose task was already created. */
  stepsIssued: number[];
}

export interface GateRecord {
  at: IsoInstant;
  signalIds: string[];
}

export interface ProbabilityBoost {
  ruleId: string;
  points: number;
  signalIds: string[];
}

/** The rep's own probability entry, respected for the override period and compared with ours. */
export interface RepValue<T> {
  value: T;
  at: IsoInstant;
  signalId: string;
}

/** What the engine remembers between evaluations so it never repeats itself. */
export interface EngineMemory {
  /** Signals are applied in (occurredAt, id) order; everything at or before the watermark is done... */
  watermark: IsoInstant | null;
  /** ...except late arrivals inside the late-signal window, recognized by id. */
  recentSignalIds: Record<string, IsoInstant>;
  /** Decision keys already emitted, with when; pruned by age. */
  emitted: Record<string, IsoInstant>;
  /** Last time each alert throttle key fired. */
  alertsRaisedAt: Record<string, IsoInstant>;
  /** Counts state-changing writes so a value repeated later still gets a fresh idempotency key. */
  writeSeq: number;
  pendingRegressions: PendingRegression[];
  override: OverrideRecord | null;
  sequence: ActiveSequence | null;
  probabilityBoosts: ProbabilityBoost[];
  repProbability: RepValue<number> | null;
  repCloseDate: RepValue<IsoDate | null> | null;
  engagementBand: 'fast' | 'normal' | 'slow' | null;
  healthBand: BandKey | null;
  /** Times of recent buyer touches, pruned to the engagement window. */
  touches: IsoInstant[];
  /** Last time each signal type was seen; cheap evidence that survives a short signal history. */
  lastSeenByType: Record<string, IsoInstant>;
  /** When each mirrored CRM field was last set, so an older signal never overwrites a newer value. */
  crmAsOf: Record<string, IsoInstant>;
}

export interface DealState {
  schemaVersion: 1;
  crmDealId: string;
  provider: Provider;
  pipeline: string | null;
  /** Playbook stage key; null until a CRM stage is known (or when it maps to no playbook stage). */
  stage: string | null;
  crmStage: string | null;
  stageEnteredAt: IsoInstant | null;
  amount: number | null;
  closeDate: IsoDate | null;
  originalCloseDate: IsoDate | null;
  closeDateChanges: number;
  ownerId: string | null;
  probability: number | null;
  createdAt: IsoInstant | null;
  lastActivityAt: IsoInstant | null;
  lastBuyerResponseAt: IsoInstant | null;
  deleted: boolean;
  stakeholders: Stakeholder[];
  /** Other CRM fields seen through `crm.field_changed` (gates may test them). */
  fields: Record<string, string | null>;
  healthScore: number | null;
  healthHistory: HealthPoint[];
  /** Exit gates of the current stage already met, by gate id; reset on every stage entry. */
  gatesMet: Record<string, GateRecord>;
  planMilestones: PlanMilestone[];
  memory: EngineMemory;
}

export interface Task {
  subject: string;
  body: string;
  dueAt: IsoInstant;
  priority: 'high' | 'medium' | 'low';
  ownerRole: Role;
}

export interface MissingGate {
  stage: string;
  gateId: string;
  label: string;
}

export interface DecisionBase {
  /** Stable for the same logical decision: the idempotency key for CRM writes. */
  key: string;
  ruleId: string;
  signalIds: string[];
  /** One human-readable line. */
  reason: string;
  playbookVersion: string;
  mode: DecisionMode;
  at: IsoInstant;
}

export interface StageChange {
  fromStage: string;
  toStage: string;
  /** CRM stage id to write for the deal's provider. */
  crmStage: string | null;
}

export interface AdvanceStageDecision extends DecisionBase, StageChange {
  type: 'advance_stage';
  skipped: string[];
  conclusive: boolean;
}
export interface RegressStageDecision extends DecisionBase, StageChange {
  type: 'regress_stage';
}
export interface SetProbabilityDecision extends DecisionBase {
  type: 'set_probability';
  from: number | null;
  to: number;
}
export interface SetCloseDateDecision extends DecisionBase {
  type: 'set_close_date';
  from: IsoDate | null;
  to: IsoDate;
}
export interface CreateTaskDecision extends DecisionBase {
  type: 'create_task';
  task: Task;
}
export interface RaiseAlertDecision extends DecisionBase {
  type: 'raise_alert';
  tier: AlertTier;
  alertType: string;
  recipients: Role[];
}

/** A change the engine would make if a person agreed; carried by approvals and suggestions. */
export type ProposedChange =
  | { type: 'advance_stage'; fromStage: string; toStage: string; crmStage: string | null; skipped: string[] }
  | { type: 'regress_stage'; fromStage: string; toStage: string; crmStage: string | null }
  | { type: 'set_probability'; from: number | null; to: number }
  | { type: 'set_close_date'; from: IsoDate | null; to: IsoDate }
  | { type: 'create_task'; task: Task }
  | { type: 'update_field'; field: string; from: string | null; value: string | null }
  | AssignOwnerChange;

/**
 * An owner assignment. The engine cannot know who is free, so `toOwnerId` starts null and the
 * action layer's router fills it in (with `routing`, its explanation) before anything is stored.
 */
export interface AssignOwnerChange {
  type: 'assign_owner';
  fromOwnerId: string | null;
  toOwnerId: string | null;
  /** Pick someone other than the current owner (a stale assignment). */
  reassign: boolean;
  fallback: 'manager' | 'none';
  routing?: RoutingOutcome | undefined;
}

/** How the router chose (or failed to choose) an owner; kept on the decision for the timeline. */
export interface RoutingOutcome {
  strategy: 'territory' | 'segment' | 'round_robin' | 'fallback' | 'none';
  pool: string | null;
  ownerId: string | null;
  explanation: string;
}

export interface RequestApprovalDecision extends DecisionBase {
  type: 'request_approval';
  approverRole: Role;
  proposed: ProposedChange;
  missingGates: MissingGate[];
}
export interface SuggestDecision extends DecisionBase {
  type: 'suggest';
  task: Task;
  proposed: ProposedChange | null;
  missingGates: MissingGate[];
}
export interface StartSequenceDecision extends DecisionBase {
  type: 'start_sequence';
  sequence: 're_engagement';
  stepDays: number[];
}
export interface StopSequenceDecision extends DecisionBase {
  type: 'stop_sequence';
  sequence: 're_engagement';
  stoppedBy: 'buyer_response' | 'deal_closed';
}
export interface RecordOverrideDecision extends DecisionBase {
  type: 'record_override';
  fromStage: string | null;
  toStage: string | null;
  crmStage: string;
  respectUntil: IsoInstant;
}
/** A CRM field write from a workflow rule. */
export interface UpdateFieldDecision extends DecisionBase {
  type: 'update_field';
  field: string;
  from: string | null;
  value: string | null;
}
export interface AssignOwnerDecision extends DecisionBase, Omit<AssignOwnerChange, 'type'> {
  type: 'assign_owner';
}
export interface FlagDecision extends DecisionBase {
  type: 'flag';
  flagType: string;
}

export type Decision =
  | AdvanceStageDecision
  | RegressStageDecision
  | SetProbabilityDecision
  | SetCloseDateDecision
  | CreateTaskDecision
  | RaiseAlertDecision
  | RequestApprovalDecision
  | SuggestDecision
  | StartSequenceDecision
  | StopSequenceDecision
  | RecordOverrideDecision
  | FlagDecision
  | UpdateFieldDecision
  | AssignOwnerDecision;

export type DecisionType = Decision['type'];

export interface EvaluationOptions {
  /**
   * When the workspace connected. Signals before it, and evaluations whose `now` is before it,
   * only update the mirror. Without it, `imported`/`reconciled` signals are state-only.
   */
  connectedAt?: Date | IsoInstant | undefined;
  /** Backtests: treat imported history as if it had happened live. */
  simulateHistory?: boolean | undefined;
}

/** What the engine may know about an owner (from the workspace's routing directory). */
export interface OwnerFacts {
  territories: string[];
  segments: string[];
  managerId: string | null;
  /** Not out of office and inside working hours at the evaluation's `now` (the caller decides). */
  available: boolean;
}
export type OwnerDirectory = Readonly<Record<string, OwnerFacts>>;

export interface EvaluationInput {
  deal: DealState;
  /** The deal's stored signals in time order, including ones applied before. */
  signals: readonly Signal[];
  playbook: CompiledPlaybook | Playbook;
  playbookVersion: string;
  now: Date | IsoInstant;
  /**
   * Why the caller evaluates (for its records). The engine behaves the same for every trigger:
   * new signals are always applied and time-based checks always run against `now`.
   */
  trigger: Trigger;
  options?: EvaluationOptions | undefined;
  /** Owners by CRM owner id, for `owner` conditions; empty when the workspace has no routing. */
  owners?: OwnerDirectory | undefined;
}

export interface EvaluationResult {
  decisions: Decision[];
  nextState: DealState;
}
