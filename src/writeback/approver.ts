import { approvalSettings, type AlertingSettings, type ApprovalSettings, type Playbook } from '../engine/playbook/schema.ts';
import type { RequestApprovalDecision } from '../engine/types.ts';
import type { Person } from '../people/people-store.ts';
import { localMoment } from '../people/local-time.ts';

const builtInDefaults = approvalSettings.parse({});

/** The playbook's approvals section with every default filled in (older playbooks have none). */
export function approvalsOf(playbook: Pick<Playbook, 'approvals'>): ApprovalSettings {
  return playbook.approvals ?? builtInDefaults;
}

/** Who a request goes to before the people directory is asked: a role, or one fixed CRM owner. */
export type ApproverRule = { role: 'owner' | 'manager' | 'leadership' } | { ownerId: string };

/**
 * A workflow `approval` action names its approver, and keeps it. Everything else that waits for a
 * person (approve-mode rules, stage skips, long close-date extensions) goes to the playbook's
 * `approvals.approver`; so do approvals for hand-off teams, who hold no deal and are no person in
 * the directory.
 */
export function approverRuleFor(decision: Pick<RequestApprovalDecision, 'ruleId' | 'approverRole'>, playbook: Pick<Playbook, 'rules' | 'approvals'>): ApproverRule {
  const rule = playbook.rules.find((r) => r.id === decision.ruleId);
  const role = decision.approverRole;
  const named = rule?.type === 'workflow' && rule.actions.some((action) => action.approval?.approver === role);
  if (named && (role === 'owner' || role === 'manager' || role === 'leadership')) return { role };
  const configured = approvalsOf(playbook).approver;
  return typeof configured === 'string' ? { role: configured } : { ownerId: configured.ownerId };
}

/** What choosing needs to know of a person in the directory. */
export type DirectoryEntry = Pick<Person, 'ownerId' | 'name' | 'managerId' | 'timeZone' | 'outOfOffice' | 'active'>;

export interface ApproverChoice {
  /** The CRM owner who is asked; null when nobody can be named. */
  ownerId: string | null;
  /** Why this person, in a sentence for the task (or, with no one, why no one). */
  why: string;
}

/**
 * Turns the rule into a person with the directory: the manager is the deal owner's manager, and
 * the deal owner decides when no manager is on record; leadership is the manager's manager, else
 * the manager. Someone out of office today, or no longer active in the CRM, hands the request to
 * their own manager when one is on record, so a decision does not wait out a holiday or go to an
 * account the CRM would refuse as a task owner; with no manager on record, an inactive approver's
 * request goes to the deal owner. `people` holds the deal owner's reporting chain and a fixed
 * approver as far as the directory knows them.
 */
export function chooseApprover(rule: ApproverRule, dealOwnerId: string | null, people: ReadonlyMap<string, DirectoryEntry>, alerting: Pick<AlertingSettings, 'timeZone'>, nowMs: number): ApproverChoice {
  const chosen = 'ownerId' in rule ? { ownerId: rule.ownerId, why: 'The playbook names you as the approver for this workspace.' } : byRole(rule.role, dealOwnerId, people);
  if (chosen.ownerId === null) return chosen;
  const person = people.get(chosen.ownerId);
  if (!person) return chosen;
  const absence = !person.active ? 'is no longer active in the CRM' : isAway(person, alerting, nowMs) ? 'is out of office today' : null;
  if (absence === null) return chosen;
  if (person.managerId && person.managerId !== person.ownerId) {
    return { ownerId: person.managerId, why: `${nameOf(person)} would decide but ${absence}, so the request comes to you as their manager.` };
  }
  if (!person.active && dealOwnerId !== null && dealOwnerId !== person.ownerId) {
    return { ownerId: dealOwnerId, why: `${nameOf(person)} would decide but ${absence} and no manager of theirs is on record, so the request comes to you as the deal owner.` };
  }
  return chosen;
}

function byRole(role: 'owner' | 'manager' | 'leadership', dealOwnerId: string | null, people: ReadonlyMap<string, DirectoryEntry>): ApproverChoice {
  if (dealOwnerId === null) return { ownerId: null, why: 'the deal has no owner, so nobody in the directory can be named' };
  if (role === 'owner') return { ownerId: dealOwnerId, why: 'You own this deal.' };
  const manager = people.get(dealOwnerId)?.managerId ?? null;
  if (manager === null) return { ownerId: dealOwnerId, why: 'You own this deal; no manager is on record for you, so the request comes to you.' };
  if (role === 'manager') return { ownerId: manager, why: `You are the manager of the deal owner, ${nameOf(people.get(dealOwnerId))}.` };
  const skip = people.get(manager)?.managerId ?? null;
  if (skip === null) return { ownerId: manager, why: `You are the manager of the deal owner, ${nameOf(people.get(dealOwnerId))}; no one above you is on record.` };
  return { ownerId: skip, why: `You lead the team of the deal owner, ${nameOf(people.get(dealOwnerId))}.` };
}

function nameOf(person: DirectoryEntry | undefined): string {
  return person?.name ?? (person ? `owner ${person.ownerId}` : 'the deal owner');
}

/** Out of office on today's date where they are (the playbook's time zone when theirs is unknown). */
function isAway(person: DirectoryEntry, alerting: Pick<AlertingSettings, 'timeZone'>, nowMs: number): boolean {
  if (person.outOfOffice.length === 0) return false;
  const today = localMoment(nowMs, person.timeZone ?? alerting.timeZone).date;
  return person.outOfOffice.some((range) => range.from <= today && today <= range.to);
}
