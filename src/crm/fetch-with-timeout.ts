import { networkFailure } from './errors.ts';
import type { CrmProvider } from './types.ts';

export interface TimedResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body is JSON, the raw text otherwise, null when empty. */
  body: unknown;
}

export interface TimedRequest {
  provider: CrmProvider;
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: string;
  /** A write may have been applied when no answer arrives; decides 'uncertain' vs 'transient'. */
  write: boolean;
  timeoutMs: number;
}

/**
 * One HTTP exchange bounded by a deadline that covers the body too. Failures without a response
 * become CrmError (uncertain for writes, transient for reads); HTTP error statuses are returned
 * for the caller to classify in the CRM's own terms.
 */
export async function fetchWithTimeout(request: TimedRequest): Promise<TimedResponse> {
  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers ?? {},
      ...(request.body === undefined ? {} : { body: request.body }),
      signal,
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: parseBody(text) };
  } catch (error) {
    throw networkFailure(request.provider, error, {
      write: request.write,
      timedOut: signal.aborted,
      timeoutMs: request.timeoutMs,
    });
  }
}

function parseBody(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Reads `field` from an unknown JSON object when it is a string. */
export function stringField(value: unknown, field: string): string | undefined {
  if (value && typeof value === 'object') {
    const candidate = (value as Record<string, unknown>)[field];
    if (typeof candidate === 'string') return candidate;
  }
  return undefined;
}
