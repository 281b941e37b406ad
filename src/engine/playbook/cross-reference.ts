import { signalPayloads, type SignalType } from '../../signals/catalogue.ts';
import type { PathPart } from './parse.ts';
import type { Condition, Playbook, SignalMatch } from './schema.ts';
import { workflowProblems } from '../recipes/validate.ts';

interface Problem {
  path: PathPart[];
  message: string;
}

/** Payload field names per signal type, straight from the catalogue's schemas. */
function payloadFields(type: SignalType): Set<string> {
  const schema = signalPayloads[type] as unknown as { shape?: Record<string, unknown> };
  return new Set(Object.keys(schema.shape ?? {}));
}

function checkWhere(match: Pick<SignalMatch, 'type' | 'where'>, path: PathPart[], out: Problem[]): void {
  if (!match.where) return;
  const types = Array.isArray(match.type) ? match.type : [match.type];
  for (const field of Object.keys(match.where)) {
    const missing = types.filter((t) => !payloadFields(t).has(field));
    if (missing.length > 0) out.push({ path: [...path, 'where', field], message: `${missing.join(', ')} has no payload field "${field}"` });
  }
}

/** Walks a condition; returns whether it contains a signal or count leaf (something that can fire). */
function checkCondition(c: Condition, path: PathPart[], out: Problem[]): boolean {
  if (c.signal) {
    checkWhere(c.signal, [...path, 'signal'], out);
    return true;
  }
  if (c.count) {
    checkWhere(c.count, [...path, 'count'], out);
    return true;
  }
  if (c.all || c.any) {
    const key = c.all ? 'all' : 'any';
    let fires = false;
    (c.all ?? c.any)!.forEach((child, i) => {
      if (checkCondition(child, [...path, key, i], out)) fires = true;
    });
    return fires;
  }
  if (c.not) {
    checkCondition(c.not, [...path, 'not'], out);
    return false;
  }
  return false;
}

