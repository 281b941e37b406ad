import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import type { SourceCache } from '../ingest/source-cache.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import type { Workspace } from '../workspaces/workspaces-dal.ts';
import type { SafeHtml } from './html.ts';
import type { PageContext } from './layout.ts';
import type { DryRuns } from './dry-runs.ts';

export interface ConsoleDeps {
  config: Config;
  db: Database;
  secretBox: SecretBox;
  logger: Logger;
  sources: SourceCache;
  onSignalsStored: () => void;
  now: () => Date;
  dryRuns: DryRuns;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session's CSRF token; empty outside a session. */
    consoleCsrf: string;
  }
}

/** Fixed texts shown after a POST redirects back; the query names one, never carries the text. */
const notices: Record<string, string> = {
  created: 'Workspace created.',
  'mode-live': 'The workspace is live: decisions are written to the CRM.',
  'mode-shadow': 'The workspace is in shadow mode: nothing is written to the CRM.',
  'connection-saved': 'Connection saved. Credentials are stored encrypted and are never shown again.',
  'connection-tested': 'Connection tested; the result is below.',
  'source-saved': 'Source saved. Secrets are stored encrypted and are never shown again.',
  replayed: 'Delivery replayed; only events and signals that were missing were added.',
  published: 'Playbook published as a new version.',
  'published-unchecked': 'Playbook published as a new version, but the CRM did not answer, so its stage ids were not checked against the CRM.',
  approved: 'Approved: the proposed change is queued for the CRM (recorded only in shadow mode).',
  rejected: 'Rejected: nothing is written.',
  retried: 'The write is queued again.',
  acknowledged: 'Alert acknowledged: its escalation stops.',
};

export function noticeFor(request: FastifyRequest): string | undefined {
  const code = (request.query as Record<string, unknown> | undefined)?.notice;
  return typeof code === 'string' ? notices[code] : undefined;
}

export function pageContext(request: FastifyRequest, extra: Partial<PageContext> = {}): PageContext {
  return { principal: request.admin!, csrf: request.consoleCsrf, notice: noticeFor(request), ...extra };
}

/** The workspace named in the path, if this session's token may see it; otherwise a 404. */
export async function consoleWorkspace(deps: ConsoleDeps, request: FastifyRequest): Promise<Workspace> {
  const ws = (request.params as { workspaceId: string }).workspaceId;
  return requireWorkspace(deps.db, request, ws);
}

export function sendHtml(reply: FastifyReply, body: SafeHtml, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body.value);
}

/** POST → redirect → GET, so reloading a page never repeats an action. */
export function redirectWithNotice(reply: FastifyReply, path: string, notice: keyof typeof notices | string): FastifyReply {
  const separator = path.includes('?') ? '&' : '?';
  return reply.redirect(`${path}${separator}notice=${encodeURIComponent(notice)}`, 303);
}
