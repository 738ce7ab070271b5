import {
  ArgumentMetadata,
  ParseUUIDPipe,
  Param,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import { ApiParam } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
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
 * Where the value holds a NUL character (in a string or a key): the dotted path of the first
 * one, e.g. `features.2.code`, or undefined. PostgreSQL cannot store NUL in text, so such a
 * value would otherwise reach the database and fail there.
 */
export function findNul(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (key.includes('\0')) return childPath;
    const found = findNul(child, childPath);
    if (found !== undefined) return found;
  }
  return undefined;
}

export const NUL_MESSAGE = 'must not contain a NUL character';

/**
 * The query checked for NUL before anything else. JSON bodies are checked as they are parsed
 * (setup-app.ts); route parameters are ids, checked by their own pipes.
 *
 * An empty object (an audit page asked for with no query, a disable or enable with the body
 * `{}`, most staff requests that carry any) is validated once per class: once `{}` has passed,
 * later ones get a fresh instance from class-transformer without class-validator, the costlier
 * half of the pipe. Its verdict on `{}` cannot change: the rules are the class's, the value is
 * always the same, and no rule here depends on anything else. A class that refuses `{}` is
 * validated every time, so its answer (400 and the fields) is the pipe's own.
 */
class StrictValidationPipe extends ValidationPipe {
  private readonly passEmpty = new WeakSet<object>();

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'query') {
      const field = findNul(value, metadata.data);
      if (field !== undefined) {
        throw new ValidationFailedError([{ field, message: NUL_MESSAGE }]);
      }
    }
    const metatype = metadata.metatype;
    const empty =
      (metadata.type === 'body' || metadata.type === 'query') &&
      typeof metatype === 'function' &&
      isEmptyObject(value) &&
      this.toValidate(metadata);
    if (!empty) return super.transform(value, metadata) as Promise<unknown>;
    if (this.passEmpty.has(metatype)) return Promise.resolve(this.fromEmpty(metatype));
    return (super.transform(value, metadata) as Promise<unknown>).then((entity) => {
      // Only when the instance it gives is the one class-transformer alone makes of `{}`.
      if (sameOwnValues(entity, this.fromEmpty(metatype))) this.passEmpty.add(metatype);
      return entity;
    });
  }

  private fromEmpty(metatype: new (...args: never[]) => unknown): unknown {
    return plainToInstance(metatype, {}, this.transformOptions);
  }
}

/** A plain object (as JSON or a query string parses into) with no key at all. */
function isEmptyObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return (
    (prototype === Object.prototype || prototype === null) && Reflect.ownKeys(value).length === 0
  );
}

/** Same class, same own keys, each with the same primitive value. */
function sameOwnValues(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keys = Reflect.ownKeys(a);
  if (keys.length !== Reflect.ownKeys(b).length) return false;
  return keys.every((key) => {
    const value: unknown = (a as Record<PropertyKey, unknown>)[key];
    return (
      (typeof value !== 'object' || value === null) &&
      typeof value !== 'function' &&
      Object.prototype.hasOwnProperty.call(b, key) &&
      Object.is(value, (b as Record<PropertyKey, unknown>)[key])
    );
  });
}

/**
 * Strict validation for every body and query: unknown fields are rejected (not silently
 * dropped), values are converted to their declared types, and every field error is reported.
 */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailedError(flatten(errors)),
  });
}

/**
 * A route parameter that must be a UUID: a malformed one is `400 validation_failed`. It arrives
 * here already in lower case (installCanonicalUuidParams). Documents
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
 * A uuid in its one spelling, lower case (PostgreSQL's, so an id from the database and one from a
 * request compare equal and key a cache alike); anything else unchanged, for the validators.
 * On the hot path: an id already in lower case costs a `toLowerCase` (which then returns the
 * same string), not the pattern test, which only a changed string pays.
 */
export function canonicalUuid<T>(value: T): T {
  if (typeof value !== 'string') return value;
  const lower = value.toLowerCase();
  return lower !== value && UUID.test(value) ? (lower as T) : value;
}

/**
 * Canonicalises every uuid route parameter where it enters, before anything reads it: the
 * guards (a customer key's own id), the limits fast lane and its caches, the pipes and the
 * services that announce changes. It wraps each handler of a route with parameters, and must be
 * installed after any other wrapper of route handlers (the limits fast lane) so as to run first.
 */
export function installCanonicalUuidParams(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const names = [...route.url.matchAll(/:(\w+)/g)].map((match) => match[1]);
    if (names.length === 0) return;
    const handler = route.handler;
    route.handler = function canonicalUuidParams(
      this: FastifyInstance,
      request: FastifyRequest,
      reply: FastifyReply,
    ) {
      const params = request.params as Record<string, unknown> | undefined;
      if (params) {
        for (const name of names) {
          const value = params[name];
          const canonical = canonicalUuid(value);
          if (canonical !== value) params[name] = canonical;
        }
      }
      return handler.call(this, request, reply);
    };
  });
}

/**
 * What `UuidParam()` checks, without a pipe: for a hot route that reads its parameter from the
 * request, because a pipeable parameter runs Nest's whole pipe chain on every request.
 */
export function parseUuid(value: unknown, field = 'id'): string {
  if (isUuid(value)) return value;
  throw new ValidationFailedError([{ field, message: 'must be a UUID' }]);
}

// RFC 3339 with the date alone allowed and the zone optional (PostgreSQL then takes the
// session's). ISO 8601 also has week and ordinal dates (`2026-W01`, `2026-001`), compact forms
// and six-digit years, which PostgreSQL refuses or reads differently: they are not accepted.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[+-](\d{2}):(\d{2}))?)?$/;

/**
 * Whether the value is a date or date-time that exists and that PostgreSQL stores as written:
 * years 0001 to 9999 (PostgreSQL has no year 0), a real day of that month, a real time of day.
 */
export function isTimestamp(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = TIMESTAMP.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = match
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 14 &&
    offsetMinutes <= 59
  );
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
}

/** A date or date-time filter: `isTimestamp`, as `400 validation_failed` otherwise. */
export const IsTimestamp = (): PropertyDecorator =>
  ValidateBy({
    name: 'isTimestamp',
    validator: {
      validate: (value) => isTimestamp(value),
      defaultMessage: (args) =>
        `${args?.property ?? 'value'} must be a real date (YYYY-MM-DD) or date-time (RFC 3339, e.g. 2026-01-31T09:00:00Z)`,
    },
  });
