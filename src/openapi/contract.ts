import type { INestApplication } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import type {
  OperationObject,
  ParameterObject,
  ReferenceObject,
  ResponseObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { ApiKeyAccess } from '../access/access.decorators';
import { RouteAccess, RouteAccessReader } from '../auth/route-access';
import {
  addProblemReason,
  PROBLEM_DESCRIPTIONS,
  problemCodesOf,
  problemResponse,
} from '../common/api-problem-responses';
import {
  applyClassRules,
  applyPropertyRules,
  DtoClass,
  validatedClassesByName,
} from './validation-rules';

/** Nest's default operation id, pinned so that an operation can be traced to its handler. */
export const operationIdOf = (controllerKey: string, methodKey: string) =>
  `${controllerKey}_${methodKey}`;

interface Handler {
  access: RouteAccess;
  /** The class of the handler's `@Query()` object, whose validators bound the query parameters. */
  queryType?: DtoClass;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const HEADERS = {
  'X-Request-Id': {
    description:
      'The request id: the `X-Request-Id` sent when it is 1-128 characters of letters, digits ' +
      'and `_.:-`, otherwise a new UUID. Logged with every error of the request.',
    schema: { type: 'string', maxLength: 128 },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    schema: { type: 'integer', minimum: 0 },
  },
  'WWW-Authenticate': {
    description: 'The authentication scheme to use: `Bearer`.',
    schema: { type: 'string', example: 'Bearer' },
  },
};

const API_KEY_SENTENCE: Record<ApiKeyAccess, string> = {
  none: 'Staff only: API keys are refused.',
  platform: 'A platform API key may call it too.',
  platform_and_own_customer:
    'A platform API key may call it too, and so may the API key of the customer `{id}` itself.',
};

const API_KEY_EXTENSION: Record<ApiKeyAccess, string[]> = {
  none: [],
  platform: ['platform'],
  platform_and_own_customer: ['platform', 'own_customer'],
};

/**
 * Completes what the decorators declare with what follows from the code itself, so that the
 * document says everything the service does without each controller repeating it: who may call
 * each operation (from the same @Roles/@Public metadata the guards read), the answers every
 * operation of its kind can give (400 for any input, 413/415 for a body, 408, 431, 500 and 503
 * for all), the
 * headers, and the bounds the class-validator checks enforce.
 */
export function completeDocument(document: OpenAPIObject, app: INestApplication): OpenAPIObject {
  const handlers = handlersByOperationId(app);
  document.servers = [{ url: '/', description: 'This service (paths carry the /api/v1 prefix)' }];
  document.components = {
    ...document.components,
    parameters: {
      ...document.components?.parameters,
      RequestId: {
        name: 'X-Request-Id',
        in: 'header',
        required: false,
        description:
          'An id to trace the request by; echoed in the response when it is 1-128 characters ' +
          'of letters, digits and `_.:-`.',
        schema: { type: 'string', maxLength: 128 },
      },
    },
    headers: { ...document.components?.headers, ...HEADERS },
  };

  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const handler = operation.operationId ? handlers.get(operation.operationId) : undefined;
      if (!handler) {
        throw new Error(`${method.toUpperCase()} ${path}: no handler for ${operation.operationId}`);
      }
      describeAccess(operation, handler.access);
      addGenericResponses(operation);
      const parameters = (operation.parameters ?? []) as ParameterObject[];
      if (handler.queryType) {
        for (const parameter of parameters) {
          if (parameter.in === 'query' && parameter.schema && !('$ref' in parameter.schema)) {
            applyPropertyRules(handler.queryType, parameter.name, parameter.schema);
          }
        }
      }
      operation.parameters = [...parameters, { $ref: '#/components/parameters/RequestId' }];
      addHeaders(operation);
    }
  }

  const classes = validatedClassesByName();
  for (const [name, schema] of Object.entries(document.components.schemas ?? {})) {
    const target = classes.get(name);
    if (target && !('$ref' in schema)) applyClassRules(target, schema);
  }
  return document;
}

