/**
 * The default playbook: seed 001's standard B2B pipeline, as YAML text. It lives in a .ts module so
 * the engine stays free of file I/O; `defaultPlaybookText()` hands out the text for teams to copy.
 */
import { parsePlaybook } from './parse.ts';
import type { Playbook } from './schema.ts';

const text = String.raw`# Momentum's default playbook: the standard B2B pipeline. Copy it and edit it for your team.
# Format reference: docs/playbook.md.
name: Standard B2B pipeline
description: >-
  Seven stages from Identified to Closed Won/Lost with exit gates, activity, signal and
  milestone progression, regressions on concrete bad news, time-based alerts (never automatic
  progression), probability and close-date upkeep, and the 48-hour and re-engagement cadences.

pipelines:
  hubspot: [default]

stages:
  - key: identified
    label: Identified
    # HubSpot's default pipeline starts at "appointment scheduled", i.e. Discovery.
    crmStageIds: { salesforce: [Prospecting] }
    probability: 5
    probabilityCap: 10
    durationDays: { min: 30, max: 90 }
    exitGates:
      - id: first_contact
        label: First contact reached (reply, connected call or meeting)
        when:
          any:
            - signal: { type: activity.email, where: { direction: inbound } }
            - signal: { type: activity.call, where: { durationMinutes: { gt: 0 } } }
            - signal: { type: activity.meeting }
            - signal: { type: call.completed, where: { externalParticipants: { gte: 1 } } }
      - id: role_verified
        label: A contact's buying role is confirmed
        when:
          stakeholder: { role: [champion, economic_buyer, decision_maker, technical_buyer, influencer, user] }
    onEntry:
      tasks:
        - subject: Research the account and list its buying committee
          due: { businessDays: 3 }
          priority: low

  - key: discovery
    label: Discovery
    crmStageIds: { hubspot: [appointmentscheduled], salesforce: [Qualification, Needs Analysis] }
    probability: 15
    probabilityCap: 25
    durationDays: { min: 14, max: 30 }
    exitGates:
      - id: discovery_meeting
        label: Discovery conversation of 30+ minutes with pain points documented
        when:
          all:
            - any:
                - signal: { type: activity.meeting, where: { kind: discovery, durationMinutes: { gte: 30 } } }
                - signal: { type: activity.call, where: { durationMinutes: { gte: 30 } } }
                - signal: { type: call.completed, where: { durationMinutes: { gte: 30 } } }
            - any:
                - signal: { type: milestone.pain_documented }
                - field: { name: pain_documented, equals: true }
      - id: budget
        label: Budget confirmed or estimated
        when:
          any:
            - signal: { type: [conversation.budget_mentioned, milestone.budget_approved] }
            - field: { name: budget_confirmed, equals: true }
      - id: timeline
        label: Timeline identified
        when:
          any:
            - signal: { type: conversation.timeline_mentioned }
            - field: { name: timeline_confirmed, equals: true }
      - id: decision_process
        label: Decision process understood
        when:
          any:
            - signal: { type: milestone.decision_process_mapped }
            - stakeholder: { role: [economic_buyer, decision_maker] }
      - id: next_step
        label: Next step agreed
        when:
          signal: { type: milestone.next_step_agreed }
    onEntry:
      tasks:
        - subject: Complete the discovery call within 7 days
          body: Cover pain points, budget range, timeline and who decides.
          due: { hours: 168 }
          priority: high

  - key: qualified
    label: Qualified
    crmStageIds: { hubspot: [qualifiedtobuy], salesforce: [Value Proposition, Id. Decision Makers, Perception Analysis] }
    probability: 25
    probabilityCap: 40
    durationDays: { min: 7, max: 14 }
    exitGates:
      - id: qualification
        label: MEDDIC or BANT qualification complete
        when:
          any:
            - all: # MEDDIC
                - field: { name: metrics_defined, equals: true }
                - stakeholder: { role: economic_buyer }
                - field: { name: decision_criteria_documented, equals: true }
                - signal: { type: milestone.decision_process_mapped }
                - signal: { type: milestone.pain_documented }
                - stakeholder: { role: champion }
            - all: # BANT
                - any:
                    - signal: { type: milestone.budget_approved }
                    - field: { name: budget_confirmed, equals: true }
                - any:
                    - stakeholder: { role: [economic_buyer, decision_maker] }
                    - signal: { type: call.completed, where: { topExternalSeniority: { in: [executive, vp] } } }
                - signal: { type: milestone.pain_documented }
                - any:
                    - signal: { type: conversation.timeline_mentioned }
                    - signal: { type: milestone.next_step_agreed, where: { date: { exists: true } } }
    onEntry:
      tasks:
        - subject: Schedule the demo within 5 business days
          due: { businessDays: 5 }
          priority: high
      notify:
        - tier: opportunity
          type: qualified_opportunity
          recipients: [manager]
          message: New qualified opportunity

  - key: proposal
    label: Proposal/Demo
    crmStageIds: { hubspot: [presentationscheduled, decisionmakerboughtin], salesforce: [Proposal/Price Quote] }
    probability: 40
    probabilityCap: 55
    durationDays: { min: 14, max: 30 }
    exitGates:
      - id: demo_attended
        label: Demo held with 3 or more attendees
        when:
          signal: { type: activity.meeting, where: { kind: demo, attendeeCount: { gte: 3 } } }
      - id: proposal_viewed
        label: Proposal sent and viewed
        when:
          all:
            - signal: { type: proposal.sent }
            - signal: { type: proposal.viewed }
      - id: technical_validation
        label: Technical validation complete
        when:
          any:
            - signal: { type: activity.meeting, where: { kind: technical } }
            - signal: { type: milestone.pilot_completed, where: { positive: true } }
            - field: { name: technical_validation_complete, equals: true }
      - id: pricing
        label: Pricing discussed
        when:
          any:
            - signal: { type: conversation.pricing_discussed }
            - field: { name: pricing_agreed, equals: true }
      - id: contract_review
        label: Contract review started (legal or procurement engaged)
        when:
          signal: { type: [milestone.legal_review_requested, conversation.legal_review] }
    onEntry:
      tasks:
        - subject: Complete the demo and send the proposal within 7 days
          due: { hours: 168 }
          priority: high

  - key: negotiation
    label: Negotiation
    crmStageIds: { hubspot: [contractsent], salesforce: [Negotiation/Review] }
    probability: 60
    probabilityCap: 80
    durationDays: { min: 14, max: 21 }
    exitGates:
      - id: contract_sent
        label: Contract sent for signature
        when:
          signal: { type: esign.sent }
      - id: pricing_agreed
        label: All pricing terms agreed
        when:
          any:
            - signal: { type: [proposal.completed, proposal.approved] }
            - field: { name: pricing_agreed, equals: true }
      - id: legal_complete
        label: Legal review complete on both sides
        when:
          field: { name: legal_review_complete, equals: true }
      - id: implementation_plan
        label: Implementation plan agreed
        when:
          field: { name: implementation_plan_agreed, equals: true }
    onEntry:
      tasks:
        - subject: Send the contract within 48 hours
          due: { hours: 48 }
          priority: high
      notify:
        - tier: opportunity
          type: negotiation_started
          recipients: [manager, leadership]
          message: Deal entering negotiation

  - key: closed_won
    label: Closed Won
    crmStageIds: { hubspot: [closedwon], salesforce: [Closed Won] }
    probability: 100
    closed: won
    onEntry:
      tasks:
        - subject: Schedule the kickoff call within 5 business days
          body: Hand the account to Customer Success with the implementation plan.
          due: { businessDays: 5 }
          priority: high
      notify:
        - tier: opportunity
          type: deal_won
          recipients: [manager, leadership]
          message: Deal won

  - key: closed_lost
    label: Closed Lost
    crmStageIds: { hubspot: [closedlost], salesforce: [Closed Lost] }
    probability: 0
    closed: lost
    onEntry:
      tasks:
        - subject: Record the loss reason within 3 business days
          body: Note the reason, the competitor if any, and what to do differently.
          due: { businessDays: 3 }
          priority: medium

rules:
  # Rule type 1: activity-based progression.
  - id: adv-emails-exchanged
    type: activity
    mode: auto
    description: Three or more emails exchanged with the prospect
    from: [identified]
    when:
      all:
        - count: { type: activity.email, atLeast: 3 }
        - signal: { type: activity.email, where: { direction: inbound } }
    advanceTo: discovery

  - id: adv-discovery-call
    type: activity
    mode: auto
    description: Discovery call of 30+ minutes logged
    from: [discovery]
    when:
      any:
        - signal: { type: activity.meeting, where: { kind: discovery, durationMinutes: { gte: 30 } } }
        - signal: { type: activity.call, where: { durationMinutes: { gte: 30 } } }
        - signal: { type: call.completed, where: { durationMinutes: { gte: 30 } } }
    advanceTo: qualified

  - id: adv-demo-logged
    type: activity
    mode: auto
    description: Demo meeting logged
    from: [qualified]
    when:
      signal: { type: activity.meeting, where: { kind: demo } }
    advanceTo: proposal

  - id: adv-proposal-sent
    type: activity
    mode: auto
    description: Proposal document sent
    from: [discovery, qualified]
    when:
      signal: { type: proposal.sent }
    advanceTo: proposal

  - id: adv-contract-sent
    type: activity
    mode: auto
    description: Contract sent for e-signature
    from: [qualified, proposal]
    when:
      signal: { type: esign.sent }
    advanceTo: negotiation

  - id: adv-esign-completed
    type: activity
    mode: auto
    description: Contract signed (e-signature completed)
    when:
      signal: { type: esign.completed }
    advanceTo: closed_won
    conclusive: true

  # Rule type 2: signal-based progression and probability adjustments.
  - id: sig-budget-mentioned
    type: signal
    mode: auto
    description: Budget of $50K or more mentioned
    from: [discovery]
    when:
      signal: { type: conversation.budget_mentioned, where: { amount: { gte: 50000 } } }
    advanceTo: next

  - id: sig-timeline-ready
    type: signal
    mode: auto
    description: Buyer named a timeline and the stage's gates are met
    from: [discovery, qualified]
    when:
      signal: { type: conversation.timeline_mentioned, where: { date: { exists: true } } }
    advanceTo: next
    onlyIfReady: true

  - id: sig-competitor-mentioned
    type: signal
    mode: auto
    description: Competitor mentioned in a conversation
    when:
      signal: { type: conversation.competitor_mentioned }
    flag: { type: competitive_deal, message: Competitive deal - a competitor came up in conversation }
    alert: { tier: critical, type: competitor_entered, recipients: [owner, manager] }

  - id: sig-competitor-engaged
    type: signal
    mode: auto
    description: Competitor mentioned while engagement is deepening (3+ touches in 14 days)
    from: [discovery, qualified, proposal]
    when:
      all:
        - signal: { type: conversation.competitor_mentioned }
        - count: { type: [activity.email, activity.call, activity.meeting, call.completed], withinDays: 14, atLeast: 3 }
    advanceTo: next
    onlyIfReady: true

  - id: sig-stakeholder-added
    type: signal
    mode: auto
    description: New stakeholder added to the deal
    when:
      signal: { type: stakeholder.added }
    adjustProbability: 5
    maxPerStage: 2

  - id: sig-executive-engaged
    type: signal
    mode: auto
    description: Executive (VP or above) engaged
    when:
      any:
        - signal: { type: stakeholder.added, where: { seniority: { in: [executive, vp] } } }
        - signal: { type: call.completed, where: { topExternalSeniority: { in: [executive, vp] } } }
        - signal: { type: activity.meeting, where: { kind: executive } }
    adjustProbability: 10
    alert: { tier: opportunity, type: executive_engaged, recipients: [owner] }

  # Rule type 3: milestone-based progression.
  - id: ms-security-review
    type: milestone
    mode: auto
    description: Security review requested (technical evaluation)
    when:
      signal: { type: [milestone.security_review_requested, conversation.security_review] }
    advanceTo: proposal
    alert: { tier: opportunity, type: buying_signal, recipients: [owner] }

  - id: ms-legal-review
    type: milestone
    mode: auto
    description: Legal review requested
    when:
      signal: { type: [milestone.legal_review_requested, conversation.legal_review] }
    advanceTo: negotiation

  - id: ms-reference-call
    type: milestone
    mode: auto
    description: Reference call completed
    when:
      signal: { type: milestone.reference_call_completed }
    advanceTo: next

  - id: ms-pilot-completed
    type: milestone
    mode: auto
    description: Pilot completed with positive results
    when:
      signal: { type: milestone.pilot_completed, where: { positive: true } }
    advanceTo: proposal

  - id: ms-budget-approved
    type: milestone
    mode: auto
    description: Budget approval confirmed
    when:
      signal: { type: milestone.budget_approved }
    advanceTo: negotiation

  # Regressions: concrete bad news only. Silence never moves a deal back.
  - id: reg-champion-left
    type: regression
    mode: auto
    description: Champion left the company
    when:
      signal: { type: stakeholder.departed, where: { role: champion } }
    regressTo: previous
    grace: { cancelWhenRoleFilled: true }
    probabilityPenalty: 20
    alert: { tier: critical, type: champion_departed, recipients: [owner, manager] }

  - id: reg-budget-cancelled
    type: regression
    mode: auto
    description: Budget cancelled or cut
    when:
      signal: { type: milestone.budget_cancelled }
    regressTo: discovery
    alert: { tier: warning, type: deal_regressed, recipients: [manager] }

  - id: reg-competitor-won
    type: regression
    mode: auto
    description: Competitor won the technical evaluation
    when:
      signal: { type: milestone.competitor_won_evaluation }
    regressTo: proposal
    alert: { tier: critical, type: deal_regressed, recipients: [owner, manager] }

  - id: reg-stakeholder-lost
    type: regression
    mode: auto
    description: Key stakeholder lost with no replacement
    when:
      signal: { type: [stakeholder.departed, stakeholder.removed], where: { role: { in: [economic_buyer, decision_maker] } } }
    regressTo: previous
    grace: { days: 14, cancelWhenRoleFilled: true }
    alert: { tier: warning, type: stakeholder_lost, recipients: [owner, manager] }

  # Rule type 4: time-based alerts. They never move a stage.
  - id: time-stall-warning
    type: time
    mode: auto
    check: stall_warning
    alert: { tier: warning, type: stage_stall, recipients: [owner, manager] }

  - id: time-stall-critical
    type: time
    mode: auto
    check: stall_critical
    alert: { tier: critical, type: stage_stall_escalation, recipients: [manager, leadership] }
    task:
      subject: Explain why the deal is still in {stage}
      body: The deal has been in this stage for more than twice its average; note what is blocking it.
      due: { businessDays: 2 }
      priority: high

  - id: time-close-date-past
    type: time
    mode: auto
    check: close_date_past
    flag: { type: close_date_past }

  - id: time-stale
    type: time
    mode: auto
    check: stale_alert
    alert: { tier: warning, type: stale_deal, recipients: [owner] }

  - id: time-stale-suggest
    type: time
    mode: suggest
    check: stale_suggest
    suggest:
      subject: Close this deal as lost, or start re-engagement
      due: { businessDays: 2 }

  - id: time-plan-overdue
    type: time
    mode: auto
    check: plan_overdue
    alert: { tier: warning, type: plan_milestone_overdue, recipients: [owner, manager] }

  # Probability and close date upkeep.
  - id: prob-stage-health
    type: probability
    mode: auto
    description: Stage base probability plus health adjustment, capped per stage

  - id: cd-velocity
    type: close_date
    mode: auto
    description: Close date from stage average and engagement velocity
    source: velocity

  - id: cd-timeline
    type: close_date
    mode: auto
    description: Buyer named a date
    source: timeline_signal
    when:
      signal: { type: conversation.timeline_mentioned, where: { date: { exists: true } } }

  # Follow-up cadences: tasks for the rep, never emails to the buyer.
  - id: cad-48-hour
    type: cadence
    mode: auto
    description: 48-hour rule
    cadence: follow_up

  - id: cad-reengagement
    type: cadence
    mode: auto
    description: Re-engagement sequence (day 1, 4, 8, 12)
    cadence: re_engagement

  # Workflow recipes (docs/playbook.md, "Workflow rules"): a trigger, optional conditions and
  # actions, each with its own mode. Turn one off with mode: off, or edit it. The loss-reason and
  # kickoff-call tasks come from the Closed Lost and Closed Won entry workflows above.
  - id: recipe-meeting-follow-up
    type: workflow
    mode: auto
    description: Meeting or call completed (seed 002)
    trigger:
      signal: { type: [call.completed, activity.meeting] }
    # The same conversation often arrives twice (recorded call and CRM meeting): one task is enough.
    when:
      not: { count: { type: [call.completed, activity.meeting], withinDays: 0.125, atLeast: 2 } }
    actions:
      - task:
          subject: Send the summary and next steps
          body: Recap what was discussed, who does what by when, and the date of the next conversation.
          due: { hours: 4 }
          priority: high

  - id: recipe-confirm-agenda
    type: workflow
    mode: auto
    description: Next meeting tomorrow (the agreed next step's date)
    trigger:
      time: { beforeDate: { date: { signal: { type: milestone.next_step_agreed, field: date } }, hours: 24 } }
    actions:
      - task:
          subject: Confirm the agenda and attendees for the next meeting
          due: { hours: 4 }
          priority: medium

  - id: recipe-win-review
    type: workflow
    mode: auto
    description: Deal won (win/loss post-mortem)
    trigger: { stageEntered: [closed_won] }
    actions:
      - task:
          subject: Record why this deal was won
          body: Note what decided it, who championed it, the competitor if any, and what to repeat.
          due: { businessDays: 3 }
          priority: medium

  - id: recipe-capture-competitor
    type: workflow
    mode: auto
    description: Deal closed; a competitor was named along the way
    trigger: { stageEntered: [closed_won, closed_lost] }
    actions:
      - updateField:
          name: competitor
          value: { fromSignal: { type: [milestone.competitor_won_evaluation, conversation.competitor_mentioned], field: competitor } }

  - id: recipe-onboarding-kickoff
    type: workflow
    mode: auto
    description: Closed Won (onboarding kickoff)
    trigger: { stageEntered: [closed_won] }
    actions:
      - task:
          subject: Hand the account over to Customer Success
          body: Share the implementation plan, the stakeholders and what was promised in the sale.
          due: { businessDays: 1 }
          priority: high
          ownerRole: customer_success
      - alert: { tier: opportunity, type: finance_handoff, recipients: [finance], message: Deal won - set up invoicing }

  - id: recipe-renewal-reminder
    type: workflow
    mode: auto
    description: Contract ends in 90 days (field contract_end_date)
    stages: [closed_won]
    trigger:
      time: { beforeDate: { date: { field: contract_end_date }, days: 90 } }
    actions:
      - task:
          subject: Start the renewal conversation
          body: The contract ends in 90 days. Review usage and value delivered, then open the renewal.
          due: { businessDays: 5 }
          priority: high
      - alert: { tier: warning, type: renewal_due, recipients: [owner, customer_success] }

  - id: recipe-cold-deal-nurture
    type: workflow
    mode: suggest
    description: No activity for 30 days (re-engagement of cold deals)
    trigger:
      time: { quietDays: 30 }
    actions:
      - task:
          subject: Move this deal to nurture, or re-engage it with something useful
          body: Nothing has happened for 30 days. Decide whether to nurture or re-engage; Momentum never emails the buyer.
          due: { businessDays: 2 }

  - id: recipe-discount-approval
    type: workflow
    mode: approve
    description: Discount above 20% or non-standard terms
    trigger:
      signal: { type: crm.field_changed, where: { field: { in: [discount_percent, non_standard_terms] } } }
    when:
      all:
        - any:
            - field: { name: discount_percent, gt: 20 }
            - field: { name: non_standard_terms, equals: true }
        - not: { field: { name: discount_approval, equals: approved } }
    actions:
      - approval:
          approver: manager
          subject: Approve the discount or non-standard terms
          setField: { name: discount_approval, value: approved }

  # Owner routing (docs/routing.md). These do nothing until the workspace has a routing directory.
  - id: route-unowned-deal
    type: workflow
    mode: auto
    description: Deal without an owner
    trigger:
      signal: { type: [crm.deal_created, crm.owner_changed, crm.stage_changed] }
    stages: [identified, discovery, qualified, proposal, negotiation]
    when:
      owner: { assigned: false }
    actions:
      - assignOwner: { fallback: manager }

  - id: route-stale-assignment
    type: workflow
    mode: auto
    description: Assigned owner has not touched the deal within 24 hours
    trigger:
      time: { unworkedAssignmentHours: 24 }
    when:
      owner: { known: true }
    actions:
      - alert: { tier: warning, type: stale_assignment, recipients: [manager], message: No first touch since the deal was assigned }
      - assignOwner: { reassign: true, fallback: manager }

policies:
  stageSkip: { maxSkippedWithoutApproval: 1 }
  unmetGates: suggest
  overrideRespectDays: 14
  alertThrottleHours:
    default: 24
    stage_stall: 168
    stage_stall_escalation: 168
    stale_deal: 168
    close_date_drift: 168
    champion_departed: 72
    score_drop: 72
    plan_milestone_overdue: 72
  closeDate:
    driftAlertDays: 14
    changesFlagAt: 3
    approvalForExtensionDays: 30
    driftAlert: { tier: warning, type: close_date_drift, recipients: [owner] }
  engagement:
    windowDays: 14
    touchTypes: [activity.email, activity.call, activity.meeting, call.completed]
    fast: { aboveTouchesPerWeek: 2, multiplier: 0.7 }
    normal: { multiplier: 1.0 }
    slow: { belowTouchesPerWeek: 1, multiplier: 1.5 }
  stall: { warningMultiple: 1.5, criticalMultiple: 2 }
  stale: { alertDays: 30, suggestDays: 60 }
  championGraceDays: 14
  cadence:
    buyerResponse:
      - { type: activity.email, where: { direction: inbound } }
      - { type: activity.meeting }
      - { type: activity.call, where: { durationMinutes: { gt: 0 } } }
      - { type: call.completed, where: { externalParticipants: { gte: 1 } } }
    followUp:
      afterHours: 48
      task:
        subject: Follow up with something useful for the buyer
        body: Nothing has happened for two days and no next step is agreed. Send a recap, a resource or a concrete next step.
        due: { businessDays: 0 }
        priority: high
    reengagement:
      startAfterQuietDays: 7
      steps:
        - day: 1
          task: { subject: "Re-engagement day 1: send a value-add note (insight, content or customer story)" }
        - day: 4
          task: { subject: "Re-engagement day 4: ask directly whether something has changed" }
        - day: 8
          task: { subject: "Re-engagement day 8: reach out to the economic buyer if warranted" }
        - day: 12
          task: { subject: "Re-engagement day 12: honest check whether the timing is wrong" }
  mutualActionPlan: { overdueAfterDays: 0 }
  health:
    weights: { engagement: 30, stakeholders: 20, champion: 20, urgency: 15, timeInStage: 15 }
    stakeholderTarget: 4
    scoreDrop:
      points: 20
      withinDays: 7
      alert: { tier: critical, type: score_drop, recipients: [owner, manager] }
    bands:
      - key: hot
        min: 80
        alertOnEnter: { tier: opportunity, type: score_band_hot, recipients: [owner], direction: up }
      - key: warm
        min: 60
      - key: cooling
        min: 40
        alertOnEnter: { tier: warning, type: score_band_cooling, recipients: [owner], direction: down }
      - key: at_risk
        min: 0
        alertOnEnter: { tier: warning, type: score_band_at_risk, recipients: [owner, manager], direction: down }
    historyDays: 30
  probability:
    bandAdjustment: { hot: 10, warm: 0, cooling: -5, at_risk: -10 }
    repDiscrepancyFlagPoints: 15
  lateSignalWindowDays: 7

# Alert delivery (seed 003): who hears about an alert, how, and when. Reference: docs/alerts.md.
alerting:
  timeZone: UTC                      # for people whose time zone is not on record
  workingHours: { days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" }
  quietHours: outside_working_hours  # deliveries wait for the recipient's next working hour
  digest: { hour: 8 }                # local hour of each recipient's daily digest
  tiers:
    critical:
      channels: [crm_task, slack]
      requireAck: true
      taskDueBusinessDays: 0
      escalation:                    # day 1 the rep (the first delivery), then:
        - { afterDays: 2, notify: [manager] }     # day 3: the manager
        - { afterDays: 6, flag: pipeline_review } # day 7: flagged for pipeline review
    warning:
      channels: [crm_task, digest]
    opportunity:
      channels: [digest]
  dedupeHours: 24
  throttle:
    perDeal: { max: 3, hours: 24 }
    perRecipient: { max: 10, hours: 24 }
  dailyCap: 200

# Who decides what waits for approval (approve-mode rules, stage skips, long close-date extensions)
# and how they hear of it. Reference: docs/playbook.md, "Approvals".
approvals:
  approver: manager          # the deal owner's manager (the owner when none is on record) | owner | { ownerId: "<CRM owner id>" }
  notify: crm_task           # a high-priority CRM task on the deal for the approver | none
  taskDueBusinessDays: 1     # the approver's working days until that task is due
`;

export function defaultPlaybookText(): string {
  return text;
}

let parsed: Playbook | undefined;

/** The parsed default playbook (parsed once; treat it as read-only). */
export function defaultPlaybook(): Playbook {
  if (parsed) return parsed;
  const result = parsePlaybook(text);
  if (!result.ok) {
    throw new Error(`default playbook is invalid: ${result.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
  parsed = result.playbook;
  return parsed;
}
