import { z } from 'zod';
import { badRequest } from '../platform/errors.ts';

/** Query parameters every list route accepts. The cursor is opaque to clients. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
});

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw badRequest('invalid_cursor', 'cursor: not a cursor this API returned');
  }
}

/** Given limit+1 rows, returns the page and the cursor of the next one (if any). */
export function paginate<T>(rows: T[], limit: number, cursorOf: (row: T) => unknown): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}
