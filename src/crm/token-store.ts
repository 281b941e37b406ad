/**
 * Where a connection's OAuth tokens live between calls and processes. The production store keeps
 * them in Postgres (encrypted) and implements `withRefreshLock` with a row or advisory lock, so one
 * process refreshes while the others wait and then reuse the new token. One store per connection.
 */
export interface StoredTokens {
  accessToken: string;
  /** Epoch milliseconds; null when the CRM does not say (Salesforce): valid until rejected. */
  expiresAt: number | null;
  /** The current refresh token; HubSpot may rotate it, JWT-bearer Salesforce has none. */
  refreshToken: string | null;
  /** Salesforce only: the instance the token belongs to. */
  instanceUrl?: string;
}

export interface TokenStore {
  load(): Promise<StoredTokens | null>;
  save(tokens: StoredTokens): Promise<void>;
  /** Runs `fn` while holding the connection's refresh lock (across processes in production). */
  withRefreshLock<T>(fn: () => Promise<T>): Promise<T>;
}

/** A single-process store for tests and local runs. */
export class InMemoryTokenStore implements TokenStore {
  private tokens: StoredTokens | null;
  private lockTail: Promise<unknown> = Promise.resolve();
  saveCount = 0;

  constructor(initial: StoredTokens | null = null) {
    this.tokens = initial;
  }

  async load(): Promise<StoredTokens | null> {
    return this.tokens ? { ...this.tokens } : null;
  }

  async save(tokens: StoredTokens): Promise<void> {
    this.tokens = { ...tokens };
    this.saveCount += 1;
  }

  withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lockTail.then(fn, fn);
    // The next holder waits for this one whether it succeeded or failed.
    this.lockTail = run.catch(() => undefined);
    return run;
  }
}
