import type { ManagedAccessToken } from '../../crm/access-token.ts';
import { assertBatch, assertCompletionBatch } from '../../crm/batch-input.ts';
import { defaultHubspotApiBaseUrl, type HubspotConnectionConfig } from '../../crm/connection-config.ts';
import { isCrmError } from '../../crm/errors.ts';
import type {
  BatchItemResult,
  BatchResult,
  ConnectionCheck,
  ConnectionTestResult,
  CrmClient,
  CrmDealSnapshot,
  CrmPipeline,
  DealUpdate,
  NewNote,
  NewTask,
  TaskCompletion,
  TaskRef,
  CrmDealPage,
  ModifiedDealsQuery,
  OpenDealsQuery,
  RemovedDeal,
  RemovedDealsQuery,
  CrmPeoplePage,
  PeopleQuery,
} from '../../crm/types.ts';
import { createHubspotAccessToken, type HubspotAuthDeps } from './crm-auth.ts';
import { mapHubspotBatchResults } from './crm-batch-results.ts';
import { dealReadProperties, hubspotDealProperties, hubspotDealSnapshot } from './crm-deals.ts';
import {
  hubspotNoteInput,
  hubspotTaskInput,
  keyPropertySearchKeysPerRequest,
  markerSearchKeysPerRequest,
  taskSearchRequest,
  tasksFoundByKey,
  type HubspotCreateInput,
} from './crm-engagements.ts';
import { expectObject, HubspotHttp } from './crm-http.ts';
import { hubspotPipelines } from './crm-pipelines.ts';
import { listHubspotOwners } from './crm-owners.ts';
import { listHubspotModifiedDeals, listHubspotOpenDeals, listHubspotRemovedDeals, type HubspotSyncContext } from './crm-sync.ts';

/** HubSpot batch endpoints take at most 100 inputs. */
export const hubspotMaxBatchSize = 100;

/**
 * HubSpot behind the CrmClient contract, over plain fetch rather than @hubspot/api-client:
 * the SDK's transport takes no AbortSignal (a timed-out call could not be cancelled), and its
 * retry/limiter decorators live in a process-wide singleton bound lazily to API objects, so any
 * other Client in the process could change how our calls retry. See docs/crm.md.
 */
export class HubspotCrmClient implements CrmClient {
  readonly provider = 'hubspot' as const;
  readonly maxBatchSize = hubspotMaxBatchSize;
  private readonly config: HubspotConnectionConfig;
  private readonly token: ManagedAccessToken;
  private readonly http: HubspotHttp;

  constructor(config: HubspotConnectionConfig, deps: HubspotAuthDeps) {
    this.config = config;
    this.token = createHubspotAccessToken(config, deps);
    this.http = new HubspotHttp({
      baseUrl: config.apiBaseUrl ?? defaultHubspotApiBaseUrl,
      token: this.token,
      timeoutMs: deps.fetchTimeoutMs,
    });
  }

  async updateDeals(updates: DealUpdate[]): Promise<BatchResult> {
    assertBatch(updates, { maxBatchSize: this.maxBatchSize, uniqueDeals: true });
    const inputs = updates
      .map((update) => ({
        id: update.dealId,
        objectWriteTraceId: update.key,
        properties: hubspotDealProperties(update, this.config.probabilityProperty),
      }))
      // Nothing HubSpot can store (e.g. only a probability, with no probability property configured).
      .filter((input) => Object.keys(input.properties).length > 0);
    const sentKeys = new Set(inputs.map((input) => input.objectWriteTraceId));
    const skipped: BatchItemResult[] = updates.filter((u) => !sentKeys.has(u.key)).map((u) => ({ key: u.key, outcome: 'ok' }));
    if (inputs.length === 0) return { items: skipped };

    const response = await this.http.send({ method: 'POST', path: '/crm/v3/objects/deals/batch/update', body: { inputs }, write: true });
    const mapped = mapHubspotBatchResults(
      inputs.map((input) => ({ key: input.objectWriteTraceId, recordId: input.id })),
      expectObject(response.body, 'a deal batch update', true),
    );
    const byKey = new Map([...mapped, ...skipped].map((item) => [item.key, item]));
    return withRateLimit(updates.map((update) => byKey.get(update.key) as BatchItemResult), response.rateLimit);
  }

