import type { CrmError } from './errors.ts';

/**
 * The provider-neutral contract between Momentum (outbox flush, hydration, admin checks) and a CRM.
 * Every write method sends exactly one API call for the batch it is given; splitting into batches
 * of `maxBatchSize`, rate limiting and retrying belong to the caller.
 */

export type CrmProvider = 'hubspot' | 'salesforce';

/** Deal fields Momentum changes. Absent fields are left alone. */
export interface DealFieldUpdate {
  /** HubSpot needs the pipeline with the stage; Salesforce has one stage list and ignores `pipelineId`. */
  stage?: { pipelineId: string; stageId: string };
  /** A fraction 0..1 (Salesforce stores percent; the client converts). */
  probability?: number;
  /** Calendar date `YYYY-MM-DD`. */
  closeDate?: string;
  /** The CRM owner (HubSpot owner id, Salesforce user id). */
  ownerId?: string;
  /** Other deal fields by their CRM API name (workflow field updates); null clears a field. */
  custom?: Record<string, string | null>;
}

export interface DealUpdate {
  /** Idempotency key of the outbox action; results come back under it. */
  key: string;
  dealId: string;
  fields: DealFieldUpdate;
}

export type TaskPriority = 'low' | 'normal' | 'high';

export interface NewTask {
  key: string;
  dealId: string;
  subject: string;
  body: string;
  /** ISO-8601 date or date-time; Salesforce keeps only the date. */
  dueDate: string;
  ownerId?: string;
  priority: TaskPriority;
}

export interface NewNote {
  key: string;
  dealId: string;
  body: string;
  /** ISO-8601 date-time the note is about. */
  timestamp: string;
}

/** A task Momentum created, to be marked completed: the completion's own key and the task's CRM id. */
export interface TaskCompletion {
  key: string;
  crmTaskId: string;
}

/** A task Momentum may have created: its key and the deal it was attached to. */
export interface TaskRef {
  key: string;
  dealId: string;
}

export type ItemOutcome = 'ok' | 'failed' | 'uncertain';

export interface BatchItemResult {
  key: string;
  outcome: ItemOutcome;
  crmId?: string;
  error?: CrmError;
}

/** Whatever the CRM told us about its quotas on the last response; fields it did not send are absent. */
export interface RateLimitSnapshot {
  remaining?: number;
  max?: number;
  intervalMs?: number;
  dailyUsed?: number;
  dailyLimit?: number;
}

export interface BatchResult {
  /** One entry per input, in input order. */
  items: BatchItemResult[];
  rateLimit?: RateLimitSnapshot;
}

export interface CrmContactRole {
  contactId: string;
  /** CRM role names as written in the CRM (HubSpot association labels, Salesforce contact roles). */
  roles: string[];
  isPrimary?: boolean;
}

export interface CrmDealSnapshot {
  id: string;
  name: string | null;
  pipelineId: string | null;
  stageId: string | null;
  amount: number | null;
  closeDate: string | null;
  ownerId: string | null;
  /** Fraction 0..1. */
  probability: number | null;
  isClosed: boolean | null;
  isWon: boolean | null;
  contacts: CrmContactRole[];
}

export interface CrmStage {
  id: string;
  label: string;
  /** Fraction 0..1 when the CRM defines one. */
  probability?: number;
  isClosed: boolean;
  isWon?: boolean;
}

export interface CrmPipeline {
  id: string;
  label: string;
  stages: CrmStage[];
}

export interface ConnectionCheck {
  name: string;
  ok: boolean;
  /** Plain words for an admin, e.g. "Deals can be read." */
  message: string;
}

export interface ConnectionTestResult {
  ok: boolean;
  checks: ConnectionCheck[];
}

/** A deal as the sync reads it: the snapshot plus the times an import and reconciliation need. */
export interface CrmDealRecord extends CrmDealSnapshot {
  /** ISO instant the deal entered its current stage, when the CRM records it. */
  stageEnteredAt: string | null;
  createdAt: string | null;
  /** The CRM's last-modified stamp (HubSpot hs_lastmodifieddate, Salesforce SystemModstamp). */
  modifiedAt: string | null;
}

export type CrmActivityKind = 'email' | 'call' | 'meeting' | 'task';

/** One logged activity on a deal (an activity linked to two deals appears once per deal). */
export interface CrmActivity {
  kind: CrmActivityKind;
  id: string;
  dealId: string;
  /** ISO instant it happened (sent, called, met, completed). */
  occurredAt: string;
  direction?: 'inbound' | 'outbound';
  durationMinutes?: number;
  subject?: string;
  /** Tasks: done. Meetings: not cancelled. Emails and calls: always. */
  completed: boolean;
}

