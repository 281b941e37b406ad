import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import { badRequest } from '../platform/errors.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import {
  connectionSecretPaths,
  crmConnectionConfig,
  redactConnectionConfig,
  type CrmConnectionConfig,
} from '../crm/connection-config.ts';
import type { StoredTokens, TokenStore } from '../crm/token-store.ts';

type Secrets = Partial<Record<(typeof connectionSecretPaths)[number], string>>;

function getPath(config: Record<string, any>, path: string): unknown {
  const [parent, leaf] = path.split('.') as [string, string];
  return config[parent]?.[leaf];
}

/** Moves every secret out of the config into its own record (sealed separately). */
function splitSecrets(config: CrmConnectionConfig): { visible: Record<string, unknown>; secrets: Secrets } {
  const visible = structuredClone(config) as Record<string, any>;
  const secrets: Secrets = {};
  for (const path of connectionSecretPaths) {
    const value = getPath(visible, path);
    if (typeof value === 'string') {
      secrets[path] = value;
      const [parent, leaf] = path.split('.') as [string, string];
      delete visible[parent][leaf];
    }
  }
  return { visible, secrets };
}

function joinSecrets(visible: Record<string, any>, secrets: Secrets): Record<string, any> {
  const config = structuredClone(visible);
  for (const [path, value] of Object.entries(secrets)) {
    const [parent, leaf] = path.split('.') as [string, string];
    config[parent] = { ...config[parent], [leaf]: value };
  }
  return config;
}

export interface ConnectionView {
  provider: 'hubspot' | 'salesforce';
  config: Record<string, unknown>;
  tokenExpiresAt: string | null;
  lastTest: Record<string, unknown> | null;
  lastTestedAt: string | null;
  updatedAt: string;
}

/**
 * Creates or replaces the workspace's CRM connection. Secrets left out keep their stored value when
 * the provider and auth type stay the same, so settings can change without re-entering tokens.
 * Any change of credentials drops cached access tokens.
 */
export async function putConnection(db: Database, box: SecretBox, workspaceId: string, body: unknown): Promise<ConnectionView> {
  const existing = await loadConnection(db, box, workspaceId);
  let candidate = body;
  if (existing && isSameAuth(existing.config, body)) {
    const { secrets } = splitSecrets(existing.config);
    candidate = joinSecrets(body as Record<string, any>, Object.fromEntries(
      Object.entries(secrets).filter(([path]) => getPath(body as Record<string, any>, path) === undefined),
    ));
  }
  const parsed = crmConnectionConfig.safeParse(candidate);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => ({ path: `body.${issue.path.join('.')}`, message: issue.message }));
    throw badRequest('invalid_connection', `${details[0]!.path}: ${details[0]!.message}`, details);
  }
  const { visible, secrets } = splitSecrets(parsed.data);
  const sealed = box.seal(secrets);
  const row = await db
    .insertInto('connections')
    .values({ workspace_id: workspaceId, provider: parsed.data.provider, config: json(visible), secrets: sealed, tokens: null })
    .onConflict((oc) =>
      oc.column('workspace_id').doUpdateSet({
        provider: parsed.data.provider,
        config: json(visible),
        secrets: sealed,
        tokens: null,
        token_expires_at: null,
        updated_at: new Date(),
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return toView(parsed.data, row);
}

function isSameAuth(existing: CrmConnectionConfig, body: unknown): boolean {
  const b = body as Record<string, any> | null;
  return !!b && b.provider === existing.provider && b.auth?.type === existing.auth.type;
}

export interface StoredConnection {
  config: CrmConnectionConfig;
  view: ConnectionView;
}

export async function loadConnection(db: Database, box: SecretBox, workspaceId: string): Promise<StoredConnection | undefined> {
  const row = await db.selectFrom('connections').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
  if (!row) return undefined;
  const config = crmConnectionConfig.parse(joinSecrets(row.config, box.open<Secrets>(row.secrets)));
  return { config, view: toView(config, row) };
}

function toView(
  config: CrmConnectionConfig,
  row: { token_expires_at: Date | null; last_test: Record<string, unknown> | null; last_tested_at: Date | null; updated_at: Date },
): ConnectionView {
  return {
    provider: config.provider,
    config: redactConnectionConfig(config),
    tokenExpiresAt: row.token_expires_at?.toISOString() ?? null,
    lastTest: row.last_test,
    lastTestedAt: row.last_tested_at?.toISOString() ?? null,
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function recordConnectionTest(db: Database, workspaceId: string, result: Record<string, unknown>): Promise<void> {
  await db
    .updateTable('connections')
    .set({ last_test: json(result), last_tested_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .execute();
}

/**
 * OAuth tokens in Postgres, sealed. The refresh lock is a session advisory lock on its own
 * connection, so exactly one process refreshes while the others wait and then reuse its token.
 */
export class DatabaseTokenStore implements TokenStore {
  readonly #db: Database;
  readonly #box: SecretBox;
  readonly #workspaceId: string;

  constructor(db: Database, box: SecretBox, workspaceId: string) {
    this.#db = db;
    this.#box = box;
    this.#workspaceId = workspaceId;
  }

  async load(): Promise<StoredTokens | null> {
    const row = await this.#db.selectFrom('connections').select('tokens').where('workspace_id', '=', this.#workspaceId).executeTakeFirst();
    return row?.tokens ? this.#box.open<StoredTokens>(row.tokens) : null;
  }

  async save(tokens: StoredTokens): Promise<void> {
    await this.#db
      .updateTable('connections')
      .set({ tokens: this.#box.seal(tokens), token_expires_at: tokens.expiresAt === null ? null : new Date(tokens.expiresAt) })
      .where('workspace_id', '=', this.#workspaceId)
      .execute();
  }

  async withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.#db.connection().execute(async (connection) => {
      await sql`select pg_advisory_lock(hashtext(${`momentum:refresh:${this.#workspaceId}`}))`.execute(connection);
      try {
        return await fn();
      } finally {
        await sql`select pg_advisory_unlock(hashtext(${`momentum:refresh:${this.#workspaceId}`}))`.execute(connection);
      }
    });
  }
}
