import { unaccountedItem } from '../../crm/batch-input.ts';
import { withTaskMarker } from '../../crm/task-marker.ts';
import type { BatchItemResult, DealUpdate, NewNote, NewTask, TaskPriority } from '../../crm/types.ts';
import { salesforceRecordError } from './crm-errors.ts';
import { assertSalesforceId, sameSalesforceId } from './crm-ids.ts';

export type SObjectRecord = { attributes: { type: string } } & Record<string, unknown>;

const subjectMax = 255;
// Task.Description holds 32,000 characters; keep room for the marker.
const descriptionMax = 31_000;
const priorities: Record<TaskPriority, string> = { low: 'Low', normal: 'Normal', high: 'High' };

/** An Opportunity for PATCH /composite/sobjects. StageName takes the stage's API value. */
export function opportunityRecord(update: DealUpdate): SObjectRecord {
  const record: SObjectRecord = { attributes: { type: 'Opportunity' }, id: assertSalesforceId(update.dealId) };
  const { stage, probability, closeDate, ownerId, custom } = update.fields;
  if (stage) record.StageName = stage.stageId;
  if (probability !== undefined) {
    if (!(probability >= 0 && probability <= 1)) throw new TypeError(`Probability must be within 0..1, got ${probability}`);
    // Salesforce stores a whole percent; setting StageName alone would reset it to the stage default.
    record.Probability = Math.round(probability * 100);
  }
  if (closeDate !== undefined) record.CloseDate = calendarDate(closeDate);
  if (ownerId !== undefined) record.OwnerId = assertSalesforceId(ownerId);
  for (const [name, value] of Object.entries(custom ?? {})) record[name] = value;
  return record;
}

export interface TaskRecordOptions {
  /** When set, the key goes into this external-id field and the batch is an upsert. */
  externalIdField: string | undefined;
}

export function taskRecord(task: NewTask, options: TaskRecordOptions): SObjectRecord {
  const record: SObjectRecord = {
    attributes: { type: 'Task' },
    WhatId: assertSalesforceId(task.dealId),
    Subject: task.subject.slice(0, subjectMax),
    Description: withTaskMarker(task.body.slice(0, descriptionMax), task.key),
    ActivityDate: calendarDate(task.dueDate),
    Priority: priorities[task.priority],
  };
  if (task.ownerId) record.OwnerId = assertSalesforceId(task.ownerId);
  if (options.externalIdField) {
    record[options.externalIdField] = task.key;
    // An upsert that finds the task updates it; leaving Status out keeps a replay from reopening
    // a task the rep already completed. New tasks get the picklist default (Not Started).
  } else {
    record.Status = 'Not Started';
  }
  return record;
}

/**
 * Notes become completed Tasks on the opportunity: one sObject Collections call per batch, the
 * same marker and upsert mechanics as tasks, and they show in the activity timeline. ContentNote
 * would need a second call per note (ContentDocumentLink) to attach it to the deal.
 */
export function noteRecord(note: NewNote, options: TaskRecordOptions): SObjectRecord {
  const firstLine = note.body.split('\n', 1)[0]?.trim() ?? '';
  const record: SObjectRecord = {
    attributes: { type: 'Task' },
    WhatId: assertSalesforceId(note.dealId),
    Subject: (firstLine.length > 0 ? firstLine : 'Note').slice(0, 80),
    Description: withTaskMarker(note.body.slice(0, descriptionMax), note.key),
    ActivityDate: calendarDate(note.timestamp),
    Status: 'Completed',
    Priority: 'Normal',
    TaskSubtype: 'Task',
  };
  if (options.externalIdField) record[options.externalIdField] = note.key;
  return record;
}

/**
 * An existing Task, completed. `Completed` is the closed value of the standard Task status
 * picklist; an org that renamed it refuses the record with the CRM's own message.
 */
export function completedTaskRecord(crmTaskId: string): SObjectRecord {
  return { attributes: { type: 'Task' }, id: assertSalesforceId(crmTaskId), Status: 'Completed' };
}

/** `YYYY-MM-DD` from a date or date-time (Salesforce dates carry no time). */
function calendarDate(value: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new TypeError(`Expected an ISO-8601 date or date-time, got ${JSON.stringify(value)}`);
  return new Date(time).toISOString().slice(0, 10);
}

interface SaveResult {
  id?: unknown;
  success?: unknown;
  errors?: unknown;
}

/**
 * sObject Collections answer with one SaveResult per record, in request order. When a result
 * names an id that is not the record we sent at that position, the answer cannot be trusted for
 * it and the item is uncertain.
 */
export function mapSaveResults(sent: Array<{ key: string; recordId?: string }>, body: unknown): BatchItemResult[] {
  const results = Array.isArray(body) ? (body as SaveResult[]) : [];
  return sent.map((record, index) => {
    const result = results[index];
    if (!result || typeof result.success !== 'boolean') return unaccountedItem('salesforce', record.key);
    const id = typeof result.id === 'string' ? result.id : undefined;
    if (record.recordId !== undefined && id !== undefined && !sameSalesforceId(id, record.recordId)) {
      return unaccountedItem('salesforce', record.key);
    }
    if (result.success) return { key: record.key, outcome: 'ok', ...(id === undefined ? {} : { crmId: id }) };
    return { key: record.key, outcome: 'failed', error: salesforceRecordError(result.errors) };
  });
}
