import { ParseUUIDPipe, Param, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { FieldError, ValidationFailedError } from './errors';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.replace(/^property (\S+) should not exist$/, 'is not allowed'),
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Strict validation for every body and query: unknown fields are rejected (not silently
 * dropped), values are converted to their declared types, and every field error is reported.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailedError(flatten(errors)),
  });
}

/**
 * A route parameter that must be a UUID: a malformed one is `400 validation_failed`. Documents
 * itself as `format: uuid`, so the contract says what the pipe checks.
 */
export const UuidParam =
  (name = 'id'): ParameterDecorator =>
  (target, key, index) => {
    Param(
      name,
      new ParseUUIDPipe({
        exceptionFactory: () =>
          new ValidationFailedError([{ field: name, message: 'must be a UUID' }]),
      }),
    )(target, key, index);
    const descriptor = key === undefined ? undefined : Object.getOwnPropertyDescriptor(target, key);
    if (descriptor) ApiParam({ name, type: String, format: 'uuid' })(target, key!, descriptor);
  };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `parseUuid` accepts the value. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/**
 * What `UuidParam()` checks, without a pipe: for a hot route that reads its parameter from the
 * request, because a pipeable parameter runs Nest's whole pipe chain on every request.
 */
export function parseUuid(value: unknown, field = 'id'): string {
  if (isUuid(value)) return value;
  throw new ValidationFailedError([{ field, message: 'must be a UUID' }]);
}
