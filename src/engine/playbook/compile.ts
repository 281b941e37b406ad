import type { SignalType } from '../../signals/catalogue.ts';
import { compileCondition, type CompiledCondition } from '../conditions.ts';
import type { Provider } from '../types.ts';
import type {
  CadenceRule,
  CloseDateRule,
  Playbook,
  ProbabilityRule,
  RegressionRule,
  SignalMatch,
  Stage,
  TimeRule,
  TriggerRule,
} from './schema.ts';

/**
 * A playbook prepared for fast evaluation: conditions become closures, stages and rules are
 * indexed by key and by the signal types that can trigger them. Compile once per playbook
 * version and reuse it for every deal.
 */

export interface CompiledGate {
  id: string;
  label: string;
  condition: CompiledCondition;
}

export interface CompiledStage {
  stage: Stage;
  key: string;
  /** Position among open stages followed by the won stage; null for a lost stage. */
  rank: number | null;
  averageDays: number | null;
  cap: number;
  gates: CompiledGate[];
}

export interface CompiledTriggerRule {
  rule: TriggerRule;
  condition: CompiledCondition;
  from: ReadonlySet<string> | null;
}

export interface CompiledRegressionRule {
  rule: RegressionRule;
  condition: CompiledCondition;
  from: ReadonlySet<string> | null;
}

export interface CompiledCloseDateRule {
  rule: CloseDateRule;
  condition: CompiledCondition | null;
}

export interface CompiledPlaybook {
  readonly compiled: true;
  playbook: Playbook;
  stages: CompiledStage[];
  stageByKey: Map<string, CompiledStage>;
  /** Open and won stages in pipeline order (index = rank). */
  ranked: CompiledStage[];
  crmToStage: Record<Provider, Map<string, string>>;
  triggerRulesByType: Map<SignalType, CompiledTriggerRule[]>;
  regressionRulesByType: Map<SignalType, CompiledRegressionRule[]>;
  timeRules: TimeRule[];
  probabilityRule: ProbabilityRule | null;
  velocityRule: CloseDateRule | null;
  timelineRulesByType: Map<SignalType, CompiledCloseDateRule[]>;
  followUpRule: CadenceRule | null;
  reengagementRule: CadenceRule | null;
  buyerResponse: CompiledCondition[];
  touchTypes: ReadonlySet<SignalType>;
}

function isCompiled(p: CompiledPlaybook | Playbook): p is CompiledPlaybook {
  return (p as CompiledPlaybook).compiled === true;
}

function indexByTypes<T>(map: Map<SignalType, T[]>, types: Iterable<SignalType>, item: T): void {
  for (const t of types) {
    const list = map.get(t);
    if (list) list.push(item);
    else map.set(t, [item]);
  }
}

const cache = new WeakMap<Playbook, CompiledPlaybook>();

export function compilePlaybook(input: CompiledPlaybook | Playbook): CompiledPlaybook {
  if (isCompiled(input)) return input;
  const hit = cache.get(input);
  if (hit) return hit;

  const playbook = input;
  let rank = 0;
  const stages: CompiledStage[] = playbook.stages.map((stage) => ({
    stage,
    key: stage.key,
    rank: stage.closed === 'lost' ? null : rank++,
    averageDays: stage.durationDays ? (stage.durationDays.min + stage.durationDays.max) / 2 : null,
    cap: stage.probabilityCap ?? (stage.closed === 'won' ? 100 : stage.closed === 'lost' ? 0 : 100),
    gates: stage.exitGates.map((g) => ({ id: g.id, label: g.label, condition: compileCondition(g.when) })),
  }));
  const stageByKey = new Map(stages.map((s) => [s.key, s]));
  const ranked = stages.filter((s) => s.rank !== null).sort((a, b) => a.rank! - b.rank!);

  const crmToStage: Record<Provider, Map<string, string>> = { hubspot: new Map(), salesforce: new Map() };
  for (const s of playbook.stages) {
    for (const id of s.crmStageIds.hubspot ?? []) crmToStage.hubspot.set(id, s.key);
    for (const id of s.crmStageIds.salesforce ?? []) crmToStage.salesforce.set(id, s.key);
  }

  const triggerRulesByType = new Map<SignalType, CompiledTriggerRule[]>();
  const regressionRulesByType = new Map<SignalType, CompiledRegressionRule[]>();
  const timelineRulesByType = new Map<SignalType, CompiledCloseDateRule[]>();
  const timeRules: TimeRule[] = [];
  let probabilityRule: ProbabilityRule | null = null;
  let velocityRule: CloseDateRule | null = null;
  let followUpRule: CadenceRule | null = null;
  let reengagementRule: CadenceRule | null = null;

  // Rules in mode `off` are dropped here, so evaluation never even looks at them.
  for (const rule of playbook.rules) {
    if (rule.mode === 'off') continue;
    switch (rule.type) {
      case 'activity':
      case 'signal':
      case 'milestone': {
        const condition = compileCondition(rule.when);
        indexByTypes(triggerRulesByType, condition.types, { rule, condition, from: rule.from ? new Set(rule.from) : null });
        break;
      }
      case 'regression': {
        const condition = compileCondition(rule.when);
        indexByTypes(regressionRulesByType, condition.types, { rule, condition, from: rule.from ? new Set(rule.from) : null });
        break;
      }
      case 'time':
        timeRules.push(rule);
        break;
      case 'probability':
        probabilityRule = rule;
        break;
      case 'close_date':
        if (rule.source === 'velocity') velocityRule = rule;
        else if (rule.when) {
          const condition = compileCondition(rule.when);
          indexByTypes(timelineRulesByType, condition.types, { rule, condition });
        }
        break;
      case 'cadence':
        if (rule.cadence === 'follow_up') followUpRule = rule;
        else reengagementRule = rule;
        break;
    }
  }

  const compiled: CompiledPlaybook = {
    compiled: true,
    playbook,
    stages,
    stageByKey,
    ranked,
    crmToStage,
    triggerRulesByType,
    regressionRulesByType,
    timeRules,
    probabilityRule,
    velocityRule,
    timelineRulesByType,
    followUpRule,
    reengagementRule,
    buyerResponse: playbook.policies.cadence.buyerResponse.map((m: SignalMatch) => compileCondition({ signal: m })),
    touchTypes: new Set(playbook.policies.engagement.touchTypes),
  };
  cache.set(playbook, compiled);
  return compiled;
}

/** The CRM stage id to write when moving a deal of this provider into a stage. */
export function crmStageFor(pb: CompiledPlaybook, stageKey: string, provider: Provider): string | null {
  return pb.stageByKey.get(stageKey)?.stage.crmStageIds[provider]?.[0] ?? null;
}
