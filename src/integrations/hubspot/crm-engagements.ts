import { toIsoDateTime } from '../../crm/batch-input.ts';
import { markerKeysIn, withTaskMarker } from '../../crm/task-marker.ts';
import type { NewNote, NewTask, TaskPriority } from '../../crm/types.ts';
import { arrayField } from './crm-http.ts';

/** HUBSPOT_DEFINED association types (SDK enum AssociationTypes). */
export const taskToDealAssociation = 216;
export const noteToDealAssociation = 214;

export interface HubspotCreateInput {
  objectWriteTraceId: string;
  properties: Record<string, string>;
  associations: Array<{ to: { id: string }; types: Array<{ associationCategory: 'HUBSPOT_DEFINED'; associationTypeId: number }> }>;
}

const priorities: Record<TaskPriority, string> = { low: 'LOW', normal: 'MEDIUM', high: 'HIGH' };

function toDeal(dealId: string, associationTypeId: number): HubspotCreateInput['associations'] {
  return [{ to: { id: dealId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId }] }];
}

export function hubspotTaskInput(task: NewTask, taskKeyProperty: string | undefined): HubspotCreateInput {
  const properties: Record<string, string> = {
    hs_timestamp: toIsoDateTime(task.dueDate),
    hs_task_subject: task.subject,
    hs_task_body: withTaskMarker(task.body, task.key),
    hs_task_status: 'NOT_STARTED',
    hs_task_priority: priorities[task.priority],
    hs_task_type: 'TODO', // HubSpot's task type for a to-do (the others are EMAIL and CALL)
  };
  if (task.ownerId) properties.hubspot_owner_id = task.ownerId;
  if (taskKeyProperty) properties[taskKeyProperty] = task.key;
  return { objectWriteTraceId: task.key, properties, associations: toDeal(task.dealId, taskToDealAssociation) };
}

export function hubspotNoteInput(note: NewNote): HubspotCreateInput {
  return {
    objectWriteTraceId: note.key,
    properties: { hs_timestamp: toIsoDateTime(note.timestamp), hs_note_body: withTaskMarker(note.body, note.key) },
    associations: toDeal(note.dealId, noteToDealAssociation),
  };
}

/** CRM search allows 5 filter groups (ORed) per request. */
export const markerSearchKeysPerRequest = 5;
export const keyPropertySearchKeysPerRequest = 100;

/**
 * Search bodies for tasks carrying the given keys. With a key property it is an exact IN match;
 * otherwise a token search in the task body, confirmed afterwards against the exact marker.
 */
export function taskSearchRequest(keys: string[], taskKeyProperty: string | undefined): Record<string, unknown> {
  if (taskKeyProperty) {
    return {
      filterGroups: [{ filters: [{ propertyName: taskKeyProperty, operator: 'IN', values: keys }] }],
      properties: [taskKeyProperty, 'hs_task_body'],
      limit: 200,
    };
  }
  return {
    filterGroups: keys.map((key) => ({ filters: [{ propertyName: 'hs_task_body', operator: 'CONTAINS_TOKEN', value: key }] })),
    properties: ['hs_task_body'],
    limit: 200,
  };
}

/** key → task id for search hits whose key property or body marker names one of `keys`. */
export function tasksFoundByKey(body: Record<string, unknown>, keys: string[], taskKeyProperty: string | undefined): Map<string, string> {
  const wanted = new Set(keys);
  const found = new Map<string, string>();
  for (const raw of arrayField(body, 'results') as Array<{ id?: unknown; properties?: Record<string, unknown> }>) {
    if (typeof raw.id !== 'string') continue;
    const properties = raw.properties ?? {};
    const candidates = [
      ...(taskKeyProperty && typeof properties[taskKeyProperty] === 'string' ? [properties[taskKeyProperty] as string] : []),
      ...markerKeysIn(typeof properties.hs_task_body === 'string' ? properties.hs_task_body : undefined),
    ];
    for (const key of candidates) {
      if (wanted.has(key) && !found.has(key)) found.set(key, raw.id);
    }
  }
  return found;
}
