import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('applies defaults for a bare development environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ env: 'development', port: 3000, host: '127.0.0.1', databaseUrl: undefined, dataDir: '.data' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every bad variable at once, by name', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'not a url', MOMENTUM_ENCRYPTION_KEY: 'short' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'MOMENTUM_ENCRYPTION_KEY']) expect(problems).toContain(name);
  });

  it('requires a database and an encryption key in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL: required in production[\s\S]*MOMENTUM_ENCRYPTION_KEY/);
  });

  it('strips a trailing slash from the public base URL', () => {
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://m.example.com/' }).publicBaseUrl).toBe('https://m.example.com');
  });
});
