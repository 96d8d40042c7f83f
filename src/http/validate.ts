import type { z } from 'zod';
import { AppError } from './app-error.js';

/** Validates a query string or params object; 400 listing every bad parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw AppError.badRequest(
    'invalid_parameter',
    'Some request parameters are invalid',
    parsed.error.issues.map((i) => ({
      code: 'invalid_parameter',
      field: i.path.join('.'),
      message: i.message,
    })),
  );
}

/** Validates a JSON body; 422 listing every problem with its path. */
export function parseBody<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw AppError.unprocessable(
    'invalid_body',
    'The request body is invalid',
    parsed.error.issues.map((i) => ({ code: 'invalid_body', path: i.path.join('.'), message: i.message })),
  );
}
