import { randomBytes } from 'node:crypto';
import { createDatabase, createPool, type Database } from '../../../src/platform/db.ts';
import { createLogger } from '../../../src/platform/logger.ts';
import { migrateToLatest } from '../../../src/platform/migrate.ts';
import { SecretBox } from '../../../src/platform/secret-box.ts';
import { putSourceConfig } from '../../../src/ingest/source-config-store.ts';
import { webhookAdapter } from '../../../src/integrations/registry.ts';
import { putConnection } from '../../../src/writeback/connection-store.ts';
import { putWorkspace } from '../../../src/workspaces/workspaces-dal.ts';
import { createAdminToken } from '../../../src/workspaces/admin-tokens.ts';
import { createRun, type DemoRun } from '../../../scripts/demo/run-context.ts';
import type { FakeCrm } from './fake-crm.ts';
import type { FaultPostgres } from './postgres.ts';

/** The custom deal property that receives probabilities (HubSpot has no writable one). */
export const PROBABILITY_PROPERTY = 'momentum_probability';

/** The public URL the services believe they have; HubSpot signatures cover it. */
export const PUBLIC_BASE_URL = 'https://momentum.faults.test';

export interface FaultEnvironment {
  databaseName: string;
  databaseUrl: string;
  db: Database;
  encryptionKey: string;
  /** A global admin token. */
  token: string;
  workspaces: FaultWorkspace[];
  /** Every secret configured anywhere in this run: none may appear in a log or an answer. */
  secrets: string[];
  /** What the service processes get in their environment. */
  serviceEnv(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export interface FaultWorkspace {
  id: string;
  /** Vendor secrets and account ids, as the demo's sequences use them. */
  run: DemoRun;
  crmToken: string;
  /** A token scoped to this workspace only. */
  scopedToken: string;
}

/**
 * A fresh database on the suite's server, migrated, with `workspaceCount` live workspaces: all five
 * webhook sources configured with new secrets and a HubSpot connection to the fake CRM.
 */
export async function createFaultEnvironment(pg: FaultPostgres, crm: FakeCrm, options: { name: string; workspaceCount: number; crmTimeoutMs: number }): Promise<FaultEnvironment> {
  const databaseName = `faults_${options.name.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = await pg.createDatabase(databaseName);
  const logger = createLogger({ level: 'silent' });
  const pool = createPool(databaseUrl, 6, logger);
  const db = createDatabase(pool);
  await migrateToLatest(pool, db, logger);
  const encryptionKey = randomBytes(32).toString('base64');
  const box = new SecretBox(encryptionKey);
  const { token } = await createAdminToken(db, { name: 'faults' });
  const secrets = [encryptionKey, token];

  const workspaces: FaultWorkspace[] = [];
  for (let i = 0; i < options.workspaceCount; i += 1) {
    const id = `faults-${i + 1}`;
    const run = createRun({ url: '', publicUrl: PUBLIC_BASE_URL, token, workspace: id });
    const crmToken = `pat-na1-${randomBytes(12).toString('hex')}`;
    crm.addAccount(crmToken);
    await putWorkspace(db, { id, name: id, mode: 'live' });
    const configs: Record<string, Record<string, unknown>> = {
      hubspot: { clientSecrets: [run.secrets.hubspotClientSecret], appId: run.accounts.hubspotAppId, portalId: run.accounts.hubspotPortalId },
      docusign: { hmacKeys: [run.secrets.docusignHmacKey] },
      pandadoc: { sharedKeys: [run.secrets.pandadocSharedKey] },
      gong: { mode: 'url_token', urlToken: run.secrets.gongUrlToken },
    };
    for (const [source, config] of Object.entries(configs)) await putSourceConfig(db, box, webhookAdapter(source)!, id, config);
    await putConnection(db, box, id, { provider: 'hubspot', auth: { type: 'private_app', accessToken: crmToken }, apiBaseUrl: crm.url, appId: '54321', tier: 'starter', probabilityProperty: PROBABILITY_PROPERTY });
    const scoped = await createAdminToken(db, { name: `scoped-${id}`, workspaceId: id });
    workspaces.push({ id, run, crmToken, scopedToken: scoped.token });
    secrets.push(crmToken, scoped.token, run.secrets.hubspotClientSecret, run.secrets.docusignHmacKey, run.secrets.pandadocSharedKey, run.secrets.gongUrlToken);
  }

  return {
    databaseName,
    databaseUrl,
    db,
    encryptionKey,
    token,
    workspaces,
    secrets,
    serviceEnv: (extra = {}) => ({
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      MOMENTUM_ENCRYPTION_KEY: encryptionKey,
      PUBLIC_BASE_URL,
      CRM_TIMEOUT_MS: String(options.crmTimeoutMs),
      DATABASE_POOL_SIZE: '8',
      WORKER_CONCURRENCY: '4',
      SHUTDOWN_TIMEOUT_MS: '10000',
      ...extra,
    }),
    close: () => db.destroy(),
  };
}
