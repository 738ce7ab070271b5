import { randomUUID } from 'node:crypto';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * A request's id: its X-Request-Id when it is sane (a caller's id carried through, for its own
 * logs), else a new uuid. Fastify's `genReqId`, and the limits fast lane's, which answers ahead
 * of Fastify.
 */
export function requestIdOf(headers: Record<string, string | string[] | undefined>): string {
  return requestIdFrom(headers['x-request-id']);
}

/** The request id for an X-Request-Id given as this (undefined: none). */
export function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
