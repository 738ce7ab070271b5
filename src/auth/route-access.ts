import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ACCESS_RULE_KEY,
  AccessRule,
  ALLOW_DISABLED_CUSTOMER_KEY,
  IS_PUBLIC_KEY,
} from '../access/access.decorators';

/** What a route declares about its callers, read from its `@Public/@Roles` metadata. */
export interface RouteAccess {
  isPublic: boolean;
  /** undefined: neither @Roles nor @Public, so the route is refused to everyone. */
  rule: AccessRule | undefined;
  allowDisabledCustomerKey: boolean;
}

/**
 * Reads a route's access metadata once and keeps it: the decorators never change at run time,
 * and the guards ask on every request (a method's rule wins over its class's).
 */
@Injectable()
export class RouteAccessReader {
  private readonly byHandler = new WeakMap<object, Map<object, RouteAccess>>();

  constructor(private readonly reflector: Reflector) {}

  of(context: ExecutionContext): RouteAccess {
    return this.ofHandler(context.getHandler(), context.getClass());
  }

  /** The same, for a controller method named directly (the limits fast lane). */
  ofHandler(
    handler: ReturnType<ExecutionContext['getHandler']>,
    controller: ReturnType<ExecutionContext['getClass']>,
  ): RouteAccess {
    let byController = this.byHandler.get(handler);
    if (!byController) {
      byController = new Map();
      this.byHandler.set(handler, byController);
    }
    let access = byController.get(controller);
    if (!access) {
      const targets = [handler, controller];
      access = {
        isPublic: Boolean(this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)),
        rule: this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE_KEY, targets),
        allowDisabledCustomerKey: Boolean(
          this.reflector.get<boolean>(ALLOW_DISABLED_CUSTOMER_KEY, handler),
        ),
      };
      byController.set(controller, access);
    }
    return access;
  }
}
