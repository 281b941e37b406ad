import type { Playbook } from '../engine/playbook/schema.ts';
import type { CrmPipeline, CrmProvider } from '../crm/types.ts';

export interface StageMappingProblem {
  path: string;
  message: string;
}

/**
 * Every CRM stage id the playbook maps must exist in the connected CRM; a typo would otherwise
 * surface only when the first write is refused.
 */
export function checkStageMapping(playbook: Playbook, provider: CrmProvider, pipelines: CrmPipeline[]): StageMappingProblem[] {
  const known = new Set(pipelines.flatMap((pipeline) => pipeline.stages.map((stage) => stage.id)));
  const problems: StageMappingProblem[] = [];
  playbook.stages.forEach((stage, index) => {
    (stage.crmStageIds[provider] ?? []).forEach((id, position) => {
      if (!known.has(id)) {
        problems.push({
          path: `stages[${index}].crmStageIds.${provider}[${position}]`,
          message: `${provider} has no deal stage "${id}" (known: ${[...known].slice(0, 20).join(', ')}${known.size > 20 ? ', …' : ''})`,
        });
      }
    });
  });
  const pipelineIds = new Set(pipelines.map((p) => p.id));
  (playbook.pipelines?.[provider] ?? []).forEach((id, position) => {
    if (!pipelineIds.has(id)) problems.push({ path: `pipelines.${provider}[${position}]`, message: `${provider} has no deal pipeline "${id}"` });
  });
  return problems;
}
