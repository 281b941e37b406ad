import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import { badRequest } from '../platform/errors.ts';
import { compilePlaybook, type CompiledPlaybook } from '../engine/playbook/compile.ts';
import type { Playbook } from '../engine/playbook/schema.ts';
import { parsePlaybook } from '../engine/playbook/parse.ts';
import { defaultPlaybookText } from '../engine/playbook/default-playbook.ts';

export interface StoredPlaybook {
  version: number;
  playbook: Playbook;
  compiled: CompiledPlaybook;
  sourceText: string;
  format: 'yaml' | 'json';
  createdAt: Date;
  createdBy: string | null;
}

// Compiling a playbook builds indexes the engine reuses; versions never change once stored, so
// stored versions are kept compiled per process (bounded, oldest dropped first).
const storedCache = new Map<string, StoredPlaybook>();
const CACHE_LIMIT = 500;

export function formatOf(text: string): 'yaml' | 'json' {
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

/** Validates a playbook document; every problem is reported with its path. */
export function validatePlaybookText(text: string): Playbook {
  const parsed = parsePlaybook(text);
  if (!parsed.ok) {
    const details = parsed.problems.map((p) => ({ path: p.path, message: p.message, ...(p.line === undefined ? {} : { line: p.line }) }));
    throw badRequest('invalid_playbook', `The playbook has ${details.length} problem(s); first: ${details[0]!.path}: ${details[0]!.message}`, details);
  }
  return parsed.playbook;
}

type Row = { version: number; document: Record<string, unknown>; source_text: string; format: 'yaml' | 'json'; created_at: Date; created_by: string | null };

function toStored(workspaceId: string, row: Row): StoredPlaybook {
  const key = `${workspaceId}:${row.version}`;
  const cached = storedCache.get(key);
  if (cached) return cached;
  const playbook = row.document as unknown as Playbook;
  const stored: StoredPlaybook = {
    version: row.version,
    playbook,
    compiled: compilePlaybook(playbook),
    sourceText: row.source_text,
    format: row.format,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
  if (storedCache.size >= CACHE_LIMIT) storedCache.delete(storedCache.keys().next().value!);
  storedCache.set(key, stored);
  return stored;
}

/** Stores a new version (numbered after the latest) and returns it. */
export async function publishPlaybook(db: Database | Tx, workspaceId: string, text: string, createdBy: string | null): Promise<StoredPlaybook> {
  const playbook = validatePlaybookText(text);
  // Two publishers at once: the primary key makes one of them fail instead of both claiming a number.
  const row = await sql<Row>`
    insert into playbooks (workspace_id, version, document, source_text, format, created_by)
    select ${workspaceId}, coalesce(max(version), 0) + 1, ${json(playbook)}::jsonb, ${text}, ${formatOf(text)}, ${createdBy}
    from playbooks where workspace_id = ${workspaceId}
    returning version, document, source_text, format, created_at, created_by
  `.execute(db);
  return toStored(workspaceId, row.rows[0]!);
}

/** The workspace's current playbook; a workspace that has none starts on the default one (v1). */
export async function currentPlaybook(db: Database | Tx, workspaceId: string): Promise<StoredPlaybook> {
  const row = await db
    .selectFrom('playbooks')
    .select(['version', 'document', 'source_text', 'format', 'created_at', 'created_by'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (row) return toStored(workspaceId, row);
  const text = defaultPlaybookText();
  const playbook = validatePlaybookText(text);
  await db
    .insertInto('playbooks')
    .values({ workspace_id: workspaceId, version: 1, document: json(playbook), source_text: text, format: 'yaml', created_by: 'momentum default' })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return currentPlaybook(db, workspaceId);
}

export async function playbookVersion(db: Database, workspaceId: string, version: number): Promise<StoredPlaybook | undefined> {
  const row = await db
    .selectFrom('playbooks')
    .select(['version', 'document', 'source_text', 'format', 'created_at', 'created_by'])
    .where('workspace_id', '=', workspaceId)
    .where('version', '=', version)
    .executeTakeFirst();
  return row ? toStored(workspaceId, row) : undefined;
}

/**
 * A stored version, compiled. Versions never change once published, so after the first read the
 * database is not asked again in this process.
 */
export async function cachedPlaybookVersion(db: Database | Tx, workspaceId: string, version: number): Promise<StoredPlaybook | undefined> {
  const cached = storedCache.get(`${workspaceId}:${version}`);
  if (cached) return cached;
  const row = await db
    .selectFrom('playbooks')
    .select(['version', 'document', 'source_text', 'format', 'created_at', 'created_by'])
    .where('workspace_id', '=', workspaceId)
    .where('version', '=', version)
    .executeTakeFirst();
  return row ? toStored(workspaceId, row) : undefined;
}

export async function listPlaybookVersions(db: Database, workspaceId: string) {
  return db
    .selectFrom('playbooks')
    .select(['version', 'format', 'created_at', 'created_by'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('version', 'desc')
    .execute();
}
