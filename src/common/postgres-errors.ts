import { DatabaseUnavailableError, DomainError } from './errors';

/** True when `error` is PostgreSQL's unique violation, optionally of the named constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } })
    ?.driverError;
  const pg = driverError ?? (error as { code?: string; constraint?: string });
  return pg?.code === '23505' && (constraint === undefined || pg.constraint === constraint);
}

/**
 * The unique constraint's answer in the contract: `conflict` (a 409 with the module's own code)
 * when `error` violates `constraint`, else `error` itself. Callers `throw asConflict(error, ...)`
 * in their catch.
 */
export function asConflict(
  error: unknown,
  constraint: string,
  conflict: DomainError<string>,
): unknown {
  return isUniqueViolation(error, constraint) ? conflict : error;
}

/**
 * SQLSTATEs that say the database cannot serve now rather than that the request is wrong: class
 * 08 (connection exception), 53 (insufficient resources, 53300 too many connections), 57014
 * (statement_timeout), 57P01-57P03 (shutting down, crashed, not yet accepting connections) and
 * 55P03 (lock_timeout: the row stays locked by someone else for now).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|53...|57014|57P0[123]|55P03)$/;

/** Socket errors of a database that is unreachable or went away. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** What `pg` and `pg-pool` say when a connection cannot be had, breaks, or gets no answer. */
const UNAVAILABLE_DRIVER_MESSAGE =
  /^(Query read timeout|timeout exceeded when trying to connect|timeout expired|Connection terminated|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * True when `error` (as TypeORM, `pg` or the pool raise it) means the database is unavailable
 * or too slow, so the request deserves a 503 and a retry, not a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  const seen = new Set<unknown>();
  let current: unknown = error;
  // TypeORM wraps the driver's error (driverError), the pool its cause (cause), Node an
  // AggregateError for a host with several addresses (errors).
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (
      typeof code === 'string' &&
      (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_SOCKET_CODES.has(code))
    )
      return true;
    if (typeof message === 'string' && UNAVAILABLE_DRIVER_MESSAGE.test(message)) return true;
    const next = current as { driverError?: unknown; cause?: unknown; errors?: unknown };
    current =
      next.driverError ?? next.cause ?? (Array.isArray(next.errors) ? next.errors[0] : undefined);
  }
  return false;
}

/** One short line about a database failure for the log: no SQL, no stack. */
export function describeDatabaseError(error: unknown): string {
  const inner =
    error instanceof DatabaseUnavailableError && error.reason !== undefined ? error.reason : error;
  const driver = (inner as { driverError?: unknown })?.driverError ?? inner;
  const { code, message } = (driver ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message ? message.split('\n')[0] : String(driver);
  return (typeof code === 'string' && !text.includes(code) ? `${code} ${text}` : text).slice(
    0,
    200,
  );
}
