import type { z } from 'zod';
import { WebhookBodyError } from '../webhook-source.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes the body as strict UTF-8; invalid bytes make it malformed rather than silently replaced. */
export function decodeUtf8Body(rawBody: Buffer): string {
  try {
    return utf8.decode(rawBody);
  } catch {
    throw new WebhookBodyError('malformed', 'body is not valid UTF-8');
  }
}

export function parseJsonBody(rawBody: Buffer): unknown {
  const text = decodeUtf8Body(rawBody);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message}` : '';
    throw new WebhookBodyError('malformed', `body is not valid JSON${detail}`);
  }
}

/** `[0].propertyName`, `callData.metaData.id`: readable in a 400 answer and in logs. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let formatted = '';
  for (const segment of path) {
    if (typeof segment === 'number') formatted += `[${segment}]`;
    else formatted += formatted === '' ? String(segment) : `.${String(segment)}`;
  }
  return formatted === '' ? '(root)' : formatted;
}

/** Validates against the vendor's documented shape; the error names the first bad field. */
export function validateBody<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const path = first ? formatIssuePath(first.path) : '(root)';
  throw new WebhookBodyError('schema', `${what} does not match the documented payload: ${first?.message ?? 'invalid'}`, path);
}

/** The media type of a request without parameters, lower-cased: `text/xml; charset=utf-8` → `text/xml`. */
export function mediaTypeOf(headers: Record<string, string | undefined>): string {
  return (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}
