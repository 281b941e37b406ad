import { ManagedAccessToken } from '../../crm/access-token.ts';
import { defaultHubspotApiBaseUrl, type HubspotConnectionConfig } from '../../crm/connection-config.ts';
import { CrmError } from '../../crm/errors.ts';
import { fetchWithTimeout, stringField } from '../../crm/fetch-with-timeout.ts';
import type { StoredTokens, TokenStore } from '../../crm/token-store.ts';
import type { CrmLogger } from '../../crm/types.ts';
import { classifyHubspotResponse } from './crm-errors.ts';

export interface HubspotAuthDeps {
  tokenStore: TokenStore;
  fetchTimeoutMs: number;
  logger?: CrmLogger;
  now?: () => number;
}

/**
 * The access token for a HubSpot connection. A private-app token is static and never expires; an
 * OAuth connection refreshes through POST /oauth/v1/token and follows `expires_in` (30 minutes
 * today). HubSpot may hand out a new refresh token, so the stored one wins over the configured one.
 */
export function createHubspotAccessToken(config: HubspotConnectionConfig, deps: HubspotAuthDeps): ManagedAccessToken {
  const common = {
    provider: 'hubspot' as const,
    store: deps.tokenStore,
    ...(deps.logger === undefined ? {} : { logger: deps.logger }),
    ...(deps.now === undefined ? {} : { now: deps.now }),
  };
  const auth = config.auth;
  if (auth.type === 'private_app') {
    return new ManagedAccessToken({ ...common, staticToken: auth.accessToken });
  }
  const baseUrl = config.apiBaseUrl ?? defaultHubspotApiBaseUrl;
  const now = deps.now ?? Date.now;
  return new ManagedAccessToken({
    ...common,
    obtain: (current) =>
      refreshHubspotToken({
        baseUrl,
        clientId: auth.clientId,
        clientSecret: auth.clientSecret,
        refreshToken: current?.refreshToken ?? auth.refreshToken,
        timeoutMs: deps.fetchTimeoutMs,
        now,
      }),
  });
}

interface RefreshRequest {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  timeoutMs: number;
  now: () => number;
}

/** The refresh-token grant: form-encoded, no Authorization header. */
export async function refreshHubspotToken(request: RefreshRequest): Promise<StoredTokens> {
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: request.clientId,
    client_secret: request.clientSecret,
    refresh_token: request.refreshToken,
  });
  const response = await fetchWithTimeout({
    provider: 'hubspot',
    url: joinUrl(request.baseUrl, '/oauth/v1/token'),
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form.toString(),
    // Refreshing changes nothing a retry could duplicate.
    write: false,
    timeoutMs: request.timeoutMs,
  });
  if (response.status !== 200) {
    if (response.status >= 400 && response.status < 500 && response.status !== 429) {
      // BAD_REFRESH_TOKEN, revoked app, wrong client: only a person reconnecting can fix it.
      const code = stringField(response.body, 'status');
      throw new CrmError({
        provider: 'hubspot',
        kind: 'auth',
        status: response.status,
        message: `HubSpot refused to refresh the access token: ${stringField(response.body, 'message') ?? `HTTP ${response.status}`}`,
        ...(code === undefined ? {} : { code }),
      });
    }
    throw classifyHubspotResponse(response.status, response.body, response.headers, { write: false, rateLimit: undefined });
  }
  const accessToken = stringField(response.body, 'access_token');
  const expiresIn = (response.body as { expires_in?: unknown } | null)?.expires_in;
  if (!accessToken) {
    throw new CrmError({ provider: 'hubspot', kind: 'transient', status: 200, message: 'HubSpot token response had no access_token' });
  }
  return {
    accessToken,
    expiresAt: typeof expiresIn === 'number' ? request.now() + expiresIn * 1000 : null,
    refreshToken: stringField(response.body, 'refresh_token') ?? request.refreshToken,
  };
}

/** Joins without doubling slashes: a trailing slash on the base would otherwise yield `//crm/...`. */
export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}
