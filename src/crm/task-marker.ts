/**
 * Every task and note Momentum creates carries `[momentum:<key>]` at the end of its body. It lets
 * people see where a task came from and lets the clients find a task whose create had an uncertain
 * outcome. Keys are restricted to characters that survive CRM text indexing and need no escaping
 * in search filters or SOQL string literals.
 */
const keyPattern = /^[A-Za-z0-9_.:-]{1,100}$/;

export function assertValidKey(key: string): void {
  if (!keyPattern.test(key)) {
    throw new TypeError(`Idempotency key ${JSON.stringify(key)} must be 1-100 characters of A-Z a-z 0-9 _ . : -`);
  }
}

export function taskMarker(key: string): string {
  return `[momentum:${key}]`;
}

export function withTaskMarker(body: string, key: string): string {
  const marker = taskMarker(key);
  return body.length === 0 ? marker : `${body}\n\n${marker}`;
}

/** Keys of all markers found in a text (CRMs may wrap the body in HTML, so search anywhere). */
export function markerKeysIn(text: string | null | undefined): string[] {
  if (!text) return [];
  const keys: string[] = [];
  for (const match of text.matchAll(/\[momentum:([A-Za-z0-9_.:-]{1,100})\]/g)) {
    if (match[1]) keys.push(match[1]);
  }
  return keys;
}
