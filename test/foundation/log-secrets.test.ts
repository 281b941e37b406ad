import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { createLogger } from '../../src/platform/logger.ts';

describe('secrets never reach the logs', async () => {
  const lines: string[] = [];
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  const logger = createLogger({ level: 'debug', destination: sink });
  const t = await createTestApp({ deps: { logger } });

  it('redacts URL tokens, authorization headers and configured source secrets', async () => {
    await t.app.inject({ method: 'PUT', url: '/api/workspaces/logs', headers: t.auth, payload: { name: 'Logs' } });
    await t.app.inject({
      method: 'PUT',
      url: '/api/workspaces/logs/sources/gong',
      headers: t.auth,
      payload: { mode: 'url_token', urlToken: 'gong-url-token-value' },
    });
    await t.app.inject({
      method: 'POST',
      url: '/webhooks/logs/gong?token=gong-url-token-value&rule=calls',
      headers: { 'content-type': 'application/json' },
      payload: '{"not":"a gong payload"}',
    });
    await t.app.inject({ method: 'POST', url: '/webhooks/logs/gong?token=wrong-guess', headers: { 'content-type': 'application/json' }, payload: '{}' });
    await new Promise((resolve) => setImmediate(resolve));
    const logged = lines.join('');
    expect(logged).toContain('/webhooks/logs/gong?token=[redacted]');
    for (const secret of ['gong-url-token-value', 'wrong-guess', t.token]) expect(logged).not.toContain(secret);
  });
});
