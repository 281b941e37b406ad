import type { Database } from '../platform/db.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import type { AnyWebhookSourceAdapter, WebhookSourceName } from '../integrations/webhook-source.ts';
import { findWorkspaceByRoutingKey, loadSourceConfig, markSourceVerified, type StoredSource } from './source-config-store.ts';

/** How long another process's change to a source may take to reach this one. */
const TTL_MS = 5_000;
/** The "last verified" time shown to admins is written at most this often per source. */
const VERIFIED_WRITE_EVERY_MS = 60_000;

/**
 * Keeps the webhook path to one database statement: source settings (opened secrets included)
 * and portal routing are read once per few seconds per process, not per delivery. A change made
 * through this process's API takes effect at once; one made elsewhere within TTL_MS. Misses are
 * not cached, so a newly configured source works immediately.
 */
export class SourceCache {
  readonly #db: Database;
  readonly #box: SecretBox;
  readonly #now: () => number;
  readonly #sources = new Map<string, { value: StoredSource; at: number }>();
  readonly #routes = new Map<string, { workspaceId: string; at: number }>();
  readonly #verifiedAt = new Map<string, number>();

  constructor(db: Database, box: SecretBox, now: () => number = Date.now) {
    this.#db = db;
    this.#box = box;
    this.#now = now;
  }

  async source(adapter: AnyWebhookSourceAdapter, workspaceId: string): Promise<StoredSource | undefined> {
    const key = `${workspaceId}\u0000${adapter.source}`;
    const cached = this.#sources.get(key);
    if (cached && this.#now() - cached.at < TTL_MS) return cached.value;
    const value = await loadSourceConfig(this.#db, this.#box, adapter, workspaceId);
    if (value) this.#sources.set(key, { value, at: this.#now() });
    else this.#sources.delete(key);
    return value;
  }

  async workspaceFor(source: WebhookSourceName, routingKey: string): Promise<string | undefined> {
    const key = `${source}\u0000${routingKey}`;
    const cached = this.#routes.get(key);
    if (cached && this.#now() - cached.at < TTL_MS) return cached.workspaceId;
    const workspaceId = await findWorkspaceByRoutingKey(this.#db, source, routingKey);
    if (workspaceId) this.#routes.set(key, { workspaceId, at: this.#now() });
    else this.#routes.delete(key);
    return workspaceId;
  }

  /** Forgets a source after this process changed it. */
  invalidate(workspaceId: string, source: WebhookSourceName): void {
    this.#sources.delete(`${workspaceId}\u0000${source}`);
    for (const [key, route] of this.#routes) if (route.workspaceId === workspaceId && key.startsWith(`${source}\u0000`)) this.#routes.delete(key);
  }

  /** Records a verified delivery, without a write on every request. */
  async noteVerified(workspaceId: string, source: WebhookSourceName, at: Date): Promise<void> {
    const key = `${workspaceId}\u0000${source}`;
    const last = this.#verifiedAt.get(key);
    if (last !== undefined && at.getTime() - last < VERIFIED_WRITE_EVERY_MS) return;
    this.#verifiedAt.set(key, at.getTime());
    await markSourceVerified(this.#db, workspaceId, source, at);
  }
}
