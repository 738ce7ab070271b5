import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer, Reflector } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import {
  ACCESS_RULE_KEY,
  AccessRule,
  ALLOW_DISABLED_CUSTOMER_KEY,
  IS_PUBLIC_KEY,
} from '../../src/auth/access.decorators';

export interface RouteAccess {
  route: string;
  access: string;
}

const joinPath = (...parts: string[]) =>
  `/${parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/')}`;

/** Every route of the app with what its guards require, read from the same metadata they read. */
export function listRoutes(
  app: INestApplication,
  prefix: string,
  unprefixed: string[],
): RouteAccess[] {
  const reflector = new Reflector();
  const routes: RouteAccess[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new () => unknown) | undefined;
      if (!controller) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (path === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
        const full = joinPath(base, path);
        const url = unprefixed.some((u) => full === joinPath(u)) ? full : joinPath(prefix, full);
        const targets = [handler, controller];
        const isPublic = reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets);
        const rule = reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE_KEY, targets);
        const access = isPublic
          ? 'public'
          : rule
            ? `${rule.role}+${rule.apiKeys === 'none' ? 'no-keys' : rule.apiKeys}`
            : 'UNDECLARED (refused to all)';
        const disabledKey = reflector.get<boolean>(ALLOW_DISABLED_CUSTOMER_KEY, handler)
          ? '+even-disabled-customer-key'
          : '';
        routes.push({ route: `${method} ${url}`, access: access + disabledKey });
      }
    }
  }
  return routes.sort((a, b) => a.route.localeCompare(b.route));
}
