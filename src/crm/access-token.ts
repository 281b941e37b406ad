import { CrmError } from './errors.ts';
import type { StoredTokens, TokenStore } from './token-store.ts';
import type { CrmLogger, CrmProvider } from './types.ts';

/** Obtains a new token from the CRM, given what the store holds (for the current refresh token). */
export type ObtainTokens = (current: StoredTokens | null) => Promise<StoredTokens>;

export interface ManagedAccessTokenOptions {
  provider: CrmProvider;
  store: TokenStore;
  /** Absent for static credentials (HubSpot private apps): a rejected token is then final. */
  obtain?: ObtainTokens;
  /** A static token used as is, never stored. */
  staticToken?: string;
  logger?: CrmLogger;
  now?: () => number;
}

/** Renew this long before the announced expiry so a token does not expire in flight. */
const expirySkewMs = 60_000;
const firstBackoffMs = 1_000;
const maxBackoffMs = 5 * 60_000;

/**
 * The access token of one connection: cached in memory, shared through the TokenStore, renewed
 * under the store's lock. It bounds refreshing twice over: callers renew at most once per call
 * (see the HTTP layers), and when a freshly obtained token is rejected too, further renewals are
 * refused with a growing backoff, so a CRM that keeps answering 401 cannot cause a refresh storm.
 */
export class ManagedAccessToken {
  private readonly options: ManagedAccessTokenOptions;
  private readonly now: () => number;
  private cached: StoredTokens | null = null;
  private lastObtainedToken: string | null = null;
  private freshRejections = 0;
  private renewBlockedUntil = 0;

  constructor(options: ManagedAccessTokenOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    if (options.staticToken !== undefined) {
      this.cached = { accessToken: options.staticToken, expiresAt: null, refreshToken: null };
    }
  }

  get canRenew(): boolean {
    return this.options.obtain !== undefined;
  }

  /** A token believed valid: the cached one, a newer one from the store, or a fresh one. */
  async get(): Promise<StoredTokens> {
    if (this.cached && !this.isExpiring(this.cached)) return this.cached;
    if (!this.canRenew && this.cached) return this.cached;
    const stored = await this.options.store.load();
    if (stored && !this.isExpiring(stored)) {
      this.cached = stored;
      return stored;
    }
    return this.renewUnderLock(this.cached?.accessToken ?? stored?.accessToken ?? null);
  }

  /** The CRM rejected `rejectedToken`; returns a different token or throws CrmError('auth'). */
  async renew(rejectedToken: string): Promise<StoredTokens> {
    if (!this.canRenew) {
      throw this.authError('The CRM rejected the access token and this connection has no way to renew it.');
    }
    if (rejectedToken === this.lastObtainedToken) this.noteFreshTokenRejected();
    if (this.now() < this.renewBlockedUntil) {
      throw this.authError('The CRM keeps rejecting freshly issued tokens; not refreshing again yet.');
    }
    return this.renewUnderLock(rejectedToken);
  }

  /** Tell the guard a token that was just renewed was rejected as well (the per-call bound was hit). */
  rejectedAfterRenewal(token: string): void {
    if (token === this.lastObtainedToken) this.noteFreshTokenRejected();
  }

  /** A request succeeded with `token`: it is proven good, and the backoff no longer applies. */
  accepted(token: string): void {
    if (token === this.lastObtainedToken) this.lastObtainedToken = null;
    if (token === this.cached?.accessToken && this.freshRejections > 0) {
      this.freshRejections = 0;
      this.renewBlockedUntil = 0;
    }
  }

  private noteFreshTokenRejected(): void {
    this.freshRejections += 1;
    const backoff = Math.min(firstBackoffMs * 2 ** (this.freshRejections - 1), maxBackoffMs);
    this.renewBlockedUntil = this.now() + backoff;
    // Only count a given token once, however many calls report it.
    this.lastObtainedToken = null;
  }

  private async renewUnderLock(rejectedToken: string | null): Promise<StoredTokens> {
    const obtain = this.options.obtain;
    if (!obtain) throw this.authError('No access token is available for this connection.');
    const tokens = await this.options.store.withRefreshLock(async () => {
      // Another process (or call) may have renewed while we waited for the lock.
      const stored = await this.options.store.load();
      if (stored && stored.accessToken !== rejectedToken && !this.isExpiring(stored)) return stored;
      const fresh = await obtain(stored);
      await this.options.store.save(fresh);
      this.lastObtainedToken = fresh.accessToken;
      this.options.logger?.info({ provider: this.options.provider, expiresAt: fresh.expiresAt }, 'crm access token renewed');
      return fresh;
    });
    this.cached = tokens;
    return tokens;
  }

  private isExpiring(tokens: StoredTokens): boolean {
    return tokens.expiresAt !== null && tokens.expiresAt - expirySkewMs <= this.now();
  }

  private authError(message: string): CrmError {
    return new CrmError({ provider: this.options.provider, kind: 'auth', message, status: 401 });
  }
}
