import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { CustomerDisabledError } from '../access/access.errors';
import { ForbiddenError } from '../common/errors';
import type { AuthenticatedRequest } from '../access/access.decorators';
import type { Actor } from '../access/actor';
import { admission } from './admission';
import { AuthenticationGuard } from './authentication.guard';
import { refusalDetail } from './roles.guard';
import { RouteAccess, RouteAccessReader } from './route-access';

/**
 * The one global guard: who is calling (AuthenticationGuard), then whether the route admits them
 * (`admission`, the decision the limits fast lane shares), in one pass. Nest awaits every global
 * guard separately; with an API key found in memory this guard does not create a single promise.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly routes: RouteAccessReader,
    private readonly authentication: AuthenticationGuard,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const access = this.routes.of(context);
    if (access.isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const actor = this.authentication.authenticate(context, request);
    return actor instanceof Promise
      ? actor.then((found) => this.admit(access, found, request))
      : this.admit(access, actor, request);
  }

  private admit(
    access: RouteAccess,
    actor: Actor,
    request: AuthenticatedRequest,
    customerDisabled?: boolean,
  ): boolean | Promise<boolean> {
    const decision = admission(
      access,
      actor,
      request.params as Record<string, string> | undefined,
      customerDisabled,
    );
    switch (decision) {
      case 'admitted':
        request.user = actor;
        return true;
      case 'customer_status_needed': {
        const disabled = this.authentication.isCustomerDisabled(
          (actor as { customerId: string }).customerId,
        );
        return disabled instanceof Promise
          ? disabled.then((isDisabled) => this.admit(access, actor, request, isDisabled))
          : this.admit(access, actor, request, disabled);
      }
      case 'customer_disabled':
        throw new CustomerDisabledError((actor as { customerId: string }).customerId);
      case 'forbidden':
        request.user = actor;
        throw access.rule
          ? new ForbiddenError(refusalDetail(access.rule, actor))
          : new ForbiddenError();
    }
  }
}
