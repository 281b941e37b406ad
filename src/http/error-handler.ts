import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from '../platform/errors.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: readonly unknown[] };
}

export function errorBody(code: string, message: string, details?: readonly unknown[]): ErrorBody {
  return { error: details && details.length > 0 ? { code, message, details } : { code, message } };
}

// Fastify's own error codes for bad requests, mapped to our stable codes.
const fastifyCodes: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'empty_body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_json' },
};

/**
 * One place turns errors into responses: 4xx say what is wrong; 5xx say nothing about internals
 * (the log has the detail, tied to the request id).
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody('route_not_found', `No route for ${request.method} ${request.url.split('?')[0]}`));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, 'request failed');
      return reply.code(error.statusCode).send(errorBody(error.code, error.message, error.details));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = error.validation.map((issue) => ({
        path: `${error.validationContext ?? 'body'}${issue.instancePath.replaceAll('/', '.')}`,
        message: issue.message,
      }));
      const first = details[0];
      return reply
        .code(400)
        .send(errorBody('validation_failed', first ? `${first.path}: ${first.message}` : 'The request is invalid', details));
    }
    const mapped = error.code ? fastifyCodes[error.code] : undefined;
    if (mapped) return reply.code(mapped.status).send(errorBody(mapped.code, error.message));
    if (error instanceof SyntaxError || (error.statusCode && error.statusCode >= 400 && error.statusCode < 500)) {
      return reply.code(error.statusCode ?? 400).send(errorBody('bad_request', error.message));
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send(errorBody('internal_error', 'Internal Server Error'));
  });
}