function describeAccess(operation: OperationObject, access: RouteAccess): void {
  const extensions = operation as unknown as Record<string, unknown>;
  let sentence: string;
  if (access.isPublic) {
    operation.security = [];
    sentence = 'Public: needs no credentials.';
  } else if (access.rule) {
    const { role, apiKeys } = access.rule;
    if (role !== null) extensions['x-required-role'] = role;
    extensions['x-api-keys'] = API_KEY_EXTENSION[apiKeys];
    sentence =
      role === null
        ? 'Platform API keys only: staff sign-ins and customers’ API keys are refused.'
        : `Requires staff role \`${role}\` or higher. ${API_KEY_SENTENCE[apiKeys]}`;
    if (access.allowDisabledCustomerKey) {
      sentence += ' The key of a disabled customer is accepted here.';
    } else {
      // Authentication refuses a disabled customer's key before any role or key check.
      const forbidden = operation.responses['403'] as ResponseObject | undefined;
      if (forbidden)
        addProblemReason(forbidden, 'the API key’s customer is disabled (`customer_disabled`)');
    }
  } else {
    sentence = 'Refused to every caller: the route declares no access rule.';
  }
  operation.description = [operation.description, sentence].filter(Boolean).join('\n\n');
}

function addGenericResponses(operation: OperationObject): void {
  const hasBody = operation.requestBody !== undefined;
  const hasInput =
    hasBody ||
    ((operation.parameters ?? []) as ParameterObject[]).some(
      (p) => p.in === 'path' || p.in === 'query',
    );
  const statuses = [...(hasInput ? [400] : []), 408, ...(hasBody ? [413, 415] : []), 431, 500, 503];
  for (const status of statuses) {
    operation.responses[status] ??= problemResponse(PROBLEM_DESCRIPTIONS[status]);
  }
  // Two decorators documenting one status (a route's own 401 and @Roles' 401) have their
  // descriptions joined by @nestjs/swagger, but the later schema wins: the codes follow the text.
  for (const [status, response] of Object.entries(operation.responses) as [
    string,
    ResponseObject | ReferenceObject,
  ][]) {
    if (problemCodesOf(response) !== undefined) {
      operation.responses[status] = {
        ...(response as ResponseObject),
        ...problemResponse((response as ResponseObject).description),
      };
    }
  }
}

function addHeaders(operation: OperationObject): void {
  for (const [status, response] of Object.entries(operation.responses) as [
    string,
    ResponseObject | ReferenceObject,
  ][]) {
    if ('$ref' in response) continue;
    const codes = problemCodesOf(response) ?? [];
    const names = ['X-Request-Id'];
    if (status === '429' || status === '503') names.push('Retry-After');
    if (status === '401' && codes.includes('unauthenticated')) names.push('WWW-Authenticate');
    response.headers = {
      ...response.headers,
      ...Object.fromEntries(names.map((n) => [n, { $ref: `#/components/headers/${n}` }])),
    };
  }
}

function handlersByOperationId(app: INestApplication): Map<string, Handler> {
  const reader = app.get(RouteAccessReader);
  const handlers = new Map<string, Handler>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!controller) continue;
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        handlers.set(operationIdOf(controller.name, name), {
          access: reader.ofHandler(handler, controller),
          queryType: queryTypeOf(controller, name),
        });
      }
    }
  }
  return handlers;
}

function queryTypeOf(controller: DtoClass, method: string): DtoClass | undefined {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) ?? {}) as Record<
    string,
    { index: number; data?: unknown }
  >;
  const types = (Reflect.getMetadata('design:paramtypes', controller.prototype as object, method) ??
    []) as DtoClass[];
  for (const [key, arg] of Object.entries(args)) {
    if (key.startsWith(`${RouteParamtypes.QUERY}:`) && arg.data === undefined) {
      return types[arg.index];
    }
  }
  return undefined;
}
