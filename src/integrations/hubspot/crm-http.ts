import type { ManagedAccessToken } from '../../crm/access-token.ts';
import { CrmError } from '../../crm/errors.ts';
import { fetchWithTimeout, type TimedResponse } from '../../crm/fetch-with-timeout.ts';
import type { RateLimitSnapshot } from '../../crm/types.ts';
import { joinUrl } from './crm-auth.ts';
import { classifyHubspotResponse } from './crm-errors.ts';
import { readHubspotRateLimit } from './crm-rate-limit.ts';

export interface HubspotRequest {
  method: 'GET' | 'POST' | 'PATCH';
  /** Path with its query string, e.g. `/crm/v3/objects/deals/batch/update`. */
  path: string;
  body?: unknown;
  /** Whether a lost answer may hide an applied change. */
  write: boolean;
  /** Statuses that are answers rather than errors for this call (e.g. 404 on a read). */
  acceptStatuses?: number[];
}

export interface HubspotResponse {
  status: number;
  body: unknown;
  rateLimit: RateLimitSnapshot | undefined;
}

/**
 * HubSpot's REST API over fetch. One request, bounded by the timeout; on 401 exactly one token
 * renewal and one replay (a 401 means nothing was applied, so replaying a write is safe); no
 * other retries, because the outbox worker owns backoff and the shared rate limiter.
 */
export class HubspotHttp {
  private readonly baseUrl: string;
  private readonly token: ManagedAccessToken;
  private readonly timeoutMs: number;

  constructor(options: { baseUrl: string; token: ManagedAccessToken; timeoutMs: number }) {
    this.baseUrl = options.baseUrl;
    this.token = options.token;
    this.timeoutMs = options.timeoutMs;
  }

  async send(request: HubspotRequest): Promise<HubspotResponse> {
    const first = await this.token.get();
    let usedToken = first.accessToken;
    let response = await this.attempt(request, usedToken);
    if (response.status === 401 && this.token.canRenew) {
      const renewed = await this.token.renew(usedToken);
      usedToken = renewed.accessToken;
      response = await this.attempt(request, usedToken);
      if (response.status === 401) this.token.rejectedAfterRenewal(usedToken);
    }
    const rateLimit = readHubspotRateLimit(response.headers);
    const accepted = (response.status >= 200 && response.status < 300) || request.acceptStatuses?.includes(response.status);
    if (!accepted) {
      throw classifyHubspotResponse(response.status, response.body, response.headers, { write: request.write, rateLimit });
    }
    this.token.accepted(usedToken);
    return { status: response.status, body: response.body, rateLimit };
  }

  private attempt(request: HubspotRequest, accessToken: string): Promise<TimedResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${accessToken}`, accept: 'application/json' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    return fetchWithTimeout({
      provider: 'hubspot',
      url: joinUrl(this.baseUrl, request.path),
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      write: request.write,
      timeoutMs: this.timeoutMs,
    });
  }
}

/**
 * Narrows a 2xx JSON body to an object. An unreadable answer to a write still means the write was
 * accepted in some form, so it is uncertain rather than transient.
 */
export function expectObject(body: unknown, what: string, write: boolean): Record<string, unknown> {
  if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  throw new CrmError({ provider: 'hubspot', kind: write ? 'uncertain' : 'transient', message: `Unexpected HubSpot response to ${what}` });
}

export function arrayField(object: Record<string, unknown>, field: string): unknown[] {
  const value = object[field];
  return Array.isArray(value) ? value : [];
}