  createTasks(tasks: NewTask[]): Promise<BatchResult> {
    assertBatch(tasks, { maxBatchSize: this.maxBatchSize, uniqueDeals: false });
    const inputs = tasks.map((task) => hubspotTaskInput(task, this.config.taskKeyProperty));
    return this.batchCreate('tasks', inputs, 'hs_task_body');
  }

  createNotes(notes: NewNote[]): Promise<BatchResult> {
    assertBatch(notes, { maxBatchSize: this.maxBatchSize, uniqueDeals: false });
    return this.batchCreate('notes', notes.map(hubspotNoteInput), 'hs_note_body');
  }

  async findTasksByKeys(refs: TaskRef[]): Promise<Map<string, string>> {
    const keys = [...new Set(refs.map((ref) => ref.key))];
    const perRequest = this.config.taskKeyProperty ? keyPropertySearchKeysPerRequest : markerSearchKeysPerRequest;
    const found = new Map<string, string>();
    for (let start = 0; start < keys.length; start += perRequest) {
      const chunk = keys.slice(start, start + perRequest);
      const response = await this.http.send({
        method: 'POST',
        path: '/crm/v3/objects/tasks/search',
        body: taskSearchRequest(chunk, this.config.taskKeyProperty),
        write: false,
      });
      const hits = tasksFoundByKey(expectObject(response.body, 'a task search', false), chunk, this.config.taskKeyProperty);
      for (const [key, id] of hits) found.set(key, id);
    }
    return found;
  }

  /** One batch update setting `hs_task_status`; a task HubSpot no longer has comes back as OBJECT_NOT_FOUND. */
  async completeTasks(completions: TaskCompletion[]): Promise<BatchResult> {
    assertCompletionBatch(completions, { maxBatchSize: this.maxBatchSize });
    if (completions.length === 0) return { items: [] };
    const inputs = completions.map((completion) => ({
      id: completion.crmTaskId,
      objectWriteTraceId: completion.key,
      properties: { hs_task_status: 'COMPLETED' },
    }));
    const response = await this.http.send({ method: 'POST', path: '/crm/v3/objects/tasks/batch/update', body: { inputs }, write: true });
    const items = mapHubspotBatchResults(
      inputs.map((input) => ({ key: input.objectWriteTraceId, recordId: input.id })),
      expectObject(response.body, 'a task batch update', true),
    );
    return withRateLimit(items, response.rateLimit);
  }

  async readDeal(dealId: string): Promise<CrmDealSnapshot | null> {
    const properties = [...dealReadProperties, ...(this.config.probabilityProperty ? [this.config.probabilityProperty] : [])];
    const query = new URLSearchParams({ properties: properties.join(','), associations: 'contacts' });
    const response = await this.http.send({
      method: 'GET',
      path: `/crm/v3/objects/deals/${encodeURIComponent(dealId)}?${query.toString()}`,
      write: false,
      acceptStatuses: [404],
    });
    if (response.status === 404) return null;
    return hubspotDealSnapshot(expectObject(response.body, 'a deal read', false), this.config.probabilityProperty);
  }

  async listPipelines(): Promise<CrmPipeline[]> {
    const response = await this.http.send({ method: 'GET', path: '/crm/v3/pipelines/deals', write: false });
    return hubspotPipelines(expectObject(response.body, 'the pipeline list', false));
  }

  listOpenDeals(query: OpenDealsQuery): Promise<CrmDealPage> {
    return listHubspotOpenDeals(this.syncContext(), query);
  }

  listModifiedDeals(query: ModifiedDealsQuery): Promise<CrmDealPage> {
    return listHubspotModifiedDeals(this.syncContext(), query);
  }

