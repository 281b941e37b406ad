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

/** Query parameters that carry secrets (Salesforce/Gong URL tokens, PandaDoc signatures). */
const SECRET_QUERY = /([?&](?:token|signature|key|secret)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]');
}

interface LoggedRequest {
  method?: string;
  url?: string;
  id?: string;
  ip?: string;
}

export function createLogger(options: { level: LoggerOptions['level']; pretty?: boolean; destination?: NodeJS.WritableStream }): Logger {
  const settings: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
    base: { service: 'momentum' },
    // Request lines carry the URL; webhook URLs may hold a token in their query string.
    serializers: {
      req: (req: LoggedRequest) => ({ id: req.id, method: req.method, url: req.url === undefined ? undefined : redactUrl(req.url), ip: req.ip }),
      err: pino.stdSerializers.err,
    },
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } }
      : {}),
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
