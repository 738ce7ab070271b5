import { Injectable } from '@nestjs/common';
import {
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ApplicationConfig } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { CachedApiKeyAuthenticator } from '../api-keys/api-key-authenticator';
import { AccessGuard } from '../auth/access.guard';
import { admission } from '../auth/admission';
import { RouteAccess, RouteAccessReader } from '../auth/route-access';
import { LIMITS_CONTENT_TYPE, LIMITS_FAST_LANE, LimitsController } from './limits.controller';
import { LimitsStore } from './limits-store';

type LimitsRequest = FastifyRequest<{ Params: { id: string } }>;

/** What Nest runs around every route besides the route's own: checked against the lane. */
export interface GlobalEnhancers {
  guards: readonly unknown[];
  interceptors: readonly unknown[];
  pipes: readonly unknown[];
}

const NO_GLOBALS: GlobalEnhancers = { guards: [], interceptors: [], pipes: [] };

/**
 * The limits check without Nest's request pipeline, for the common case only: an `X-API-Key`
 * found in the key cache, a caller the route admits (`admission`, the decision AccessGuard
 * makes), and the customer's answer in the limits store's memory. Then it sends the very bytes
 * the route would have sent; anything else (a bearer token, a miss, the change feed not live, a
 * malformed id, any refusal) goes on to the Nest route unchanged, so every refusal and problem
 * detail still comes from one place.
 *
 * It wraps the Nest route's Fastify handler (installed by an `onRoute` hook before Nest
 * registers its routes), so Fastify's hooks (the `x-request-id` and security headers) run as for
 * any route, and the documented route stays the one in OpenAPI. It pays for itself: Nest's
 * router, guard and response handling cost more server CPU per request than the whole answer
 * from memory (bench/RESULTS.md). What it would skip is checked when the server starts: the
 * route's own guards, interceptors and pipes, and every global one but AccessGuard.
 */
@Injectable()
export class LimitsFastLane {
  /** Requests answered by this lane: for the tests, which show which lane served. */
  served = 0;
  private readonly access: RouteAccess;

  constructor(
    private readonly keys: CachedApiKeyAuthenticator,
    private readonly limits: LimitsStore,
    routes: RouteAccessReader,
  ) {
    // The route's rule as the guards read it (a method's @Roles wins over its class's). The
    // method is only a metadata key here, never called.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    this.access = routes.ofHandler(LimitsController.prototype.get, LimitsController);
    assertNothingToSkip();
  }

  /**
   * Must run before Nest registers its routes (that is, before `app.init()`); the server then
   * refuses to start if no route took the lane, or if Nest would run around the route anything
   * the lane skips, rather than silently running without it.
   */
  install(app: NestFastifyApplication): void {
    const fastify = app.getHttpAdapter().getInstance();
    let wrapped = 0;
    fastify.addHook('onReady', (done) => {
      try {
        if (wrapped !== 1) throw new Error(`The limits fast lane wraps ${wrapped} routes, not 1`);
        assertNothingToSkip(globalEnhancersOf(app));
        done();
      } catch (error) {
        done(error as Error);
      }
    });
    fastify.addHook('onRoute', (route: RouteOptions) => {
      const config = route.config as Record<string, unknown> | undefined;
      if (route.method !== 'GET' || config?.[LIMITS_FAST_LANE] !== true) return;
      wrapped += 1;
      const nestRoute = route.handler;
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      const lane = this;
      route.handler = function limitsFastLane(
        this: FastifyInstance,
        request: FastifyRequest,
        reply: FastifyReply,
      ) {
        const answer = lane.answer(request as LimitsRequest);
        if (answer === undefined) return nestRoute.call(this, request, reply);
        lane.served += 1;
        // What the Nest route sends (its @Header and its JSON string; 200 for a GET).
        void reply.header('content-type', LIMITS_CONTENT_TYPE).send(answer);
      };
    });
  }

