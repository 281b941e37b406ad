import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { createCrmClient } from '../crm/create-crm-client.ts';
import type { CrmClient } from '../crm/types.ts';
import { DatabaseTokenStore, loadConnection } from './connection-store.ts';
import { bucketFor, limitsFor } from './crm-limits.ts';
import type { CrmTarget } from './flush-outbox.ts';

export interface CrmTargetDeps {
  db: Database;
  secretBox: SecretBox;
  logger: Logger;
  config: { crmTimeoutMs: number };
}

/** The CRM client, rate-limit bucket and limits for a workspace; undefined without a connection. */
export async function crmTargetFor(deps: CrmTargetDeps, workspaceId: string): Promise<CrmTarget | undefined> {
  const connection = await loadConnection(deps.db, deps.secretBox, workspaceId);
  if (!connection) return undefined;
  return {
    client: crmClientFor(deps, workspaceId, connection.config),
    bucket: bucketFor(workspaceId, connection.config),
    limits: limitsFor(connection.config),
  };
}

export function crmClientFor(deps: CrmTargetDeps, workspaceId: string, config: Parameters<typeof createCrmClient>[0]): CrmClient {
  return createCrmClient(config, {
    tokenStore: new DatabaseTokenStore(deps.db, deps.secretBox, workspaceId),
    fetchTimeoutMs: deps.config.crmTimeoutMs,
    logger: deps.logger.child({ workspaceId, component: 'crm' }),
  });
}
