import { dateToIsoMidnight } from '../../crm/batch-input.ts';
import type { CrmContactRole, CrmDealSnapshot, DealUpdate } from '../../crm/types.ts';

export interface HubspotDealInput {
  id: string;
  objectWriteTraceId: string;
  properties: Record<string, string>;
}

/**
 * Deal properties for one update. Stage and pipeline always travel together: a stage id outside
 * the default pipeline is refused without its pipeline. HubSpot has no built-in writable
 * probability, so it goes to the property the connection names, or nowhere.
 */
export function hubspotDealProperties(update: DealUpdate, probabilityProperty: string | undefined): Record<string, string> {
  const properties: Record<string, string> = {};
  const { stage, probability, closeDate, ownerId, custom } = update.fields;
  if (stage) {
    properties.pipeline = stage.pipelineId;
    properties.dealstage = stage.stageId;
  }
  if (closeDate !== undefined) properties.closedate = dateToIsoMidnight(closeDate);
  if (ownerId !== undefined) properties.hubspot_owner_id = ownerId;
  // HubSpot clears a property set to the empty string.
  for (const [name, value] of Object.entries(custom ?? {})) properties[name] = value ?? '';
  if (probability !== undefined && probabilityProperty) {
    if (!(probability >= 0 && probability <= 1)) throw new TypeError(`Probability must be within 0..1, got ${probability}`);
    properties[probabilityProperty] = String(probability);
  }
  return properties;
}

export const dealReadProperties = [
  'dealname',
  'dealstage',
  'pipeline',
  'amount',
  'closedate',
  'hubspot_owner_id',
  'hs_deal_stage_probability',
  'hs_is_closed',
  'hs_is_closed_won',
];

function text(properties: Record<string, unknown>, name: string): string | null {
  const value = properties[name];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function number(properties: Record<string, unknown>, name: string): number | null {
  const value = text(properties, name);
  if (value === null) return null;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}

function bool(properties: Record<string, unknown>, name: string): boolean | null {
  const value = text(properties, name);
  return value === null ? null : value === 'true';
}

/** HubSpot returns datetimes as ISO strings (or epoch ms in older shapes); we keep the UTC date. */
function dateOnly(value: string | null): string | null {
  if (value === null) return null;
  const time = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString().slice(0, 10);
}

/**
 * A deal as read with `associations=contacts`. Each association entry names a type; the plain
 * `deal_to_contact` type carries no meaning, any other type is an association label (a role).
 */
export function hubspotDealSnapshot(body: Record<string, unknown>, probabilityProperty: string | undefined): CrmDealSnapshot {
  const properties = (body.properties ?? {}) as Record<string, unknown>;
  const probability =
    (probabilityProperty ? number(properties, probabilityProperty) : null) ?? number(properties, 'hs_deal_stage_probability');
  return {
    id: String(body.id),
    name: text(properties, 'dealname'),
    pipelineId: text(properties, 'pipeline'),
    stageId: text(properties, 'dealstage'),
    amount: number(properties, 'amount'),
    closeDate: dateOnly(text(properties, 'closedate')),
    ownerId: text(properties, 'hubspot_owner_id'),
    probability,
    isClosed: bool(properties, 'hs_is_closed'),
    isWon: bool(properties, 'hs_is_closed_won'),
    contacts: contactRoles(body),
  };
}

const unlabeledTypes = new Set(['deal_to_contact', 'contact_to_deal']);

function contactRoles(body: Record<string, unknown>): CrmContactRole[] {
  const associations = (body.associations ?? {}) as Record<string, { results?: unknown }>;
  const results = associations.contacts?.results;
  if (!Array.isArray(results)) return [];
  const byContact = new Map<string, Set<string>>();
  for (const entry of results as Array<{ id?: unknown; type?: unknown }>) {
    if (typeof entry.id !== 'string' && typeof entry.id !== 'number') continue;
    const contactId = String(entry.id);
    const roles = byContact.get(contactId) ?? new Set<string>();
    if (typeof entry.type === 'string' && !unlabeledTypes.has(entry.type)) roles.add(entry.type);
    byContact.set(contactId, roles);
  }
  return [...byContact].map(([contactId, roles]) => ({ contactId, roles: [...roles] }));
}
