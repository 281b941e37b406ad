import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { badRequest } from '../platform/errors.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { loadConnection } from '../writeback/connection-store.ts';
import { crmClientFor } from '../writeback/crm-target.ts';
import { publishPlaybook, validatePlaybookText, type StoredPlaybook } from './playbook-store.ts';
import { checkStageMapping } from './stage-mapping-check.ts';

export interface PublishDeps {
  db: Database;
  secretBox: SecretBox;
  logger: Logger;
  crmTimeoutMs: number;
}

/**
 * Validates and publishes a playbook. With a CRM connection, every CRM stage id the playbook maps
 * to must exist in the CRM; when the CRM cannot be asked, the playbook is published with a warning.
 */
export async function publishCheckedPlaybook(
  deps: PublishDeps,
  workspaceId: string,
  text: string,
  createdBy: string | null,
): Promise<{ stored: StoredPlaybook; warnings: string[] }> {
  const { db } = deps;
  const playbook = validatePlaybookText(text);
  const warnings: string[] = [];
  const connection = await loadConnection(db, deps.secretBox, workspaceId);
  if (connection) {
    const client = crmClientFor({ db, secretBox: deps.secretBox, logger: deps.logger, config: { crmTimeoutMs: deps.crmTimeoutMs } }, workspaceId, connection.config);
    try {
      const problems = checkStageMapping(playbook, connection.config.provider, await client.listPipelines());
      if (problems.length > 0) throw badRequest('unknown_crm_stage', `${problems[0]!.path}: ${problems[0]!.message}`, problems);
    } catch (error) {
      if ((error as { code?: string }).code === 'unknown_crm_stage') throw error;
      warnings.push(`The stage mapping could not be checked against the CRM: ${(error as Error).message}`);
    }
  }
  const stored = await publishPlaybook(db, workspaceId, text, createdBy);
  return { stored, warnings };
}
