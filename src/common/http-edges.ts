import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CommonErrorCode, ValidationFailedError } from './errors';
import { bypassableByLanes } from './lane-hooks';
import { problemOf, ProblemDetails, toProblem } from './problem-details.filter';
import { SECURITY_HEADERS } from './security-headers';
import { findNul, NUL_MESSAGE } from './validation';

/**
 * The answers Fastify and Node give by themselves, before any route, filter or hook: made RFC
 * 9457 problem details like every other refusal.
 */

/** Deeper JSON is refused before it is parsed; no request body of the API nests a tenth as deep. */
export const MAX_JSON_DEPTH = 32;
/** What a client is told to wait during a shutdown: enough for a restart or another instance. */
export const RETRY_AFTER_CLOSING_SECONDS = 2;

export const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

/**
 * JSON is the only body the API takes: any other content type (a form, text, multipart) is
 * `415 unsupported_media_type`. An empty JSON body is no body, so a route whose body is optional
 * takes it as `{}`, and one whose body is required reports its missing fields. A body nested
 * deeper than MAX_JSON_DEPTH, or holding a NUL character anywhere (PostgreSQL cannot store one
 * in text), is `400 validation_failed`.
 */
export function installJsonBodyParser(fastify: FastifyInstance): void {
  // Fastify's own JSON parser, with prototype poisoning refused.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (
      request: FastifyRequest,
      body: string | Buffer,
      done: (error: Error | null, value?: unknown) => void,
    ) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, undefined);
      if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
        return done(
          new ValidationFailedError(
            [{ field: 'body', message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` }],
            'The request body is nested too deeply.',
          ),
        );
      }
      void parseJson(request, text, (error: Error | null, value?: unknown) => {
        if (error) return done(error);
        // A NUL can only come in as the escape `\u0000`: most bodies skip the walk.
        const field = text.includes('\\u0000') ? findNul(value) : undefined;
        if (field === undefined) return done(null, value);
        done(new ValidationFailedError([{ field: field || 'body', message: NUL_MESSAGE }]));
      });
    },
  );
}

/**
 * Whether the JSON text opens more than `max` arrays or objects inside each other. A scan, not
 * a parse, so a hostile body costs one pass; the validation that follows a parse recurses.
 */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Fastify's `frameworkErrors`: a path parameter over `maxParamLength` (every parameter of the
 * API is an id, so 100 characters is plenty) or a malformed URL, answered before routing.
 */
export function frameworkErrors(
  error: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const refused =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ValidationFailedError(
          [{ field: 'path', message: 'has a parameter longer than 100 characters' }],
          'A path parameter is too long: ids are UUIDs.',
        )
      : error.code === 'FST_ERR_BAD_URL'
        ? new ValidationFailedError(
            [{ field: 'path', message: 'is not a valid URL path' }],
            'The request path is not valid.',
          )
        : error;
  const { problem, headers } = toProblem(refused);
  void reply
    .status(problem.status)
    .headers(Object.fromEntries(SECURITY_HEADERS))
    .headers(headers)
    .header('content-type', PROBLEM_JSON)
    .send({ ...problem, instance: request.url });
}

/**
 * Node's `clientError`: what it answers before any request exists (headers over its
 * `maxHeaderSize`, a request too slow to arrive, bytes that are not HTTP).
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail]: [number, CommonErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'request_header_too_large',
          `The request headers are over ${maxHeaderSize} bytes in all.`,
        ]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request did not arrive in time.']
        : [400, 'validation_failed', 'The request is not valid HTTP.'];
  if (socket.writable) socket.end(rawResponse(status, problemOf(status, code, detail)));
  socket.destroy(error);
}

/**
 * During a shutdown, requests that still arrive on open connections are refused at once with
 * `503 service_unavailable` and `Retry-After` (Fastify's own 503 is not a problem detail).
 */
export function installClosingRefusal(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // A callback hook: on the hot path it costs one boolean test.
  const refuseWhileClosing = (
    request: FastifyRequest,
    reply: FastifyReply,
    done: () => void,
  ): void => {
    if (!closing) return done();
    void reply
      .status(503)
      .header('connection', 'close')
      .header('retry-after', String(RETRY_AFTER_CLOSING_SECONDS))
      .header('content-type', PROBLEM_JSON)
      .send({
        ...problemOf(503, 'service_unavailable', 'The service is shutting down. Try again.'),
        instance: request.url,
      });
  };
  fastify.addHook(
    'onRequest',
    bypassableByLanes(refuseWhileClosing, 'answers nothing once the server closes'),
  );
}

function rawResponse(status: number, problem: ProblemDetails): string {
  const body = JSON.stringify(problem);
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    `content-type: ${PROBLEM_JSON}`,
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...SECURITY_HEADERS.map(([name, value]) => `${name}: ${value}`),
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}
