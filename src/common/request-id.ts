import { randomUUID } from 'node:crypto';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * A request's id: its X-Request-Id when it is sane (a caller's id carried through, for its own
 * logs), else a new uuid. Fastify's `genReqId`, and the limits fast lane's, which answers ahead
 * of Fastify.
 */
export function requestIdOf(headers: Record<string, string | string[] | undefined>): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
