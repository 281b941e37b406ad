import type { SignalType } from '../../signals/catalogue.ts';
import { compileCondition, type CompiledCondition } from '../conditions.ts';
import type { Playbook, WorkflowRule } from '../playbook/schema.ts';

/**
 * Workflow rules prepared once per playbook, indexed by what can trigger them. Kept beside the
 * main compiled playbook (cached on the same document) so the core compiler stays unchanged.
 */
export interface CompiledWorkflow {
  rule: WorkflowRule;
  /** The trigger's signal match, as a condition (signal triggers only). */
  signal: CompiledCondition | null;
  condition: CompiledCondition | null;
  stages: ReadonlySet<string> | null;
}

export interface CompiledWorkflows {
  bySignalType: Map<SignalType, CompiledWorkflow[]>;
  stageChange: CompiledWorkflow[];
  time: CompiledWorkflow[];
  score: CompiledWorkflow[];
  /** Any workflow at all: lets evaluation skip the work for playbooks without them. */
  any: boolean;
}

const cache = new WeakMap<Playbook, CompiledWorkflows>();

export function compileWorkflows(playbook: Playbook): CompiledWorkflows {
  const hit = cache.get(playbook);
  if (hit) return hit;
  const out: CompiledWorkflows = { bySignalType: new Map(), stageChange: [], time: [], score: [], any: false };
  for (const rule of playbook.rules) {
    if (rule.type !== 'workflow' || rule.mode === 'off') continue;
    if (rule.actions.every((a) => (a.mode ?? rule.mode) === 'off')) continue;
    const t = rule.trigger;
    const signal = t.signal ? compileCondition({ signal: t.signal }) : null;
    const compiled: CompiledWorkflow = {
      rule,
      signal,
      condition: rule.when ? compileCondition(rule.when) : null,
      stages: rule.stages ? new Set(rule.stages) : null,
    };
    out.any = true;
    if (signal) {
      for (const type of signal.types) {
        const list = out.bySignalType.get(type);
        if (list) list.push(compiled);
        else out.bySignalType.set(type, [compiled]);
      }
    } else if (t.stageEntered || t.stageLeft) out.stageChange.push(compiled);
    else if (t.time) out.time.push(compiled);
    else if (t.score) out.score.push(compiled);
  }
  cache.set(playbook, out);
  return out;
}
