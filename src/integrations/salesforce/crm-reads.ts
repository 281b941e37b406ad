import type { CrmContactRole, CrmDealSnapshot, CrmPipeline } from '../../crm/types.ts';
import { salesforceId15 } from './crm-ids.ts';
import { soqlString } from './crm-soql.ts';

/** Salesforce has one stage list per org (sales processes only restrict it), shown as one pipeline. */
export const salesforcePipelineId = 'default';

export const opportunityStagesSoql =
  'SELECT ApiName, MasterLabel, DefaultProbability, IsClosed, IsWon, SortOrder FROM OpportunityStage WHERE IsActive = true ORDER BY SortOrder';

interface StageRow {
  ApiName?: string | null;
  MasterLabel?: string | null;
  DefaultProbability?: number | null;
  IsClosed?: boolean;
  IsWon?: boolean;
}

/** Stage ids are the picklist API values (what StageName takes); probabilities become fractions. */
export function salesforcePipeline(rows: StageRow[]): CrmPipeline {
  return {
    id: salesforcePipelineId,
    label: 'Opportunity stages',
    stages: rows.map((row) => {
      const label = row.MasterLabel ?? row.ApiName ?? '';
      return {
        id: row.ApiName ?? label,
        label,
        ...(typeof row.DefaultProbability === 'number' ? { probability: row.DefaultProbability / 100 } : {}),
        isClosed: row.IsClosed === true,
        isWon: row.IsWon === true,
      };
    }),
  };
}

export function opportunitySoql(dealId: string): string {
  return (
    'SELECT Id, Name, StageName, Amount, CloseDate, OwnerId, Probability, IsClosed, IsWon, ' +
    '(SELECT ContactId, Role, IsPrimary FROM OpportunityContactRoles) ' +
    `FROM Opportunity WHERE Id = ${soqlString(dealId)} LIMIT 1`
  );
}

interface OpportunityRow {
  Id: string;
  Name?: string | null;
  StageName?: string | null;
  Amount?: number | null;
  CloseDate?: string | null;
  OwnerId?: string | null;
  Probability?: number | null;
  IsClosed?: boolean | null;
  IsWon?: boolean | null;
  OpportunityContactRoles?: { records?: Array<{ ContactId?: string | null; Role?: string | null; IsPrimary?: boolean }> } | null;
}

export function salesforceDealSnapshot(row: OpportunityRow): CrmDealSnapshot {
  return {
    id: row.Id,
    name: row.Name ?? null,
    pipelineId: salesforcePipelineId,
    stageId: row.StageName ?? null,
    amount: typeof row.Amount === 'number' ? row.Amount : null,
    closeDate: row.CloseDate ?? null,
    ownerId: row.OwnerId ?? null,
    probability: typeof row.Probability === 'number' ? row.Probability / 100 : null,
    isClosed: row.IsClosed ?? null,
    isWon: row.IsWon ?? null,
    contacts: contactRoles(row.OpportunityContactRoles?.records ?? []),
  };
}

/** One entry per contact; a contact can hold several roles on the same opportunity. */
function contactRoles(rows: Array<{ ContactId?: string | null; Role?: string | null; IsPrimary?: boolean }>): CrmContactRole[] {
  const byContact = new Map<string, CrmContactRole>();
  for (const row of rows) {
    if (!row.ContactId) continue;
    const key = salesforceId15(row.ContactId);
    const entry = byContact.get(key) ?? { contactId: row.ContactId, roles: [], isPrimary: false };
    if (row.Role && !entry.roles.includes(row.Role)) entry.roles.push(row.Role);
    entry.isPrimary = entry.isPrimary === true || row.IsPrimary === true;
    byContact.set(key, entry);
  }
  return [...byContact.values()];
}
