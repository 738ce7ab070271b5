import type { OpenAPIObject } from '@nestjs/swagger';
import type {
  OperationObject,
  PathItemObject,
  ReferenceObject,
  ResponseObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { problemCodesOf } from '../common/api-problem-responses';

/** One answer the service gave, as a Fastify hook sees it. */
export interface ObservedResponse {
  method: string;
  /** Fastify's route template, e.g. `/api/v1/customers/:id`; undefined when no route matched. */
  route: string | undefined;
  status: number;
  /** The problem's `code`, when the answer is problem details. */
  code?: string;
}

/** Fastify's `/customers/:id` is OpenAPI's `/customers/{id}`. */
export function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Checks answers against the document: the status must be declared for the operation and, for
 * a problem, its code listed for that status. Answers outside the JSON API (no route matched,
 * the docs and admin pages) are not part of the contract and pass.
 */
export class ResponseContract {
  constructor(
    private readonly document: OpenAPIObject,
    private readonly apiPrefix: string,
  ) {}

  /** Why the answer breaks the contract, or undefined when the document declares it. */
  violation(observed: ObservedResponse): string | undefined {
    const { route, status, code } = observed;
    if (route === undefined) return undefined;
    const method = observed.method.toLowerCase() === 'head' ? 'get' : observed.method.toLowerCase();
    const path = openApiPath(route);
    const item = this.document.paths[path] as PathItemObject | undefined;
    const where = `${observed.method.toUpperCase()} ${path} ${status}${code ? ` ${code}` : ''}`;
    if (!item) {
      return route.startsWith(`/${this.apiPrefix}/`) ? `${where}: path not documented` : undefined;
    }
    const operation = item[method as keyof PathItemObject] as OperationObject | undefined;
    if (!operation) return `${where}: method not documented`;
    const responses = operation.responses as Record<string, ResponseObject | ReferenceObject>;
    const response =
      responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
    if (!response) return `${where}: status not documented`;
    const codes = problemCodesOf(response);
    if (code === undefined) {
      return codes === undefined ? undefined : `${where}: answered without a problem code`;
    }
    if (codes === undefined) return `${where}: documented without problem details`;
    return codes.includes(code) ? undefined : `${where}: code not documented for this status`;
  }
}
