import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError } from '../common/errors';
import type { Actor } from './actor';
import {
  ACCESS_RULE_KEY,
  AccessRule,
  AuthenticatedRequest,
  IS_PUBLIC_KEY,
} from './access.decorators';
import { roleSatisfies } from './roles';

/**
 * Global, after authentication: the caller must satisfy the route's `@Roles()` rule. A route
 * with neither `@Roles()` nor `@Public()` is refused to everyone, so forgetting a declaration
 * closes a route instead of opening it. A method's rule wins over its class's.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets)) return true;

    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE_KEY, targets);
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
