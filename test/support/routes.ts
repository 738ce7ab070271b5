import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { RouteAccessReader } from '../../src/auth/route-access';

export interface RouteListing {
  route: string;
  access: string;
}

const joinPath = (...parts: string[]) =>
  `/${parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/')}`;

/** Every route of the app with what its guards require, read by the reader the guards use. */
export function listRoutes(
  app: INestApplication,
  prefix: string,
  unprefixed: string[],
): RouteListing[] {
  const reader = app.get(RouteAccessReader);
  const routes: RouteListing[] = [];
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
        const { isPublic, rule, allowDisabledCustomerKey } = reader.ofHandler(handler, controller);
        const access = isPublic
          ? 'public'
          : rule
            ? `${rule.role ?? 'no-staff'}+${rule.apiKeys === 'none' ? 'no-keys' : rule.apiKeys}`
            : 'UNDECLARED (refused to all)';
        const disabledKey = allowDisabledCustomerKey ? '+even-disabled-customer-key' : '';
        routes.push({ route: `${method} ${url}`, access: access + disabledKey });
      }
    }
  }
  return routes.sort((a, b) => a.route.localeCompare(b.route));
}
