import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiProblemResponses } from '../common/api-problem-responses';
import type { Actor, Origin } from './actor';
import type { Role } from './roles';

export const IS_PUBLIC_KEY = 'access:public';
export const ACCESS_RULE_KEY = 'access:rule';
export const ALLOW_DISABLED_CUSTOMER_KEY = 'access:allow-disabled-customer-key';

/**
 * Which API keys may call a route besides staff:
 * - `none`: staff only;
 * - `platform`: platform keys too;
 * - `platform_and_own_customer`: platform keys, and a customer key whose customer is the
 *   route's `:id` parameter.
 */
export type ApiKeyAccess = 'none' | 'platform' | 'platform_and_own_customer';

export interface AccessRule {
  /** The least staff role that may call the route; null: no staff sign-in may (`@PlatformKeyOnly`). */
  role: Role | null;
  apiKeys: ApiKeyAccess;
}

/** The route needs no authentication at all. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

/**
 * The least staff role that may call the route (the hierarchy grants it to every higher role),
 * and which API keys may. Carries the OpenAPI security and the 401/403 answers as well, so the
 * documentation cannot disagree with the guard.
 */
export function Roles(role: Role, options: { apiKeys?: ApiKeyAccess } = {}) {
  const rule: AccessRule = { role, apiKeys: options.apiKeys ?? 'none' };
  return applyDecorators(
    SetMetadata(ACCESS_RULE_KEY, rule),
    ApiBearerAuth('bearer'),
    ...(rule.apiKeys === 'none' ? [] : [ApiSecurity('api_key')]),
    ApiProblemResponses(401, 403),
  );
}

/**
 * Only a platform API key may call the route: no staff sign-in, whatever its role, and no
 * customer's key (a machine interface for the customer's backend, such as `GET /access/stream`).
 */
export function PlatformKeyOnly() {
  const rule: AccessRule = { role: null, apiKeys: 'platform' };
  return applyDecorators(
    SetMetadata(ACCESS_RULE_KEY, rule),
    ApiSecurity('api_key'),
    ApiProblemResponses(401, 403),
  );
}

/**
 * A customer key whose customer is disabled is refused everywhere (`403 customer_disabled`)
 * except on routes marked with this: its limits, which must be able to say "disabled".
 */
export const AllowDisabledCustomerKey = (): MethodDecorator =>
  SetMetadata(ALLOW_DISABLED_CUSTOMER_KEY, true);

export type AuthenticatedRequest = FastifyRequest & { user?: Actor };

/** The authenticated caller. Fails loudly if the route was declared public by mistake. */
export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.user) {
    throw new Error('CurrentActor used on a route without authentication');
  }
  return request.user;
});

const MAX_USER_AGENT = 500;

/** Where a request comes from (request id, IP, user agent), before anybody is known. */
export function signInOrigin(request: FastifyRequest): Omit<Origin, 'actor'> {
  const userAgent = request.headers['user-agent'];
  return {
    requestId: request.id ?? null,
    ip: request.ip ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : null,
  };
}

/**
 * Who is calling and from where (actor, request id, IP, user agent), for a use case that records
 * its changes in the audit log.
 */
export const RequestOrigin = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.user) throw new Error('RequestOrigin used on a route without authentication');
  const origin: Origin = { actor: request.user, ...signInOrigin(request) };
  return origin;
});
