import type { CrmProvider, RateLimitSnapshot } from './types.ts';

/**
 * What went wrong, in the terms a retry policy needs:
 * - `rate_limited`: the CRM refused because of a quota; wait `retryAfterMs` (burst) or much longer (daily).
 * - `auth`: the credentials are missing, expired beyond refresh, or revoked; a person must reconnect.
 * - `transient`: 5xx, network trouble or a timeout on a read; the request was not applied, retry later.
 * - `uncertain`: a write whose outcome we could not observe (dropped socket, timeout); it may have been
 *   applied. Creates must be reconciled (findTasksByKeys) before they are sent again.
 * - `permanent`: the CRM rejected the request itself (validation, unknown id, missing scope); retrying
 *   the same request cannot help.
 */
export type CrmErrorKind = 'rate_limited' | 'auth' | 'transient' | 'uncertain' | 'permanent';

export type RateLimitPolicy = 'burst' | 'daily';

export interface CrmErrorInit {
  kind: CrmErrorKind;
  provider: CrmProvider;
  /** The CRM's own words (never a token or a request body). */
  message: string;
  status?: number;
  /** The CRM's error code or category, e.g. `REQUEST_LIMIT_EXCEEDED`, `VALIDATION_ERROR`. */
  code?: string;
  retryAfterMs?: number;
  policy?: RateLimitPolicy;
  rateLimit?: RateLimitSnapshot;
  cause?: unknown;
}

export class CrmError extends Error {
  override readonly name = 'CrmError';
  readonly kind: CrmErrorKind;
  readonly provider: CrmProvider;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly policy: RateLimitPolicy | undefined;
  readonly rateLimit: RateLimitSnapshot | undefined;

  constructor(init: CrmErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.provider = init.provider;
    this.status = init.status;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.policy = init.policy;
    this.rateLimit = init.rateLimit;
  }

  /**
   * Whether sending again can succeed without a person changing something. An uncertain write is
   * retryable, but only after reconciling: it may already have been applied.
   */
  get retryable(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'transient' || this.kind === 'uncertain';
  }

  /** A plain object for logs and the outbox's error column. */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      provider: this.provider,
      message: this.message,
      status: this.status,
      code: this.code,
      retryAfterMs: this.retryAfterMs,
      policy: this.policy,
      retryable: this.retryable,
    };
  }
}

export function isCrmError(value: unknown): value is CrmError {
  return value instanceof CrmError;
}

/** Network failures where the request provably never reached the CRM, so even a write was not applied. */
const neverSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN']);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Classifies a failure that produced no HTTP response. A write that timed out or lost its socket
 * may have been applied; a read never changes anything, so it is merely transient.
 */
export function networkFailure(
  provider: CrmProvider,
  error: unknown,
  options: { write: boolean; timedOut: boolean; timeoutMs: number },
): CrmError {
  const code = causeCode(error);
  if (options.timedOut) {
    return new CrmError({
      provider,
      kind: options.write ? 'uncertain' : 'transient',
      message: `No answer from ${provider} within ${options.timeoutMs} ms`,
      code: 'TIMEOUT',
      cause: error,
    });
  }
  const neverSent = code !== undefined && neverSentCodes.has(code);
  return new CrmError({
    provider,
    kind: options.write && !neverSent ? 'uncertain' : 'transient',
    message: `Network error talking to ${provider}${code ? ` (${code})` : ''}`,
    ...(code === undefined ? {} : { code }),
    cause: error,
  });
}
