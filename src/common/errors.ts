/**
 * The machine-readable codes of the HTTP contract: a value, not only a type, so that the OpenAPI
 * document's enum is generated from this list and cannot miss one.
 */
export const ERROR_CODES = [
  'validation_failed',
  'unauthenticated',
  'invalid_credentials',
  'forbidden',
  'customer_disabled',
  'not_found',
  'customer_exists',
  'feature_exists',
  'plan_exists',
  'user_exists',
  'last_admin',
  'conflict',
  'hold_not_active',
  'invoice_paid',
  'invoice_void',
  'payment_exceeds_amount_due',
  'audit_chain_broken',
  'payload_too_large',
  'unsupported_media_type',
  'too_many_attempts',
  'internal_error',
  'service_unavailable',
  'request_timeout',
  'request_header_too_large',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

export interface FieldError {
  field: string;
  message: string;
}

/**
 * Base of every error the domain raises on purpose. The problem-details filter turns it into an
 * RFC 9457 response; nothing else needs to know about HTTP.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
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

export class InvalidCredentialsError extends DomainError {
  constructor(detail = 'The email or password is wrong.') {
    super('invalid_credentials', 401, 'Invalid credentials', detail);
  }
}

export class ForbiddenError extends DomainError {
  constructor(detail = 'You are not allowed to do this.') {
    super('forbidden', 403, 'Forbidden', detail);
  }
}

export class CustomerDisabledError extends DomainError {
  constructor(customerId: string, detail?: string) {
    super(
      'customer_disabled',
      403,
      'Customer disabled',
      detail ?? `Customer ${customerId} is disabled.`,
    );
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

export class ConflictError extends DomainError {
  constructor(code: ErrorCode, detail: string) {
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
