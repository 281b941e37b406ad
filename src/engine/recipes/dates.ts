/**
 * Dates as CRMs store them in custom fields: `YYYY-MM-DD`, an ISO instant, or epoch milliseconds
 * (HubSpot date properties). Anything else is not a date, and a trigger reading it stays quiet.
 */
export function parseFieldDate(value: string | number | boolean | null | undefined): number | null {
  if (value === null || value === undefined || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return Date.parse(`${text}T00:00:00.000Z`);
  if (/^\d{10,}$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}
