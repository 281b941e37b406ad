import { describe, expect, it } from 'vitest';
import { ManagedAccessToken } from './access-token.ts';
import { InMemoryTokenStore, type StoredTokens } from './token-store.ts';

describe('ManagedAccessToken', () => {
  it('makes one token request for concurrent renewals: the lock holder refreshes, the others reuse', async () => {
    const store = new InMemoryTokenStore({ accessToken: 'old', expiresAt: null, refreshToken: 'r' });
    let calls = 0;
    const obtain = async (): Promise<StoredTokens> => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { accessToken: `new-${calls}`, expiresAt: null, refreshToken: 'r' };
    };
    // Two processes share the store; each has its own ManagedAccessToken.
    const a = new ManagedAccessToken({ provider: 'hubspot', store, obtain });
    const b = new ManagedAccessToken({ provider: 'hubspot', store, obtain });
    const [ta, tb] = await Promise.all([a.renew('old'), b.renew('old')]);
    expect(calls).toBe(1);
    expect(ta.accessToken).toBe('new-1');
    expect(tb.accessToken).toBe('new-1');
  });

  it('backs off, growing, when freshly obtained tokens keep being rejected', async () => {
    let clock = 0;
    let calls = 0;
    const token = new ManagedAccessToken({
      provider: 'salesforce',
      store: new InMemoryTokenStore(),
      obtain: async () => ({ accessToken: `t${++calls}`, expiresAt: null, refreshToken: null }),
      now: () => clock,
    });
    const first = await token.get();
    token.rejectedAfterRenewal(first.accessToken);
    await expect(token.renew(first.accessToken)).rejects.toMatchObject({ kind: 'auth' });
    clock += 1_000;
    const second = await token.renew(first.accessToken);
    token.rejectedAfterRenewal(second.accessToken);
    clock += 1_000;
    await expect(token.renew(second.accessToken)).rejects.toMatchObject({ kind: 'auth' });
    clock += 1_000;
    await expect(token.renew(second.accessToken)).resolves.toMatchObject({ accessToken: 't3' });
    expect(calls).toBe(3);
  });
});
