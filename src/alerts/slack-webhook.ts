/**
 * Posting to a Slack incoming webhook and reading its answer. Slack answers 200 with the body
 * "ok"; a refusal is a 4xx with a short code as the body (400 invalid_payload, 403
 * action_prohibited, 404 channel_not_found or no_service, 410 channel_is_archived) and will not
 * change on retry; 429 carries Retry-After (seconds); 5xx and network failures are worth a retry.
 */

export type SlackOutcome =
  | { kind: 'sent' }
  | { kind: 'retry'; afterMs: number | null; error: SlackError }
  | { kind: 'rejected'; error: SlackError };

/** What is kept of a failure: never the URL (it is the credential). */
export interface SlackError {
  status: number | null;
  code: string;
  message: string;
}

export interface SlackPostOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
}

const MAX_BODY = 200;

export async function postSlackWebhook(url: string, payload: unknown, options: SlackPostOptions = {}): Promise<SlackOutcome> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    const timeout = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { kind: 'retry', afterMs: null, error: { status: null, code: timeout ? 'timeout' : 'network_error', message: timeout ? 'Slack did not answer in time' : 'Slack could not be reached' } };
  }
  const body = (await response.text().catch(() => '')).trim().slice(0, MAX_BODY);
  if (response.ok) return { kind: 'sent' };
  const error = { status: response.status, code: slackCode(body, response.status), message: `Slack answered ${response.status}${body ? ` ${body}` : ''}` };
  if (response.status === 429) return { kind: 'retry', afterMs: retryAfterMs(response.headers.get('retry-after')), error };
  if (response.status >= 500) return { kind: 'retry', afterMs: null, error };
  return { kind: 'rejected', error };
}

function slackCode(body: string, status: number): string {
  return /^[a-z_]{1,60}$/.test(body) ? body : status === 429 ? 'rate_limited' : `http_${status}`;
}

/** Retry-After is seconds or an HTTP date; anything else falls back to the caller's backoff. */
export function retryAfterMs(header: string | null, nowMs = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}
