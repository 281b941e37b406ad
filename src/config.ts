import { z } from 'zod';

/**
 * Every setting Momentum reads from the environment, parsed once at start.
 * `main.ts` is the only caller; everything else receives the frozen result.
 */

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const base64Key = z
  .string()
  .refine((value) => Buffer.from(value, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)');

const rawConfig = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z.string().url('must be a postgres:// connection URL').optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(10),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MOMENTUM_DATA_DIR: z.string().default('.data'),
  MOMENTUM_ENCRYPTION_KEY: base64Key.optional(),
  MOMENTUM_PREVIOUS_ENCRYPTION_KEYS: z
    .string()
    .optional()
    .transform((value) => (value ? value.split(',').map((key) => key.trim()).filter(Boolean) : []))
    .pipe(z.array(base64Key)),
  PUBLIC_BASE_URL: z.string().url('must be the external https:// URL vendors call, without a trailing path').optional(),
  TRUST_PROXY: booleanFlag.default(false),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).default(15_000),
  CRM_TIMEOUT_MS: z.coerce.number().int().min(1000).default(15_000),
});

export type Config = Readonly<{
  env: 'development' | 'production' | 'test';
  databaseUrl: string | undefined;
  databasePoolSize: number;
  host: string;
  port: number;
  logLevel: z.infer<typeof rawConfig>['LOG_LEVEL'];
  dataDir: string;
  encryptionKey: string | undefined;
  previousEncryptionKeys: readonly string[];
  publicBaseUrl: string | undefined;
  trustProxy: boolean;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  workerConcurrency: number;
  shutdownTimeoutMs: number;
  crmTimeoutMs: number;
}>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Parses the environment, reporting every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = rawConfig.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`));
  }
  const c = parsed.data;
  const problems: string[] = [];
  // Production has no embedded database and no generated secrets: both must be given.
  if (c.NODE_ENV === 'production') {
    if (!c.DATABASE_URL) problems.push('DATABASE_URL: required in production');
    if (!c.MOMENTUM_ENCRYPTION_KEY) problems.push('MOMENTUM_ENCRYPTION_KEY: required in production');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    env: c.NODE_ENV,
    databaseUrl: c.DATABASE_URL,
    databasePoolSize: c.DATABASE_POOL_SIZE,
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    dataDir: c.MOMENTUM_DATA_DIR,
    encryptionKey: c.MOMENTUM_ENCRYPTION_KEY,
    previousEncryptionKeys: Object.freeze(c.MOMENTUM_PREVIOUS_ENCRYPTION_KEYS),
    publicBaseUrl: c.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
    trustProxy: c.TRUST_PROXY,
    bodyLimitBytes: c.BODY_LIMIT_BYTES,
    requestTimeoutMs: c.REQUEST_TIMEOUT_MS,
    workerConcurrency: c.WORKER_CONCURRENCY,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    crmTimeoutMs: c.CRM_TIMEOUT_MS,
  });
}

/** The variables, defaults and meanings, for the README table and `momentum config`. */
export const configVariables = Object.keys(rawConfig.shape);