export interface CrmPageQuery {
  /** Where the previous page said to continue; null starts at the beginning. */
  cursor: string | null;
  /** Activities at or after this instant come with each page's deals; null reads none. */
  activitiesSince: Date | null;
  /** Awaited before every API call, so the shared rate limiter admits each one. */
  beforeCall?: () => Promise<void>;
}

export interface OpenDealsQuery extends CrmPageQuery {
  /** Only these pipelines (HubSpot); null reads every pipeline. */
  pipelineIds: string[] | null;
}

export interface ModifiedDealsQuery extends CrmPageQuery {
  /** Deals modified at or after this instant, open or closed. */
  since: Date;
}

export interface CrmDealPage {
  deals: CrmDealRecord[];
  activities: CrmActivity[];
  /** Opaque position of the next page; null after the last one. */
  next: string | null;
  /** How many records the whole listing holds, when the CRM says. */
  total?: number;
  rateLimit?: RateLimitSnapshot;
}

export interface RemovedDeal {
  dealId: string;
  /** The deal it was merged into, when it was merged rather than deleted. */
  mergedInto?: string;
}

export interface RemovedDealsQuery {
  /** Deals Momentum mirrors that may be gone (HubSpot checks these by id). */
  candidates: string[];
  /** Deletions since this instant (Salesforce lists deletions by time). */
  since: Date;
  beforeCall?: () => Promise<void>;
}

/**
 * A CRM owner (HubSpot) or user (Salesforce) as the people directory reads it. A field the CRM
 * does not keep at all (HubSpot has no manager or time zone on owners) is left out.
 */
export interface CrmPerson {
  /** The id deals carry as their owner: HubSpot owner id, Salesforce user id. */
  id: string;
  name: string | null;
  email: string | null;
  managerId?: string | null;
  /** The time zone as the CRM names it (Salesforce uses IANA ids such as America/New_York). */
  timeZone?: string | null;
  /** False when the CRM archived (HubSpot) or deactivated (Salesforce) the person. */
  active: boolean;
}

export interface PeopleQuery {
  /** Where the previous page said to continue; null starts at the beginning. */
  cursor: string | null;
  /** Awaited before every API call, so the shared rate limiter admits each one. */
  beforeCall?: () => Promise<void>;
}

export interface CrmPeoplePage {
  people: CrmPerson[];
  /** Opaque position of the next page; null after the last one. */
  next: string | null;
  rateLimit?: RateLimitSnapshot;
}

export interface CrmClient {
  readonly provider: CrmProvider;
  readonly maxBatchSize: number;
  updateDeals(updates: DealUpdate[]): Promise<BatchResult>;
  createTasks(tasks: NewTask[]): Promise<BatchResult>;
  createNotes(notes: NewNote[]): Promise<BatchResult>;
  /**
   * After an uncertain create: which of these tasks exist already? Returns key → CRM id for those
   * found. Takes the deal id too because Salesforce can only narrow the search by deal.
   */
  findTasksByKeys(refs: TaskRef[]): Promise<Map<string, string>>;
  /**
   * Marks tasks completed, by their CRM ids; results come back under each completion's key. Setting
   * a status the task already has changes nothing, so resending after an unknown outcome is safe.
   */
  completeTasks(completions: TaskCompletion[]): Promise<BatchResult>;
  /** null when the deal does not exist (or is not visible to the connection). */
  readDeal(dealId: string): Promise<CrmDealSnapshot | null>;
  listPipelines(): Promise<CrmPipeline[]>;
  /** Never throws; every problem becomes a failed check with a plain message. */
  testConnection(): Promise<ConnectionTestResult>;
  /** One page of open deals (with contacts and recent activity), in a stable order. */
  listOpenDeals(query: OpenDealsQuery): Promise<CrmDealPage>;
  /** One page of deals modified since a moment, oldest change first. */
  listModifiedDeals(query: ModifiedDealsQuery): Promise<CrmDealPage>;
  /** Deals that were deleted or merged away. */
  listRemovedDeals(query: RemovedDealsQuery): Promise<RemovedDeal[]>;
  /** One page of the people who can own deals, active and inactive, for the people directory. */
  listPeople(query: PeopleQuery): Promise<CrmPeoplePage>;
}

/** The slice of a pino logger the clients use; pass a child logger carrying workspace ids. */
export interface CrmLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}