  /**
   * The route's answer (JSON) when memory alone can give it and the caller is admitted;
   * undefined: let the Nest route decide.
   */
  answer(request: LimitsRequest): string | undefined {
    const key = request.headers['x-api-key'];
    if (typeof key !== 'string') return undefined;
    const actor = this.keys.cachedActorOf(key);
    if (actor === undefined) return undefined;
    if (admission(this.access, actor, request.params) !== 'admitted') return undefined;
    // The id is in lower case by now (installCanonicalUuidParams); the store holds only ids
    // read from the database, so anything else, a malformed id included, is a miss.
    return this.limits.inMemory(request.params.id);
  }
}

/**
 * The lane answers without the route's own guards, interceptors and pipes, and without the
 * global ones; it shares only AccessGuard's decision. So the route must have no guard,
 * interceptor or pipe of its own, and no parameter that pipes (global ones included) transform;
 * the only global guard must be AccessGuard, and there must be no global interceptor: adding one
 * fails the start here instead of being silently skipped on every hit. (Exception filters run
 * only on errors, which the lane leaves to the route.)
 */
export function assertNothingToSkip(globals: GlobalEnhancers = NO_GLOBALS): void {
  const refuse = (what: string) => {
    throw new Error(
      `${what}: the limits fast lane would skip it. ` +
        'Teach LimitsFastLane the same check, or take the route out of the lane.',
    );
  };
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const targets = [LimitsController, LimitsController.prototype.get];
  for (const key of [GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA]) {
    for (const target of targets) {
      const own = Reflect.getMetadata(key, target) as unknown[] | undefined;
      if (own && own.length > 0) refuse(`LimitsController has its own ${key}`);
    }
  }
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, LimitsController, 'get') ?? {}) as Record<
    string,
    unknown
  >;
  // Pipes, the route's own and the global ones, run on such parameters only (Nest's
  // isPipeable): the route must have none, whatever pipes there are.
  const unpiped = new Set<number>([RouteParamtypes.REQUEST, RouteParamtypes.RESPONSE]);
  for (const key of Object.keys(args)) {
    if (!unpiped.has(Number(key.split(':')[0]))) {
      const pipes = globals.pipes.map(nameOf).join(', ') || 'none yet';
      refuse(
        `LimitsController.get has a parameter (${key}) that pipes transform (global: ${pipes})`,
      );
    }
  }
  for (const guard of globals.guards) {
    if (!(guard instanceof AccessGuard)) refuse(`A global guard (${nameOf(guard)})`);
  }
  for (const interceptor of globals.interceptors) {
    refuse(`A global interceptor (${nameOf(interceptor)})`);
  }
}

function nameOf(enhancer: unknown): string {
  const wrapped = enhancer as { name?: unknown; metatype?: { name?: unknown } };
  if (typeof wrapped.metatype?.name === 'string') return wrapped.metatype.name;
  return (enhancer as object)?.constructor?.name ?? String(enhancer);
}

/**
 * The global guards, interceptors and pipes Nest will run: those of `useGlobal*()` and of
 * `APP_GUARD`/`APP_INTERCEPTOR`/`APP_PIPE` providers (request-scoped ones included), from the
 * application's configuration. Nest has no public getter for it; a Nest that moved it fails the
 * start here rather than letting the lane skip what it cannot see.
 */
export function globalEnhancersOf(app: NestFastifyApplication): GlobalEnhancers {
  const config = (app as unknown as { config?: unknown }).config;
  if (!(config instanceof ApplicationConfig)) {
    throw new Error('The limits fast lane cannot see the global enhancers of this Nest version');
  }
  return {
    guards: [...config.getGlobalGuards(), ...config.getGlobalRequestGuards()],
    interceptors: [...config.getGlobalInterceptors(), ...config.getGlobalRequestInterceptors()],
    pipes: [...config.getGlobalPipes(), ...config.getGlobalRequestPipes()],
  };
}
