/**
 * Salesforce ids come as 15 characters (case-sensitive) or 18 (the same plus a 3-character
 * case-insensitive checksum). The same record can appear in both forms, so compare on the first 15.
 */
const idPattern = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;

export function isSalesforceId(value: string): boolean {
  return idPattern.test(value);
}

/** Throws for anything that is not an id; also what keeps ids safe inside SOQL literals. */
export function assertSalesforceId(value: string): string {
  if (!isSalesforceId(value)) throw new TypeError(`${JSON.stringify(value)} is not a Salesforce id`);
  return value;
}

export function salesforceId15(id: string): string {
  return id.slice(0, 15);
}

export function sameSalesforceId(a: string | null | undefined, b: string | null | undefined): boolean {
  return typeof a === 'string' && typeof b === 'string' && salesforceId15(a) === salesforceId15(b);
}
