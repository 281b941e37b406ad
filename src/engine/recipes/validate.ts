import { signalPayloads, type SignalType } from '../../signals/catalogue.ts';
import type { PathPart } from '../playbook/parse.ts';
import type { Condition, FieldValue, Playbook, SignalMatch } from '../playbook/schema.ts';

interface Problem {
  path: PathPart[];
  message: string;
}

type ConditionCheck = (c: Condition, path: PathPart[], out: Problem[]) => boolean;
type WhereCheck = (match: Pick<SignalMatch, 'type' | 'where'>, path: PathPart[], out: Problem[]) => void;

/** Fields the engine writes through its own decisions; a workflow must not write them behind its back. */
const reservedFields = new Set(['amount', 'closeDate', 'ownerId', 'probability', 'pipeline', 'crmStage', 'stage', 'dealstage', 'closedate', 'hubspot_owner_id']);

function payloadField(types: SignalType | SignalType[], field: string, path: PathPart[], out: Problem[]): void {
  const missing = (Array.isArray(types) ? types : [types]).filter((t) => {
    const shape = (signalPayloads[t] as unknown as { shape?: Record<string, unknown> }).shape ?? {};
    return !(field in shape);
  });
  if (missing.length > 0) out.push({ path, message: `${missing.join(', ')} has no payload field "${field}"` });
}

function checkValue(value: FieldValue, path: PathPart[], out: Problem[]): void {
  if (value !== null && typeof value === 'object') payloadField(value.fromSignal.type, value.fromSignal.field, [...path, 'fromSignal', 'field'], out);
}

/**
 * Cross-reference checks for workflow rules: stages exist, signal payload fields exist, and no
 * action writes a field that has its own decision type. Reuses the condition walker of the core
 * checks so payload fields in conditions are checked the same way.
 */
export function workflowProblems(pb: Playbook, checkCondition: ConditionCheck, checkWhere: WhereCheck): Problem[] {
  const out: Problem[] = [];
  const stages = new Set(pb.stages.map((s) => s.key));
  const stageRefs = (keys: string[] | undefined, path: PathPart[]): void =>
    keys?.forEach((k, j) => {
      if (!stages.has(k)) out.push({ path: [...path, j], message: `unknown stage "${k}"` });
    });
  pb.rules.forEach((rule, i) => {
    if (rule.type !== 'workflow') return;
    const at: PathPart[] = ['rules', i];
    const t = rule.trigger;
    stageRefs(rule.stages, [...at, 'stages']);
    stageRefs(t.stageEntered, [...at, 'trigger', 'stageEntered']);
    stageRefs(t.stageLeft, [...at, 'trigger', 'stageLeft']);
    if (t.signal) checkWhere(t.signal, [...at, 'trigger', 'signal'], out);
    const sig = t.time?.beforeDate?.date.signal;
    if (sig) payloadField(sig.type, sig.field, [...at, 'trigger', 'time', 'beforeDate', 'date', 'signal', 'field'], out);
    if (rule.when) checkCondition(rule.when, [...at, 'when'], out);
    rule.actions.forEach((action, j) => {
      const ap: PathPart[] = [...at, 'actions', j];
      const write = action.updateField ?? action.approval?.setField;
      if (write) {
        const wp = [...ap, action.updateField ? 'updateField' : 'approval', ...(action.updateField ? [] : ['setField'])];
        if (reservedFields.has(write.name)) {
          out.push({ path: [...wp, 'name'], message: `"${write.name}" is written by Momentum's own stage, probability, close-date and owner decisions; pick another field` });
        }
        checkValue(write.value, [...wp, 'value'], out);
      }
    });
  });
  return out;
}