  listRemovedDeals(query: RemovedDealsQuery): Promise<RemovedDeal[]> {
    return listHubspotRemovedDeals(this.syncContext(), query);
  }

  listPeople(query: PeopleQuery): Promise<CrmPeoplePage> {
    return listHubspotOwners(this.http, query);
  }

  private pipelinesOnce: Promise<CrmPipeline[]> | undefined;

  private syncContext(): HubspotSyncContext {
    return {
      http: this.http,
      config: this.config,
      pipelines: (beforeCall) =>
        (this.pipelinesOnce ??= (async () => {
          await beforeCall?.();
          return this.listPipelines();
        })().catch((error: unknown) => {
          this.pipelinesOnce = undefined;
          throw error;
        })),
    };
  }

  async testConnection(): Promise<ConnectionTestResult> {
    const checks: ConnectionCheck[] = [];
    const check = async (name: string, okMessage: (value: unknown) => string, run: () => Promise<unknown>): Promise<boolean> => {
      try {
        checks.push({ name, ok: true, message: okMessage(await run()) });
        return true;
      } catch (error) {
        checks.push({ name, ok: false, message: describeFailure(error) });
        return false;
      }
    };
    const signedIn = await check('credentials', () => 'HubSpot accepted the credentials.', () =>
      this.http.send({ method: 'GET', path: '/crm/v3/objects/deals?limit=1', write: false }),
    );
    if (signedIn) {
      await check('pipelines', (value) => `Found ${(value as CrmPipeline[]).length} deal pipeline(s).`, () => this.listPipelines());
      await check('tasks', () => 'Tasks can be read, so created tasks can be found again.', () =>
        this.http.send({ method: 'GET', path: '/crm/v3/objects/tasks?limit=1', write: false }),
      );
      await this.checkProperty(check, 'deals', this.config.probabilityProperty, 'probability property');
      await this.checkProperty(check, 'tasks', this.config.taskKeyProperty, 'task key property');
    }
    return { ok: checks.every((c) => c.ok), checks };
  }

  private async checkProperty(
    check: (name: string, okMessage: (value: unknown) => string, run: () => Promise<unknown>) => Promise<boolean>,
    objectType: 'deals' | 'tasks',
    property: string | undefined,
    name: string,
  ): Promise<void> {
    if (!property) return;
    await check(name, () => `The ${objectType} property "${property}" exists.`, () =>
      this.http.send({ method: 'GET', path: `/crm/v3/properties/${objectType}/${encodeURIComponent(property)}`, write: false }),
    );
  }

  private async batchCreate(objectType: 'tasks' | 'notes', inputs: HubspotCreateInput[], markerProperty: string): Promise<BatchResult> {
    if (inputs.length === 0) return { items: [] };
    const response = await this.http.send({
      method: 'POST',
      path: `/crm/v3/objects/${objectType}/batch/create`,
      body: { inputs },
      write: true,
    });
    const items = mapHubspotBatchResults(
      inputs.map((input) => ({ key: input.objectWriteTraceId })),
      expectObject(response.body, `a ${objectType} batch create`, true),
      { markerProperty },
    );
    return withRateLimit(items, response.rateLimit);
  }
}

function withRateLimit(items: BatchItemResult[], rateLimit: BatchResult['rateLimit']): BatchResult {
  return rateLimit === undefined ? { items } : { items, rateLimit };
}

function describeFailure(error: unknown): string {
  if (!isCrmError(error)) return 'Unexpected error while talking to HubSpot.';
  switch (error.kind) {
    case 'auth':
      return `HubSpot rejected the credentials: ${error.message}`;
    case 'rate_limited':
      return 'HubSpot is rate limiting this account right now; try again later.';
    case 'permanent':
      return error.status === 403
        ? `The app is missing a permission (scope): ${error.message}`
        : `HubSpot refused the request: ${error.message}`;
    default:
      return `HubSpot could not be reached reliably: ${error.message}`;
  }
}