/** Checks that need the whole document: references between parts, uniqueness, sums, order. */
export function crossReferenceProblems(pb: Playbook): Problem[] {
  const out: Problem[] = [];
  const stageIndex = new Map<string, number>();
  const crmSeen: Record<'hubspot' | 'salesforce', Map<string, string>> = { hubspot: new Map(), salesforce: new Map() };
  let won = 0;
  let open = 0;
  let sawClosed = false;

  pb.stages.forEach((stage, i) => {
    const at: PathPart[] = ['stages', i];
    if (stageIndex.has(stage.key)) out.push({ path: [...at, 'key'], message: `duplicate stage key "${stage.key}"` });
    else stageIndex.set(stage.key, i);
    if (stage.closed === 'won') won += 1;
    if (stage.closed === undefined) {
      open += 1;
      if (sawClosed) out.push({ path: at, message: 'open stages must come before closed stages' });
      if (!stage.durationDays) out.push({ path: [...at, 'durationDays'], message: 'an open stage needs durationDays (stall alerts and close dates use it)' });
    } else sawClosed = true;
    if (stage.durationDays && stage.durationDays.min > stage.durationDays.max) {
      out.push({ path: [...at, 'durationDays'], message: 'min is greater than max' });
    }
    if (stage.probabilityCap !== undefined && stage.probabilityCap < stage.probability) {
      out.push({ path: [...at, 'probabilityCap'], message: `cap ${stage.probabilityCap} is below the base probability ${stage.probability}` });
    }
    for (const provider of ['hubspot', 'salesforce'] as const) {
      (stage.crmStageIds[provider] ?? []).forEach((id, j) => {
        const other = crmSeen[provider].get(id);
        if (other !== undefined) out.push({ path: [...at, 'crmStageIds', provider, j], message: `${provider} stage "${id}" is already mapped to "${other}"` });
        else crmSeen[provider].set(id, stage.key);
      });
    }
    const gateIds = new Set<string>();
    stage.exitGates.forEach((gate, j) => {
      if (gateIds.has(gate.id)) out.push({ path: [...at, 'exitGates', j, 'id'], message: `duplicate gate id "${gate.id}"` });
      gateIds.add(gate.id);
      checkCondition(gate.when, [...at, 'exitGates', j, 'when'], out);
    });
  });
  if (won !== 1) out.push({ path: ['stages'], message: `exactly one stage must be closed: won (found ${won})` });
  if (open === 0) out.push({ path: ['stages'], message: 'at least one open stage is needed' });

  const stageRef = (key: string, path: PathPart[], opts: { allowRelative?: 'next' | 'previous'; notClosed?: 'lost' | 'any' } = {}): void => {
    if (key === opts.allowRelative) return;
    const i = stageIndex.get(key);
    if (i === undefined) {
      out.push({ path, message: `unknown stage "${key}"` });
      return;
    }
    const closed = pb.stages[i]!.closed;
    if (opts.notClosed === 'lost' && closed === 'lost') out.push({ path, message: `a rule cannot advance a deal into the lost stage "${key}"` });
    if (opts.notClosed === 'any' && closed !== undefined) out.push({ path, message: `a regression cannot target the closed stage "${key}"` });
  };

  const ruleIds = new Set<string>();
  const singles = new Map<string, number>();
  const single = (what: string, path: PathPart[]): void => {
    const n = (singles.get(what) ?? 0) + 1;
    singles.set(what, n);
    if (n > 1) out.push({ path, message: `only one ${what} rule is allowed` });
  };

  pb.rules.forEach((rule, i) => {
    const at: PathPart[] = ['rules', i];
    if (ruleIds.has(rule.id)) out.push({ path: [...at, 'id'], message: `duplicate rule id "${rule.id}"` });
    ruleIds.add(rule.id);
    switch (rule.type) {
      case 'activity':
      case 'signal':
      case 'milestone':
        rule.from?.forEach((k, j) => stageRef(k, [...at, 'from', j]));
        if (rule.advanceTo !== undefined) stageRef(rule.advanceTo, [...at, 'advanceTo'], { allowRelative: 'next', notClosed: 'lost' });
        if (!checkCondition(rule.when, [...at, 'when'], out)) {
          out.push({ path: [...at, 'when'], message: 'a trigger needs at least one signal or count condition, or it can never fire' });
        }
        if (rule.advanceTo === undefined && rule.adjustProbability === undefined && !rule.flag && !rule.alert) {
          out.push({ path: at, message: 'the rule has no effect: give it advanceTo, adjustProbability, flag or alert' });
        }
        if ((rule.conclusive || rule.onlyIfReady) && rule.advanceTo === undefined) {
          out.push({ path: at, message: 'conclusive and onlyIfReady only make sense with advanceTo' });
        }
        break;
      case 'regression':
        rule.from?.forEach((k, j) => stageRef(k, [...at, 'from', j]));
        stageRef(rule.regressTo, [...at, 'regressTo'], { allowRelative: 'previous', notClosed: 'any' });
        if (!checkCondition(rule.when, [...at, 'when'], out)) {
          out.push({ path: [...at, 'when'], message: 'a regression needs a signal condition: silence alone never regresses a deal' });
        }
        break;
      case 'time':
        if (!rule.alert && !rule.flag && !rule.task && !rule.suggest) {
          out.push({ path: at, message: 'a time rule needs an alert, flag, task or suggest' });
        }
        break;
      case 'probability':
        single('probability', at);
        break;
      case 'close_date':
        if (rule.source === 'velocity') {
          single('velocity close_date', at);
          if (rule.when) out.push({ path: [...at, 'when'], message: 'a velocity close_date rule takes no condition' });
        } else if (!rule.when) {
          out.push({ path: [...at, 'when'], message: 'a timeline_signal close_date rule needs a condition' });
        } else if (!checkCondition(rule.when, [...at, 'when'], out)) {
          out.push({ path: [...at, 'when'], message: 'the condition needs a signal to fire on' });
        }
        break;
      case 'cadence':
        single(`${rule.cadence} cadence`, at);
        break;
    }
  });

  const policies = pb.policies;
  const w = policies.health.weights;
  const sum = w.engagement + w.stakeholders + w.champion + w.urgency + w.timeInStage;
  if (sum !== 100) out.push({ path: ['policies', 'health', 'weights'], message: `weights must add up to 100 (they add up to ${sum})` });
  const bandKeys = new Set<string>();
  policies.health.bands.forEach((b, i) => {
    if (bandKeys.has(b.key)) out.push({ path: ['policies', 'health', 'bands', i, 'key'], message: `duplicate band "${b.key}"` });
    bandKeys.add(b.key);
  });
  if (!policies.health.bands.some((b) => b.min === 0)) {
    out.push({ path: ['policies', 'health', 'bands'], message: 'one band must start at 0 so every score has a band' });
  }
  const days = policies.cadence.reengagement.steps.map((s) => s.day);
  days.forEach((d, i) => {
    if (i > 0 && d <= days[i - 1]!) out.push({ path: ['policies', 'cadence', 'reengagement', 'steps', i, 'day'], message: 'step days must increase' });
  });
  policies.cadence.buyerResponse.forEach((m, i) => checkWhere(m, ['policies', 'cadence', 'buyerResponse', i], out));
  if (policies.stall.criticalMultiple < policies.stall.warningMultiple) {
    out.push({ path: ['policies', 'stall', 'criticalMultiple'], message: 'the critical multiple must not be below the warning multiple' });
  }
  out.push(...workflowProblems(pb, checkCondition, checkWhere));
  if (policies.stale.suggestDays < policies.stale.alertDays) {
    out.push({ path: ['policies', 'stale', 'suggestDays'], message: 'suggestDays must not be below alertDays' });
  }
  return out;
}
