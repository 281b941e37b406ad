import type { Database } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import { badRequest } from '../platform/errors.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import type { AnyWebhookSourceAdapter, WebhookSourceName } from '../integrations/webhook-source.ts';

export interface StoredSource {
  workspaceId: string;
  source: WebhookSourceName;
  /** The full, validated config with secrets opened; never leaves the process. */
  config: unknown;
  lastVerifiedAt: Date | null;
  updatedAt: Date;
}

/** What an admin may see: public fields as set, secrets only as "set, how many". */
export interface SourceView {
  source: WebhookSourceName;
  config: Record<string, unknown>;
  secrets: Record<string, { set: boolean; count?: number }>;
  lastVerifiedAt: string | null;
  updatedAt: string;
}

function splitSecrets(adapter: AnyWebhookSourceAdapter, config: Record<string, unknown>) {
  const secrets: Record<string, unknown> = {};
  const visible: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (adapter.secretFields.includes(key)) secrets[key] = value;
    else visible[key] = value;
  }
  return { secrets, visible };
}

/** The workspace a HubSpot portal belongs to is found by this key (see the sources_routing_key index). */
function routingKeyOf(source: WebhookSourceName, config: Record<string, unknown>): string | null {
  return source === 'hubspot' && config.portalId !== undefined ? String(config.portalId) : null;
}

/**
 * Creates or replaces a source's configuration. Secret fields left out of the body keep their
 * stored value, so an admin can change a setting without re-entering every secret.
 */
export async function putSourceConfig(
  db: Database,
  box: SecretBox,
  adapter: AnyWebhookSourceAdapter,
  workspaceId: string,
  body: Record<string, unknown>,
): Promise<SourceView> {
  const existing = await loadSourceConfig(db, box, adapter, workspaceId);
  const previousSecrets = existing ? splitSecrets(adapter, existing.config as Record<string, unknown>).secrets : {};
  const parsed = adapter.configSchema.safeParse({ ...previousSecrets, ...body });
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => ({ path: `body.${issue.path.join('.')}`, message: issue.message }));
    throw badRequest('invalid_source_config', `${details[0]!.path}: ${details[0]!.message}`, details);
  }
  const config = parsed.data as Record<string, unknown>;
  const { secrets, visible } = splitSecrets(adapter, config);
  const routingKey = routingKeyOf(adapter.source, config);
  if (routingKey) {
    const owner = await db
      .selectFrom('sources')
      .select('workspace_id')
      .where('source', '=', adapter.source)
      .where('routing_key', '=', routingKey)
      .where('workspace_id', '!=', workspaceId)
      .executeTakeFirst();
    if (owner) throw badRequest('portal_taken', `body.portalId: portal ${routingKey} is already connected to another workspace`);
  }
  const row = await db
    .insertInto('sources')
    .values({
      workspace_id: workspaceId,
      source: adapter.source,
      config: json(visible),
      secrets: box.seal(secrets),
      routing_key: routingKey,
    })
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'source']).doUpdateSet({
        config: json(visible),
        secrets: box.seal(secrets),
        routing_key: routingKey,
        updated_at: new Date(),
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return toView(adapter, config, row.last_verified_at, row.updated_at);
}

export async function loadSourceConfig(
  db: Database,
  box: SecretBox,
  adapter: AnyWebhookSourceAdapter,
  workspaceId: string,
): Promise<StoredSource | undefined> {
  const row = await db
    .selectFrom('sources')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('source', '=', adapter.source)
    .executeTakeFirst();
  if (!row) return undefined;
  const secrets = row.secrets ? box.open<Record<string, unknown>>(row.secrets) : {};
  return {
    workspaceId,
    source: adapter.source,
    config: { ...row.config, ...secrets },
    lastVerifiedAt: row.last_verified_at,
    updatedAt: row.updated_at,
  };
}

export async function findWorkspaceByRoutingKey(db: Database, source: WebhookSourceName, routingKey: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('sources')
    .select('workspace_id')
    .where('source', '=', source)
    .where('routing_key', '=', routingKey)
    .executeTakeFirst();
  return row?.workspace_id;
}

/** Records that a delivery verified; written at most once a minute per source to keep the hot path light. */
export async function markSourceVerified(db: Database, workspaceId: string, source: WebhookSourceName, at: Date): Promise<void> {
  await db
    .updateTable('sources')
    .set({ last_verified_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('source', '=', source)
    .where((eb) => eb.or([eb('last_verified_at', 'is', null), eb('last_verified_at', '<', new Date(at.getTime() - 60_000))]))
    .execute();
}

export function toView(adapter: AnyWebhookSourceAdapter, config: Record<string, unknown>, lastVerifiedAt: Date | null, updatedAt: Date): SourceView {
  const { secrets, visible } = splitSecrets(adapter, config);
  return {
    source: adapter.source,
    config: visible,
    secrets: Object.fromEntries(
      adapter.secretFields.map((field) => {
        const value = secrets[field];
        const set = value !== undefined && value !== null && value !== '';
        return [field, Array.isArray(value) ? { set: value.length > 0, count: value.length } : { set }];
      }),
    ),
    lastVerifiedAt: lastVerifiedAt?.toISOString() ?? null,
    updatedAt: updatedAt.toISOString(),
  };
}
