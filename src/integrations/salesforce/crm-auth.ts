import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { ManagedAccessToken } from '../../crm/access-token.ts';
import { defaultSalesforceLoginUrl, type SalesforceConnectionConfig } from '../../crm/connection-config.ts';
import { CrmError } from '../../crm/errors.ts';
import { fetchWithTimeout, stringField } from '../../crm/fetch-with-timeout.ts';
import type { StoredTokens, TokenStore } from '../../crm/token-store.ts';
import type { CrmLogger } from '../../crm/types.ts';
import { classifySalesforceFailure } from './crm-errors.ts';

export interface SalesforceAuthDeps {
  tokenStore: TokenStore;
  fetchTimeoutMs: number;
  logger?: CrmLogger;
  now?: () => number;
}

/**
 * The access token for a Salesforce connection. Refresh-token connections use the OAuth
 * refresh grant; JWT-bearer connections have no refresh token and mint a new signed assertion
 * each time. Salesforce does not announce a lifetime (session timeout is an org setting), so a
 * token is used until it is rejected.
 */
export function createSalesforceAccessToken(config: SalesforceConnectionConfig, deps: SalesforceAuthDeps): ManagedAccessToken {
  const auth = config.auth;
  const loginUrl = trimSlash(auth.loginUrl ?? defaultSalesforceLoginUrl);
  const timeoutMs = deps.fetchTimeoutMs;
  const obtain =
    auth.type === 'refresh_token'
      ? (current: StoredTokens | null) =>
          requestSalesforceToken({
            loginUrl,
            timeoutMs,
            form: {
              grant_type: 'refresh_token',
              client_id: auth.clientId,
              client_secret: auth.clientSecret,
              refresh_token: current?.refreshToken ?? auth.refreshToken,
            },
            // Keep the instance we know when the answer does not name one.
            fallbackInstanceUrl: current?.instanceUrl ?? auth.instanceUrl,
            refreshToken: current?.refreshToken ?? auth.refreshToken,
          })
      : async (current: StoredTokens | null) =>
          requestSalesforceToken({
            loginUrl,
            timeoutMs,
            form: {
              grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
              assertion: await signJwtBearerAssertion({
                consumerKey: auth.consumerKey,
                username: auth.username,
                privateKeyPem: auth.privateKey,
                audience: loginUrl,
                now: deps.now ?? Date.now,
              }),
            },
            fallbackInstanceUrl: current?.instanceUrl ?? auth.instanceUrl,
            refreshToken: null,
          });
  return new ManagedAccessToken({
    provider: 'salesforce',
    store: deps.tokenStore,
    obtain,
    ...(deps.logger === undefined ? {} : { logger: deps.logger }),
    ...(deps.now === undefined ? {} : { now: deps.now }),
  });
}

export interface JwtBearerClaims {
  consumerKey: string;
  username: string;
  privateKeyPem: string;
  /** The login URL itself: https://login.salesforce.com or https://test.salesforce.com. */
  audience: string;
  now: () => number;
}

/** RS256 assertion for the JWT-bearer flow: iss = consumer key, sub = username, short exp. */
export async function signJwtBearerAssertion(claims: JwtBearerClaims): Promise<string> {
  // createPrivateKey reads both PKCS#8 and PKCS#1 ("BEGIN RSA PRIVATE KEY") PEMs.
  const key = createPrivateKey(claims.privateKeyPem);
  const issuedAt = Math.floor(claims.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(claims.consumerKey)
    .setSubject(claims.username)
    .setAudience(claims.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + 180)
    .sign(key);
}

interface TokenRequest {
  loginUrl: string;
  timeoutMs: number;
  form: Record<string, string>;
  fallbackInstanceUrl: string | undefined;
  refreshToken: string | null;
}

async function requestSalesforceToken(request: TokenRequest): Promise<StoredTokens> {
  const response = await fetchWithTimeout({
    provider: 'salesforce',
    url: `${request.loginUrl}/services/oauth2/token`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(request.form).toString(),
    write: false,
    timeoutMs: request.timeoutMs,
  });
  if (response.status !== 200) {
    const code = stringField(response.body, 'error');
    const description = stringField(response.body, 'error_description') ?? `HTTP ${response.status}`;
    if (response.status >= 400 && response.status < 500) {
      // invalid_grant, invalid_client, user not pre-authorized: a person has to fix the connection.
      throw new CrmError({
        provider: 'salesforce',
        kind: 'auth',
        status: response.status,
        message: `Salesforce refused to issue an access token: ${description}`,
        ...(code === undefined ? {} : { code }),
      });
    }
    throw classifySalesforceFailure({ status: response.status, errorCode: code, message: description, write: false, rateLimit: undefined });
  }
  const accessToken = stringField(response.body, 'access_token');
  const instanceUrl = stringField(response.body, 'instance_url') ?? request.fallbackInstanceUrl;
  if (!accessToken || !instanceUrl) {
    throw new CrmError({ provider: 'salesforce', kind: 'transient', status: 200, message: 'Salesforce token response lacked access_token or instance_url' });
  }
  return {
    accessToken,
    expiresAt: null,
    // Present only when the connected app rotates refresh tokens.
    refreshToken: stringField(response.body, 'refresh_token') ?? request.refreshToken,
    instanceUrl: trimSlash(instanceUrl),
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
