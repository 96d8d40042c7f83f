import type { ErrorRequestHandler } from 'express';
import multer from 'multer';
import type { Logger } from 'pino';
import { AppError } from './app-error.js';

const PROBLEM_BASE = 'https://riskwatch.example/problems/';

/** Maps errors from libraries to the service's one error type. */
function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof multer.MulterError) {
    if (error.code === 'LIMIT_FILE_SIZE')
      return new AppError(413, 'file_too_large', 'The file exceeds the upload limit');
    return AppError.badRequest(
      'invalid_multipart',
      `${error.message}${error.field ? ` (field ${error.field})` : ''}`,
    );
  }
  const e = error as { type?: string; status?: number; message?: string };
  if (e.type === 'entity.parse.failed')
    return AppError.badRequest('invalid_json', 'The request body is not valid JSON');
  if (e.type === 'entity.too.large')
    return new AppError(413, 'body_too_large', 'The request body is too large');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new AppError(e.status, 'bad_request', e.message ?? 'Bad request');
  }
  return undefined;
}

/**
 * The one error handler: renders every failure as RFC 9457 problem+json. Unexpected errors are
 * logged with their stack and answered with a generic 500 that leaks nothing.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const known = toAppError(error);
    if (!known) logger.error({ err: error, method: req.method, url: req.originalUrl }, 'unhandled error');
    const problem =
      known ?? new AppError(500, 'internal_error', 'An unexpected error occurred; it has been logged');
    if (res.headersSent) return;
    res
      .status(problem.status)
      .type('application/problem+json')
      .json({
        type: `${PROBLEM_BASE}${problem.code}`,
        title: problem.message,
        status: problem.status,
        code: problem.code,
        detail: problem.message,
        instance: req.originalUrl,
        ...(problem.errors.length > 0 ? { errors_total: problem.errors.length } : {}),
        ...problem.extensions,
        ...(problem.errors.length > 0 ? { errors: problem.errors } : {}),
      });
  };
}
