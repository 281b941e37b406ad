import type { AlertTier } from '../engine/playbook/schema.ts';
import type { TaskPriority } from '../crm/types.ts';
import type { PlannedWrite } from '../writeback/plan-actions.ts';

/** What every message about one alert says, whatever the channel. */
export interface AlertFacts {
  workspaceId: string;
  alertId: string;
  dealId: string;
  tier: AlertTier;
  alertType: string;
  reason: string;
  advice: string;
  rung: number;
  /** The deal's timeline: the console when there is one, else the admin API. */
  dealUrl: string | null;
  /** Who the message is for, as Slack should show them. */
  audience: string[];
  requiresAck: boolean;
  flag: string | null;
}

const tierLabel: Record<AlertTier, string> = { critical: 'Critical', warning: 'Warning', opportunity: 'Opportunity' };
const tierEmoji: Record<AlertTier, string> = { critical: ':rotating_light:', warning: ':warning:', opportunity: ':sparkles:' };
const taskPriority: Record<AlertTier, TaskPriority> = { critical: 'high', warning: 'normal', opportunity: 'low' };

export function dealUrlFor(publicBaseUrl: string | undefined, workspaceId: string, dealId: string): string | null {
  if (!publicBaseUrl) return null;
  return `${publicBaseUrl}/api/workspaces/${encodeURIComponent(workspaceId)}/deals/${encodeURIComponent(dealId)}`;
}

export const humanType = (alertType: string) => alertType.replaceAll(/[_.:-]+/g, ' ');

function headline(f: AlertFacts): string {
  const prefix = f.rung > 0 ? `Escalated (step ${f.rung}) ` : '';
  return `${prefix}${tierLabel[f.tier]}: ${humanType(f.alertType)} on deal ${f.dealId}`;
}

const ackPath = (f: AlertFacts) => `POST /api/workspaces/${f.workspaceId}/alerts/${f.alertId}/ack`;

/** A CRM task for one person about one alert. */
export function alertTaskWrite(f: AlertFacts, input: { idempotencyKey: string; ownerId: string; dueAt: Date }): PlannedWrite {
  const lines = [
    f.reason,
    `What to do: ${f.advice}`,
    ...(f.flag ? [`This deal is flagged for ${humanType(f.flag)}.`] : []),
    ...(f.dealUrl ? [`Timeline: ${f.dealUrl}`] : []),
    ...(f.requiresAck ? [`Acknowledge it (${ackPath(f)}) or it escalates.`] : []),
  ];
  return {
    kind: 'task',
    idempotencyKey: input.idempotencyKey,
    payload: { subject: headline(f).slice(0, 250), body: lines.join('\n'), dueDate: input.dueAt.toISOString(), priority: taskPriority[f.tier], ownerId: input.ownerId },
  };
}

/** Slack mrkdwn treats &, < and > as control characters. */
export function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export interface SlackPayload {
  text: string;
  blocks: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/** An incoming-webhook message: `text` is the notification fallback, the block the full message. */
export function alertSlackPayload(f: AlertFacts): SlackPayload {
  const deal = f.dealUrl ? `<${f.dealUrl}|${slackEscape(f.dealId)}>` : slackEscape(f.dealId);
  const lines = [
    `${tierEmoji[f.tier]} *${slackEscape(headline(f)).replace(`deal ${slackEscape(f.dealId)}`, `deal ${deal}`)}*`,
    slackEscape(f.reason),
    `*What to do:* ${slackEscape(f.advice)}`,
    ...(f.flag ? [`*Flagged for ${slackEscape(humanType(f.flag))}*`] : []),
    ...(f.audience.length > 0 ? [`For: ${f.audience.join(', ')}`] : []),
    ...(f.requiresAck ? [`_Needs acknowledgement: \`${ackPath(f)}\`_`] : []),
  ];
  return { text: `${headline(f)}: ${f.reason}`.slice(0, 3000), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 3000) } }] };
}

export interface DigestItem {
  alertId: string;
  dealId: string;
  tier: AlertTier;
  alertType: string;
  reason: string;
  dealUrl: string | null;
}

function digestLines(items: readonly DigestItem[], format: { heading: (t: string) => string; item: (i: DigestItem) => string }): string[] {
  const lines: string[] = [];
  for (const tier of ['critical', 'warning', 'opportunity'] as const) {
    const group = items.filter((i) => i.tier === tier);
    if (group.length === 0) continue;
    lines.push(format.heading(`${tierLabel[tier]} (${group.length})`));
    for (const item of group) lines.push(format.item(item));
  }
  return lines;
}

export function digestSlackPayload(input: { audience: string; localDate: string; items: readonly DigestItem[] }): SlackPayload {
  const title = `Daily digest for ${input.audience}, ${input.localDate}: ${input.items.length} alert(s)`;
  const lines = digestLines(input.items, {
    heading: (t) => `*${t}*`,
    item: (i) => {
      const deal = i.dealUrl ? `<${i.dealUrl}|${slackEscape(i.dealId)}>` : slackEscape(i.dealId);
      return `• ${deal} ${slackEscape(humanType(i.alertType))}: ${slackEscape(i.reason)}`;
    },
  });
  return { text: title, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: [`*${title}*`, ...lines].join('\n').slice(0, 3000) } }] };
}

export function digestTaskWrite(input: { idempotencyKey: string; ownerId: string; localDate: string; dueAt: Date; items: readonly DigestItem[] }): PlannedWrite {
  const body = digestLines(input.items, { heading: (t) => t, item: (i) => `• deal ${i.dealId} ${humanType(i.alertType)}: ${i.reason}${i.dealUrl ? ` (${i.dealUrl})` : ''}` });
  return {
    kind: 'task',
    idempotencyKey: input.idempotencyKey,
    payload: {
      subject: `Momentum daily digest ${input.localDate}: ${input.items.length} alert(s) on your deals`,
      body: body.join('\n'),
      dueDate: input.dueAt.toISOString(),
      priority: 'low',
      ownerId: input.ownerId,
    },
  };
}
