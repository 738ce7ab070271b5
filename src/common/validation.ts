import { ParseUUIDPipe, Param, ValidationError, ValidationPipe } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
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
