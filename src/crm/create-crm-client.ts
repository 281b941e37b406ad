import { HubspotCrmClient } from '../integrations/hubspot/crm-client.ts';
import { SalesforceCrmClient } from '../integrations/salesforce/crm-client.ts';
import type { CrmConnectionConfig } from './connection-config.ts';
import type { TokenStore } from './token-store.ts';
import type { CrmClient, CrmLogger } from './types.ts';

export interface CrmClientDeps {
  /** The connection's token store (one per connection; the Postgres one in production). */
  tokenStore: TokenStore;
  /** Deadline for each HTTP exchange; a write that misses it is reported as uncertain. */
  fetchTimeoutMs?: number;
  logger?: CrmLogger;
}

export const defaultFetchTimeoutMs = 15_000;

/** The registry of CRM clients: a parsed connection config in, the matching client out. */
export function createCrmClient(config: CrmConnectionConfig, deps: CrmClientDeps): CrmClient {
  const shared = {
    tokenStore: deps.tokenStore,
    fetchTimeoutMs: deps.fetchTimeoutMs ?? defaultFetchTimeoutMs,
    ...(deps.logger === undefined ? {} : { logger: deps.logger }),
  };
  switch (config.provider) {
    case 'hubspot':
      return new HubspotCrmClient(config, shared);
    case 'salesforce':
      return new SalesforceCrmClient(config, shared);
  }
}
