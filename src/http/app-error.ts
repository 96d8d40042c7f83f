/** One validation or request problem, located where possible (row and column are 1-based). */
export interface ProblemDetail {
  readonly code: string;
  readonly message: string;
  readonly row?: number;
  readonly column?: number;
  /** The column's header or the JSON field the problem is in. */
  readonly field?: string;
  readonly path?: string;
  readonly value?: unknown;
  /** For problems found after reading, e.g. a cross-field check: which check. */
  readonly check?: string;
  /** For a limit exceeded: which limit, and its value. */
  readonly limit?: { readonly name: string; readonly value: number };
}

/**
 * The one error type for request failures. The HTTP error handler renders it as RFC 9457
 * problem+json with `type` derived from `code`, and `errors` listing every detail.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: readonly ProblemDetail[] = [],
    /** Extra members of the problem document (RFC 9457 extensions), e.g. `errors_total`. */
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  static badRequest(code: string, message: string, errors: readonly ProblemDetail[] = []): AppError {
    return new AppError(400, code, message, errors);
  }
  static unauthorized(message = 'A valid API key is required'): AppError {
    return new AppError(401, 'unauthorized', message);
  }
  static forbidden(message = 'This key may not do that'): AppError {
    return new AppError(403, 'forbidden', message);
  }
  static notFound(what: string): AppError {
    return new AppError(404, 'not_found', `${what} was not found`);
  }
  static conflict(code: string, message: string): AppError {
    return new AppError(409, code, message);
  }
  static unprocessable(code: string, message: string, errors: readonly ProblemDetail[]): AppError {
    return new AppError(422, code, message, errors);
  }
}
