import { Connection, type HttpRequest, type HttpResponse } from 'jsforce';
import type { ManagedAccessToken } from '../../crm/access-token.ts';
import { CrmError, networkFailure } from '../../crm/errors.ts';
import type { StoredTokens } from '../../crm/token-store.ts';
import type { RateLimitSnapshot } from '../../crm/types.ts';
import { classifySalesforceFailure } from './crm-errors.ts';
import { parseSforceLimitInfo } from './crm-limit-info.ts';

export interface SalesforceRequest {
  method: 'GET' | 'POST' | 'PATCH';
  /** Path below /services/data/vXX.X, e.g. `/composite/sobjects`, or a `/services/...` path as given. */
  path: string;
  body?: unknown;
  /** Whether a lost answer may hide an applied change. */
  write: boolean;
  /** Statuses that are answers rather than errors for this call. */
  acceptStatuses?: number[];
}

export interface SalesforceResponse {
  status: number;
  body: unknown;
  rateLimit: RateLimitSnapshot | undefined;
}

interface Attempt {
  response: HttpResponse | undefined;
  body?: unknown;
  error?: unknown;
}

export interface SalesforceApiOptions {
  token: ManagedAccessToken;
  apiVersion: string;
  /** Where to send calls until a token names its own instance. */
  instanceUrl: string | undefined;
  timeoutMs: number;
}

/**
 * Salesforce REST through a jsforce Connection, with three things jsforce does not do for us:
 * - refresh is ours: the Connection gets no refresh token, OAuth client or refreshFn, so jsforce
 *   cannot loop refresh-and-replay (it has no bound); we renew once per call and replay once;
 * - every call has a deadline and jsforce's own GET retries are off (the outbox owns retries);
 * - the HTTP status and Sforce-Limit-Info of every answer are observed through a wrapping
 *   transport, because jsforce's errors do not carry the status.
 * Calls are made with `Sforce-Call-Options: client=momentum` so change events name us.
 */
export class SalesforceApi {
  private readonly options: SalesforceApiOptions;
  private readonly connection: Connection;
  private lastRateLimit: RateLimitSnapshot | undefined;

  constructor(options: SalesforceApiOptions) {
    this.options = options;
    this.connection = new Connection({
      version: options.apiVersion,
      callOptions: { client: 'momentum' },
      ...(options.instanceUrl === undefined ? {} : { instanceUrl: options.instanceUrl }),
    });
  }

  get rateLimit(): RateLimitSnapshot | undefined {
    return this.lastRateLimit;
  }

  async send(request: SalesforceRequest): Promise<SalesforceResponse> {
    let tokens = await this.options.token.get();
    let attempt = await this.attempt(request, tokens);
    if (attempt.response?.statusCode === 401 && this.options.token.canRenew) {
      tokens = await this.options.token.renew(tokens.accessToken);
      attempt = await this.attempt(request, tokens);
      if (attempt.response?.statusCode === 401) this.options.token.rejectedAfterRenewal(tokens.accessToken);
    }
    const rateLimit = parseSforceLimitInfo(attempt.response?.headers['sforce-limit-info']);
    if (rateLimit) this.lastRateLimit = rateLimit;
    const status = attempt.response?.statusCode;
    if (status === undefined) throw this.noAnswer(attempt.error, request.write);
    if (attempt.error !== undefined && !request.acceptStatuses?.includes(status)) {
      const { errorCode, message } = describeJsforceError(attempt.error, status);
      throw classifySalesforceFailure({ status, errorCode, message, write: request.write, rateLimit });
    }
    this.options.token.accepted(tokens.accessToken);
    return { status, body: attempt.body, rateLimit };
  }

  private async attempt(request: SalesforceRequest, tokens: StoredTokens): Promise<Attempt> {
    const instanceUrl = tokens.instanceUrl ?? this.options.instanceUrl;
    if (!instanceUrl) {
      throw new CrmError({ provider: 'salesforce', kind: 'auth', message: 'No Salesforce instance URL is known for this connection' });
    }
    this.connection.instanceUrl = instanceUrl;
    this.connection.accessToken = tokens.accessToken;

    let response: HttpResponse | undefined;
    const base = this.connection._transport;
    // Sees every raw answer (including the 401 before a refresh) without changing it.
    const observingTransport = {
      httpRequest(httpRequest: HttpRequest, options?: object) {
        const pending = base.httpRequest(httpRequest, options);
        pending.then(
          (answer) => {
            response = answer;
          },
          () => undefined,
        );
        return pending;
      },
    };
    const httpRequest: HttpRequest = {
      method: request.method,
      // Query pagination hands back absolute paths (nextRecordsUrl); everything else is version-relative.
      url: request.path.startsWith('/services/') ? request.path : `/services/data/v${this.options.apiVersion}${request.path}`,
      headers: { 'content-type': 'application/json' },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    };
    try {
      const body = await this.connection.request(httpRequest, {
        timeout: this.options.timeoutMs,
        retry: { maxRetries: 0 },
        transport: observingTransport,
      });
      return { response, body };
    } catch (error) {
      return { response, error };
    }
  }

  private noAnswer(error: unknown, write: boolean): CrmError {
    if (error instanceof CrmError) return error;
    const name = (error as { name?: unknown } | undefined)?.name;
    const message = error instanceof Error ? error.message : '';
    const timedOut = name === 'AbortError' || name === 'TimeoutError' || /Request Timeout|aborted due to timeout/i.test(message);
    return networkFailure('salesforce', error, { write, timedOut, timeoutMs: this.options.timeoutMs });
  }
}

/** jsforce throws HttpApiError with `errorCode` and Salesforce's message; keep only those. */
function describeJsforceError(error: unknown, status: number): { errorCode: string | undefined; message: string } {
  const candidate = error as { errorCode?: unknown; message?: unknown; data?: unknown };
  let errorCode = typeof candidate.errorCode === 'string' ? candidate.errorCode : undefined;
  let message = typeof candidate.message === 'string' ? candidate.message : `HTTP ${status}`;
  // Several errors at once arrive as MULTIPLE_API_ERRORS with the list in `data`.
  if (errorCode === 'MULTIPLE_API_ERRORS' && Array.isArray(candidate.data)) {
    const list = candidate.data as Array<{ errorCode?: unknown; message?: unknown }>;
    errorCode = typeof list[0]?.errorCode === 'string' ? list[0].errorCode : errorCode;
    message = list.map((entry) => String(entry.message ?? '')).join('; ');
  }
  if (errorCode?.startsWith('ERROR_HTTP_')) errorCode = undefined;
  return { errorCode, message };
}
