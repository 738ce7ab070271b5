import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ForbiddenError } from '../common/errors';
import type { Actor } from './actor';
import type { AccessRule, AuthenticatedRequest } from './access.decorators';
import { roleSatisfies } from './roles';
import { RouteAccessReader } from './route-access';

/**
 * After authentication: the caller must satisfy the route's `@Roles()` rule. A route with
 * neither `@Roles()` nor `@Public()` is refused to everyone, so forgetting a declaration closes
 * a route instead of opening it. A method's rule wins over its class's.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly routes: RouteAccessReader) {}

  canActivate(context: ExecutionContext): boolean {
    const { isPublic, rule } = this.routes.of(context);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const actor = request.user;
    if (!rule || !actor || !isAllowed(rule, actor, request.params as Record<string, string>)) {
      throw new ForbiddenError();
    }
    return true;
  }
}

export function isAllowed(rule: AccessRule, actor: Actor, params: Record<string, string>): boolean {
  if (actor.type === 'user') return roleSatisfies(actor.role, rule.role);
  if (actor.customerId === null) return rule.apiKeys !== 'none';
  return rule.apiKeys === 'platform_and_own_customer' && params?.id === actor.customerId;
}
