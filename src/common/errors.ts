/**
 * The error codes every module may answer with: the HTTP layer's own (validation, credentials,
 * permission, size, type, timeouts, outages) and the generic `not_found` and `conflict`. A code
 * that only one module raises is declared next to it, in its `*.errors.ts` (as `HOLDS_ERROR_CODES`
 * in holds/holds.errors.ts), with its error classes; openapi/error-codes.ts composes them all into
 * the contract's `ErrorCode` enum, and its test fails on a code declared twice or used undeclared.
 */
export const COMMON_ERROR_CODES = [
  'validation_failed',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'too_many_attempts',
  'internal_error',
  'service_unavailable',
  'request_timeout',
  'request_header_too_large',
] as const;
export type CommonErrorCode = (typeof COMMON_ERROR_CODES)[number];

export interface FieldError {
  field: string;
  message: string;
}

/**
 * Base of every error the domain raises on purpose. The problem-details filter turns it into an
 * RFC 9457 response; nothing else needs to know about HTTP.
 *
 * `C` is the list the code belongs to: a common code by default, a module's own when its error
 * class says so (`extends ConflictError<HoldsErrorCode>`). The code is never inferred from the
 * argument, so a code that is in neither list does not compile.
 */
export class DomainError<C extends string = CommonErrorCode> extends Error {
  constructor(
    readonly code: NoInfer<C>,
    readonly status: number,
    readonly title: string,
    detail?: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail ?? title);
    this.name = new.target.name;
  }
}

export class ValidationFailedError extends DomainError {
  constructor(errors: FieldError[], detail = 'The request is not valid.') {
    super('validation_failed', 400, 'Validation failed', detail, errors);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(detail = 'Authentication is required.') {
    super('unauthenticated', 401, 'Unauthenticated', detail, undefined, {
      'WWW-Authenticate': 'Bearer',
    });
  }
}

export class ForbiddenError extends DomainError {
  constructor(detail = 'You are not allowed to do this.') {
    super('forbidden', 403, 'Forbidden', detail);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id?: string) {
    super(
      'not_found',
      404,
      'Not found',
      id ? `${what} ${id} was not found.` : `${what} was not found.`,
    );
  }
}

/** 409: the generic `conflict`, or a module's own code through a subclass of its own. */
export class ConflictError<C extends string = 'conflict'> extends DomainError<C> {
  constructor(code: NoInfer<C>, detail: string) {
    super(code, 409, 'Conflict', detail);
  }
}

export class TooManyAttemptsError extends DomainError {
  constructor(retryAfterSeconds: number, detail = 'Too many failed attempts. Try again later.') {
    super('too_many_attempts', 429, 'Too many attempts', detail, undefined, {
      'Retry-After': String(retryAfterSeconds),
    });
  }
}

/** How long a client should wait before retrying a request refused for a database outage. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * The database did not answer, or not in time (down, frozen, out of connections, a lock not
 * granted): a passing state, so 503 with Retry-After rather than a 500. `reason` is the error
 * that showed it, for the log only.
 */
export class DatabaseUnavailableError extends DomainError {
  constructor(readonly reason?: unknown) {
    super(
      'service_unavailable',
      503,
      'Service unavailable',
      'The database is not answering in time. Try again shortly.',
      undefined,
      { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
    );
  }
}
