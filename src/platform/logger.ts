import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths that may carry credentials. Redaction happens in pino itself so no code path can forget it;
 * vendor signatures are listed too because a leaked signature helps an attacker replay.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hubspot-signature"]',
  'req.headers["x-hubspot-signature-v3"]',
  'req.headers["x-momentum-signature"]',
  'req.headers["x-docusign-signature-1"]',
  'req.headers["x-docusign-signature-2"]',
  'req.query.token',
  'req.query.signature',
  '*.accessToken',
  '*.refreshToken',
  '*.clientSecret',
  '*.privateKey',
  '*.password',
  '*.secret',
  '*.token',
  'headers.authorization',
];

export function createLogger(options: { level: LoggerOptions['level']; pretty?: boolean }): Logger {
  return pino({
    level: options.level ?? 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
    base: { service: 'momentum' },
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } }
      : {}),
  });
}
