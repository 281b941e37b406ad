import type { ManagedAccessToken } from '../../crm/access-token.ts';
import { assertBatch, assertCompletionBatch } from '../../crm/batch-input.ts';
import { defaultSalesforceApiVersion, type SalesforceConnectionConfig } from '../../crm/connection-config.ts';
import { isCrmError } from '../../crm/errors.ts';
import { assertValidKey, markerKeysIn } from '../../crm/task-marker.ts';
import type {
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
import { SalesforceApi } from './crm-api.ts';
import { createSalesforceAccessToken, type SalesforceAuthDeps } from './crm-auth.ts';
import { assertSalesforceId, isSalesforceId, sameSalesforceId } from './crm-ids.ts';
import { completedTaskRecord, mapSaveResults, noteRecord, opportunityRecord, taskRecord, type SObjectRecord } from './crm-records.ts';
import { opportunitySoql, opportunityStagesSoql, salesforceDealSnapshot, salesforcePipeline } from './crm-reads.ts';
import { asQueryPage, queryPath, soqlList } from './crm-soql.ts';
import { listSalesforceModifiedDeals, listSalesforceOpenDeals, listSalesforceRemovedDeals } from './crm-sync.ts';
import { listSalesforceUsers } from './crm-users.ts';

/** sObject Collections take at most 200 records per call. */
export const salesforceMaxBatchSize = 200;
/** Reconciliation looks at tasks created this recently; older uncertain creates are not expected. */
const reconcileWindowDays = 30;
const dealsPerReconcileQuery = 100;
const maxQueryPages = 10;

export class SalesforceCrmClient implements CrmClient {
  readonly provider = 'salesforce' as const;
  readonly maxBatchSize = salesforceMaxBatchSize;
  private readonly config: SalesforceConnectionConfig;
  private readonly token: ManagedAccessToken;
  private readonly api: SalesforceApi;

  constructor(config: SalesforceConnectionConfig, deps: SalesforceAuthDeps) {
    this.config = config;
    this.token = createSalesforceAccessToken(config, deps);
    this.api = new SalesforceApi({
      token: this.token,
      apiVersion: config.apiVersion ?? defaultSalesforceApiVersion,
      instanceUrl: config.auth.instanceUrl,
      timeoutMs: deps.fetchTimeoutMs,
    });
  }

  async updateDeals(updates: DealUpdate[]): Promise<BatchResult> {
    assertBatch(updates, { maxBatchSize: this.maxBatchSize, uniqueDeals: true });
    if (updates.length === 0) return { items: [] };
    const records = updates.map(opportunityRecord);
    const response = await this.api.send({
      method: 'PATCH',
      path: '/composite/sobjects',
      body: { allOrNone: false, records },
      write: true,
    });
    const items = mapSaveResults(updates.map((u) => ({ key: u.key, recordId: u.dealId })), response.body);
    return withRateLimit(items, response.rateLimit);
  }

  createTasks(tasks: NewTask[]): Promise<BatchResult> {
    assertBatch(tasks, { maxBatchSize: this.maxBatchSize, uniqueDeals: false });
    const options = { externalIdField: this.config.taskExternalIdField };
    return this.saveTasks(tasks.map((task) => ({ key: task.key, record: taskRecord(task, options) })));
  }

  createNotes(notes: NewNote[]): Promise<BatchResult> {
    assertBatch(notes, { maxBatchSize: this.maxBatchSize, uniqueDeals: false });
    const options = { externalIdField: this.config.taskExternalIdField };
    return this.saveTasks(notes.map((note) => ({ key: note.key, record: noteRecord(note, options) })));
  }

  async findTasksByKeys(refs: TaskRef[]): Promise<Map<string, string>> {
    refs.forEach((ref) => assertValidKey(ref.key));
    const field = this.config.taskExternalIdField;
    if (field) {
      const keys = [...new Set(refs.map((ref) => ref.key))];
      const rows = await this.queryAll<Record<string, unknown>>(`SELECT Id, ${field} FROM Task WHERE ${field} IN ${soqlList(keys)}`);
      return new Map(rows.flatMap((row) => (typeof row[field] === 'string' ? [[row[field] as string, String(row.Id)] as const] : [])));
    }
    return this.findTasksByMarker(refs);
  }

  /** One sObject Collections update setting `Status`; a task deleted meanwhile fails alone (allOrNone false). */
  async completeTasks(completions: TaskCompletion[]): Promise<BatchResult> {
    assertCompletionBatch(completions, { maxBatchSize: this.maxBatchSize });
    if (completions.length === 0) return { items: [] };
    const response = await this.api.send({
      method: 'PATCH',
      path: '/composite/sobjects',
      body: { allOrNone: false, records: completions.map((completion) => completedTaskRecord(completion.crmTaskId)) },
      write: true,
    });
    const items = mapSaveResults(completions.map((c) => ({ key: c.key, recordId: c.crmTaskId })), response.body);
    return withRateLimit(items, response.rateLimit);
  }

  async readDeal(dealId: string): Promise<CrmDealSnapshot | null> {
    if (!isSalesforceId(dealId)) return null;
    const response = await this.api.send({ method: 'GET', path: queryPath(opportunitySoql(dealId)), write: false });
    const row = asQueryPage<Parameters<typeof salesforceDealSnapshot>[0]>(response.body).records[0];
    return row ? salesforceDealSnapshot(row) : null;
  }

  async listPipelines(): Promise<CrmPipeline[]> {
    const rows = await this.queryAll<Parameters<typeof salesforcePipeline>[0][number]>(opportunityStagesSoql, { includeDeleted: false });
    return [salesforcePipeline(rows)];
  }

  listOpenDeals(query: OpenDealsQuery): Promise<CrmDealPage> {
    return listSalesforceOpenDeals(this.api, query);
  }

  listModifiedDeals(query: ModifiedDealsQuery): Promise<CrmDealPage> {
    return listSalesforceModifiedDeals(this.api, query);
  }

  listRemovedDeals(query: RemovedDealsQuery): Promise<RemovedDeal[]> {
    return listSalesforceRemovedDeals(this.api, query, new Date());
  }

  listPeople(query: PeopleQuery): Promise<CrmPeoplePage> {
    return listSalesforceUsers(this.api, query);
  }

  async testConnection(): Promise<ConnectionTestResult> {
    const checks: ConnectionCheck[] = [];
    const check = async (name: string, run: () => Promise<string>): Promise<boolean> => {
      try {
        checks.push({ name, ok: true, message: await run() });
        return true;
      } catch (error) {
        checks.push({ name, ok: false, message: describeFailure(error) });
        return false;
      }
    };
    const signedIn = await check('credentials', async () => {
      const response = await this.api.send({ method: 'GET', path: '/limits', write: false });
      const daily = (response.body as { DailyApiRequests?: { Max?: number; Remaining?: number } } | undefined)?.DailyApiRequests;
      const usage = daily?.Max !== undefined && daily.Remaining !== undefined ? ` ${daily.Max - daily.Remaining} of ${daily.Max} daily API requests used.` : '';
      return `Salesforce accepted the credentials.${usage}`;
    });
    if (!signedIn) return { ok: false, checks };
    await check('opportunities', async () => {
      await this.queryAll('SELECT Id FROM Opportunity LIMIT 1', { maxPages: 1 });
      return 'Opportunities can be read.';
    });
    await check('stages', async () => {
      const [pipeline] = await this.listPipelines();
      return `Found ${pipeline?.stages.length ?? 0} active opportunity stage(s).`;
    });
    await check('tasks', async () => {
      await this.queryAll('SELECT Id FROM Task LIMIT 1', { maxPages: 1 });
      return 'Tasks can be read, so created tasks can be found again.';
    });
    const field = this.config.taskExternalIdField;
    if (field) await check('task external id field', () => this.describeExternalIdField(field));
    const userId = this.config.integrationUserId;
    if (userId) await check('integration user', () => this.describeIntegrationUser(userId));
    return { ok: checks.every((c) => c.ok), checks };
  }

  private async saveTasks(entries: Array<{ key: string; record: SObjectRecord }>): Promise<BatchResult> {
    if (entries.length === 0) return { items: [] };
    const field = this.config.taskExternalIdField;
    const records = entries.map((entry) => entry.record);
    // With an external-id field the create is an upsert keyed by the idempotency key: a replay
    // finds the task instead of creating a second one.
    const response = await this.api.send(
      field
        ? { method: 'PATCH', path: `/composite/sobjects/Task/${field}`, body: { allOrNone: false, records }, write: true }
        : { method: 'POST', path: '/composite/sobjects', body: { allOrNone: false, records }, write: true },
    );
    return withRateLimit(mapSaveResults(entries, response.body), response.rateLimit);
  }

  /**
   * Task.Description is a long text area, which SOQL cannot filter on. So: read the recent tasks
   * of the deals concerned (including deleted ones, via queryAll) and look for the marker.
   */
  private async findTasksByMarker(refs: TaskRef[]): Promise<Map<string, string>> {
    const wanted = new Set(refs.map((ref) => ref.key));
    const dealIds = [...new Set(refs.map((ref) => assertSalesforceId(ref.dealId)))];
    const found = new Map<string, string>();
    const createdBy = this.config.integrationUserId ? ` AND CreatedById = '${assertSalesforceId(this.config.integrationUserId)}'` : '';
    for (let start = 0; start < dealIds.length; start += dealsPerReconcileQuery) {
      const chunk = dealIds.slice(start, start + dealsPerReconcileQuery);
      const rows = await this.queryAll<{ Id: string; WhatId: string | null; Description: string | null }>(
        `SELECT Id, WhatId, Description FROM Task WHERE WhatId IN ${soqlList(chunk)}${createdBy} ` +
          `AND CreatedDate = LAST_N_DAYS:${reconcileWindowDays} ORDER BY CreatedDate DESC`,
      );
      for (const row of rows) {
        for (const key of markerKeysIn(row.Description)) {
          const ref = refs.find((r) => r.key === key);
          if (wanted.has(key) && !found.has(key) && ref && sameSalesforceId(ref.dealId, row.WhatId)) found.set(key, row.Id);
        }
      }
    }
    return found;
  }

  /** Runs a query and follows nextRecordsUrl; queryAll by default so deleted tasks count as created. */
  private async queryAll<T>(soql: string, options: { includeDeleted?: boolean; maxPages?: number } = {}): Promise<T[]> {
    const rows: T[] = [];
    let path: string | undefined = queryPath(soql, { includeDeleted: options.includeDeleted ?? true });
    for (let page = 0; path && page < (options.maxPages ?? maxQueryPages); page += 1) {
      const response = await this.api.send({ method: 'GET', path, write: false });
      const result = asQueryPage<T>(response.body);
      rows.push(...result.records);
      path = result.done ? undefined : result.nextRecordsUrl;
    }
    return rows;
  }

  private async describeExternalIdField(field: string): Promise<string> {
    const response = await this.api.send({ method: 'GET', path: '/sobjects/Task/describe', write: false });
    const fields = ((response.body as { fields?: Array<{ name?: string; externalId?: boolean }> } | undefined)?.fields ?? []);
    const match = fields.find((f) => f.name?.toLowerCase() === field.toLowerCase());
    if (!match) throw new Error(`Task has no field named ${field}.`);
    if (!match.externalId) throw new Error(`Task.${field} exists but is not marked as an External ID.`);
    return `Task.${field} is an External ID field, so task creation is an upsert.`;
  }

  private async describeIntegrationUser(userId: string): Promise<string> {
    const rows = await this.queryAll<{ IsActive?: boolean; Username?: string }>(
      `SELECT Id, Username, IsActive FROM User WHERE Id = '${assertSalesforceId(userId)}'`,
      { includeDeleted: false, maxPages: 1 },
    );
    const user = rows[0];
    if (!user) throw new Error(`No user with id ${userId} is visible to this connection.`);
    if (!user.IsActive) throw new Error(`The integration user ${user.Username ?? userId} is inactive.`);
    return `Changes by ${user.Username ?? userId} will be recognized as Momentum's own.`;
  }
}

function withRateLimit(items: BatchResult['items'], rateLimit: BatchResult['rateLimit']): BatchResult {
  return rateLimit === undefined ? { items } : { items, rateLimit };
}

function describeFailure(error: unknown): string {
  if (!isCrmError(error)) return error instanceof Error ? error.message : 'Unexpected error while talking to Salesforce.';
  switch (error.kind) {
    case 'auth':
      return `Salesforce rejected the credentials: ${error.message}`;
    case 'rate_limited':
      return 'The org has used up its API requests for now; try again later.';
    case 'permanent':
      return `Salesforce refused the request: ${error.message}`;
    default:
      return `Salesforce could not be reached reliably: ${error.message}`;
  }
}
