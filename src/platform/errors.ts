/**
 * The one error type the HTTP layer turns into a response. `code` is stable and machine-readable;
 * `message` names the problem for a person. 5xx messages never reach the client.
 */
export class AppError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly details: readonly unknown[] | undefined;

  constructor(statusCode: number, code: string, message: string, details?: readonly unknown[]) {
    super(message);
    this.name = 'AppError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string) => new AppError(404, 'not_found', `${what} was not found`);
export const badRequest = (code: string, message: string, details?: readonly unknown[]) =>
  new AppError(400, code, message, details);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
