import nock from 'nock';
import { afterEach } from 'vitest';

// Vendor APIs are mocked with nock; nothing may reach a real host. Loopback stays open for
// Postgres and for servers a test starts itself.
nock.disableNetConnect();
nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost') || host.startsWith('[::1]'));

afterEach(() => {
  nock.cleanAll();
});
