import { alertingSettings, type AlertChannel, type AlertingSettings, type AlertTier, type EscalationRung, type Playbook } from '../engine/playbook/schema.ts';

/** How one alert is delivered: its channels, whether someone must acknowledge it, and its ladder. */
export interface DeliveryPlan {
  channels: AlertChannel[];
  requireAck: boolean;
  /** Rungs after the first delivery; rung n (1-based) is `escalation[n - 1]`. */
  escalation: EscalationRung[];
  taskDueBusinessDays: number;
  advice: string;
}

const builtInDefaults = alertingSettings.parse({});

/** The playbook's alerting section with every default filled in (older playbooks have none). */
export function alertingOf(playbook: Pick<Playbook, 'alerting'>): AlertingSettings {
  return playbook.alerting ?? builtInDefaults;
}

// What a person should do about each kind of alert the default playbook raises (seed 002's
// stalled-deal playbook); a playbook can override any of them under alerting.types.<type>.advice.
const defaultAdvice: Record<string, string> = {
  stage_stall: 'Diagnose the stall: is the buyer waiting on something, or has the priority dropped? Agree a dated next step or re-qualify.',
  stage_stall_escalation: 'Review the deal with the rep: name the blocker, agree a dated next step, or close it out.',
  stale_deal: 'Re-engage with something useful for the buyer and ask directly whether anything has changed.',
  champion_departed: 'Find out who takes over, ask the departing champion for an introduction, and re-confirm the plan with the new contact.',
  competitor_entered: 'Ask what prompted the evaluation, restate your differentiators, and line up a reference.',
  deal_regressed: 'Check what changed and update the mutual action plan with the buyer.',
  stakeholder_lost: 'Identify and engage a replacement for the stakeholder who left.',
  score_drop: 'Look at what changed in engagement this week and have a direct conversation about blockers.',
  score_band_at_risk: 'Decide whether to invest more time: find a compelling event or qualify out.',
  score_band_cooling: 'Re-establish momentum: confirm the next meeting and the path to a decision.',
  score_band_hot: 'Momentum is high: propose the next concrete step while the buyer is engaged.',
  plan_milestone_overdue: 'Check the overdue milestone with the buyer and agree a new date.',
  close_date_drift: 'Confirm the real timeline with the buyer and update the close date.',
  executive_engaged: 'An executive is involved: align on business outcomes and the decision process.',
  buying_signal: 'Follow up while interest is high and propose the next step.',
};

export function deliveryPlanFor(alerting: AlertingSettings, tier: AlertTier, alertType: string): DeliveryPlan {
  const tierPlan = alerting.tiers[tier];
  const typePlan = alerting.types[alertType];
  return {
    channels: typePlan?.channels ?? tierPlan.channels,
    requireAck: tierPlan.requireAck,
    escalation: tierPlan.requireAck ? (typePlan?.escalation ?? tierPlan.escalation) : [],
    taskDueBusinessDays: tierPlan.taskDueBusinessDays,
    advice: typePlan?.advice ?? defaultAdvice[alertType] ?? 'Review the deal and decide the next step.',
  };
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
