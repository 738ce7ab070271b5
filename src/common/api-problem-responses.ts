import { applyDecorators } from '@nestjs/common';
import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type {
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * The name of the problem details schema. Its class (openapi/problem-details.dto.ts) sits where
 * every module's error codes are known, to list them all in its `code` enum; here, below the
 * modules that document their answers, it is known by name.
 */
export const PROBLEM_DETAILS_SCHEMA = 'ProblemDetailsDto';

/**
 * Default descriptions. A description names the codes the answer can carry in backticks, and
 * those names are the codes its schema lists: the prose and the schema cannot disagree.
 */
export const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Validation failed (`validation_failed`)',
  401: 'Missing, invalid or expired credentials (`unauthenticated`)',
  403: 'Not allowed for this role or key (`forbidden`)',
  404: 'Not found (`not_found`)',
  408: 'The request did not arrive in time (`request_timeout`)',
  409: 'Conflict with the current state (`conflict`)',
  413: 'The body is over 100 kB (`payload_too_large`)',
  415: 'The body is not `application/json` (`unsupported_media_type`)',
  431: 'The request headers are over 16 KiB (`request_header_too_large`)',
  429: 'Too many attempts; retry after `Retry-After` seconds (`too_many_attempts`)',
  500: 'An unexpected error (`internal_error`)',
  503:
    'The database does not answer, or the service is shutting down; retry after `Retry-After` ' +
    'seconds (`service_unavailable`)',
};

/**
 * The error codes a description names in backticks (any `snake_case` word), in order, once each.
 * Each must be declared (openapi/error-codes.ts; its test and the OpenAPI test check that).
 */
export function codesNamedIn(description: string): string[] {
  const codes = [...description.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
  return [...new Set(codes)];
}

/** Problem details whose `code` is one of `codes`. */
export function problemSchema(codes: readonly string[]): SchemaObject {
  return {
    allOf: [
      { $ref: getSchemaPath(PROBLEM_DETAILS_SCHEMA) },
      { type: 'object', properties: { code: { type: 'string', enum: [...codes] } } },
    ],
  };
}

export function problemResponse(description: string): ResponseObject {
  return {
    description,
    content: { [PROBLEM_MEDIA_TYPE]: { schema: problemSchema(codesNamedIn(description)) } },
  };
}

/** The codes a problem response of the document declares; undefined when it is no problem. */
export function problemCodesOf(response: ResponseObject | ReferenceObject): string[] | undefined {
  const schema = (response as ResponseObject).content?.[PROBLEM_MEDIA_TYPE]?.schema as
    SchemaObject | undefined;
  if (!schema) return undefined;
  const narrowed = schema.allOf?.[1] as SchemaObject | undefined;
  const code = narrowed?.properties?.code as SchemaObject | undefined;
  return (code?.enum as string[] | undefined) ?? [];
}

/**
 * Adds a reason to a problem response unless its description names its codes already, e.g.
 * "the key's customer is disabled (`customer_disabled`)".
 */
export function addProblemReason(response: ResponseObject, reason: string): void {
  const known = codesNamedIn(response.description);
  if (codesNamedIn(reason).every((c) => known.includes(c))) return;
  Object.assign(response, problemResponse(`${response.description}, or ${reason}`));
}

/** Documents problem-details answers; `[status, description]` replaces a default description. */
export function ApiProblemResponses(...statuses: (number | [number, string])[]) {
  return applyDecorators(
    ...statuses.map((entry) => {
      const [status, description] = Array.isArray(entry)
        ? entry
        : [entry, PROBLEM_DESCRIPTIONS[entry]];
      return ApiResponse({ status, ...problemResponse(description) });
    }),
  );
}
