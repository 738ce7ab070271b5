import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../common/postgres-errors';
import { CommonErrorCode, DatabaseUnavailableError, DomainError, FieldError } from './errors';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** One of the contract's codes (composed in openapi/error-codes.ts). */
  code: string;
  errors?: FieldError[];
  instance?: string;
}

const CODE_BY_STATUS: Record<number, CommonErrorCode> = {
  400: 'validation_failed',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_attempts',
  431: 'request_header_too_large',
  503: 'service_unavailable',
};

const TITLE_BY_CODE: Partial<Record<CommonErrorCode, string>> = {
  validation_failed: 'Validation failed',
  unauthenticated: 'Unauthenticated',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  too_many_attempts: 'Too many attempts',
  request_timeout: 'Request timeout',
  request_header_too_large: 'Request header fields too large',
  service_unavailable: 'Service unavailable',
  internal_error: 'Internal server error',
};

/** Turns any error into RFC 9457 problem details. Never leaks a stack trace or SQL. */
export function toProblem(error: unknown): {
  problem: ProblemDetails;
  headers: Record<string, string>;
} {
  if (!(error instanceof DomainError) && isDatabaseUnavailable(error)) {
    error = new DatabaseUnavailableError(error);
  }
  if (error instanceof DomainError) {
    return {
      problem: problem(error.status, error.code, error.title, error.message, error.errors),
      headers: error.headers ?? {},
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'validation_failed');
    const detail = status >= 500 ? 'An unexpected error occurred.' : httpExceptionDetail(error);
    return { problem: problem(status, code, TITLE_BY_CODE[code] ?? 'Error', detail), headers: {} };
  }
  // Errors raised by Fastify itself (body parsing, size limit, content type) carry a statusCode.
  const fastifyStatus = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    const code = CODE_BY_STATUS[fastifyStatus] ?? 'validation_failed';
    const detail =
      fastifyStatus === 413
        ? 'The request body is too large.'
        : fastifyStatus === 415
          ? 'Send the body as application/json.'
          : 'The request body is not valid JSON.';
    return {
      problem: problem(fastifyStatus, code, TITLE_BY_CODE[code] ?? 'Error', detail),
      headers: {},
    };
  }
  return {
    problem: problem(
      500,
      'internal_error',
      'Internal server error',
      'An unexpected error occurred.',
    ),
    headers: {},
  };
}

function httpExceptionDetail(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return error.message;
}

/** A problem detail with the standard title of its code. */
export function problemOf(status: number, code: CommonErrorCode, detail: string): ProblemDetails {
  return problem(status, code, TITLE_BY_CODE[code] ?? 'Error', detail);
}

function problem(
  status: number,
  code: string,
  title: string,
  detail: string,
  errors?: FieldError[],
): ProblemDetails {
  return {
    type: `https://customer-access.dev/problems/${code.replace(/_/g, '-')}`,
    title,
    status,
    detail,
    code,
    ...(errors ? { errors } : {}),
  };
}

/**
 * Where refusals for an unavailable database are logged (database/DatabaseAvailability keeps it
 * to one line per outage). Declared here, not imported, so that common stays below database.
 */
export interface OutageLog {
  refused(error: unknown, what: string): void;
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  /** `availability` keeps the log of database outages to one line per outage. */
  constructor(private readonly availability?: OutageLog) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const { problem, headers } = toProblem(error);
    if (this.availability && isDatabaseUnavailable(error)) {
      this.availability.refused(error, `${request.method} ${request.url}`);
    } else if (problem.status >= 500 && !(error instanceof DomainError && problem.status === 503)) {
      // A 503 the service chose (readiness while draining) is no failure: the request line says it.
      this.logger.error(
        `${request.method} ${request.url} failed (request ${request.id})`,
        error instanceof Error ? error.stack : String(error),
      );
    }
    void reply
      .status(problem.status)
      .headers(headers)
      .header('content-type', 'application/problem+json; charset=utf-8')
      .send({ ...problem, instance: request.url });
  }
}
