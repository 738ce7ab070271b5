import { Injectable } from '@nestjs/common';
import { GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA } from '@nestjs/common/constants';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { CachedApiKeyAuthenticator } from '../api-keys/api-key-authenticator';
import { isAllowed } from '../auth/roles.guard';
import { RouteAccess, RouteAccessReader } from '../auth/route-access';
import { isUuid } from '../common/validation';
import type { LimitsDto } from './dto/limits.dto';
import { LIMITS_FAST_LANE, LimitsController } from './limits.controller';
import { LimitsService } from './limits.service';

type LimitsRequest = FastifyRequest<{ Params: { id: string } }>;

/**
 * The limits check without Nest's request pipeline, for the common case only: an `X-API-Key`
 * found in the key cache, a caller the route's own `@Roles` rule admits (the RolesGuard's
 * `isAllowed`), and the customer's limits in the limits cache. Then it sends the very object the
 * route would have returned; anything else (a bearer token, a cache miss, a bypassed cache while
 * the change feed is down, a malformed id, any refusal) goes on to the Nest route unchanged, so
 * every refusal and problem detail still comes from one place.
 *
 * It wraps the Nest route's Fastify handler (installed by an `onRoute` hook before Nest
 * registers its routes), so Fastify's hooks (the CLS context, the `x-request-id` header) run as
 * for any route, and the documented route stays the one in OpenAPI. Nest's router, guards and
 * pipes cost this route about 9 µs a request on this machine (bench/RESULTS.md). The caches are
 * the route's own, read through their read-only `peek`: invalidation and the no-stale-read rule
 * stay theirs.
 */
@Injectable()
export class LimitsFastLane {
  /** Requests answered by this lane: for the tests, which show which lane served. */
  served = 0;
  private readonly access: RouteAccess;

  constructor(
    private readonly keys: CachedApiKeyAuthenticator,
    private readonly limits: LimitsService,
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
   * refuses to start if no route took the lane, rather than silently running without it.
   */
  install(fastify: FastifyInstance): void {
    let wrapped = 0;
    fastify.addHook('onReady', (done) => {
      done(
        wrapped === 1
          ? undefined
          : new Error(`The limits fast lane wraps ${wrapped} routes, not 1`),
      );
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
        // What Nest's Fastify adapter does with the route's result (status 200 for a GET).
        void reply.send(answer);
      };
    });
  }

  /**
   * The route's answer when memory alone can give it and the caller is admitted; undefined:
   * let the Nest route decide. The same checks, in the same terms, as AuthenticationGuard,
   * RolesGuard and LimitsController.
   */
  answer(request: LimitsRequest): LimitsDto | undefined {
    const key = request.headers['x-api-key'];
    if (typeof key !== 'string') return undefined;
    const actor = this.keys.cachedActorOf(key);
    if (actor === undefined) return undefined;
    // AuthenticationGuard checks a customer key's customer status unless the route allows
    // a disabled customer's key (the limits route does): otherwise leave it to the guard.
    if (actor.customerId !== null && !this.access.allowDisabledCustomerKey) return undefined;
    const { rule } = this.access;
    if (this.access.isPublic || !rule || !isAllowed(rule, actor, request.params)) return undefined;
    const customerId = request.params.id;
    if (!isUuid(customerId)) return undefined;
    return this.limits.cachedLimitsOf(customerId);
  }
}

/**
 * The lane answers without the route's own guards, interceptors and pipes; it copies only the
 * global guard's decision. So the route must have none of its own: adding one fails the start
 * here instead of being silently skipped on cache hits.
 */
export function assertNothingToSkip(): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const targets = [LimitsController, LimitsController.prototype.get];
  for (const key of [GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA]) {
    for (const target of targets) {
      const own = Reflect.getMetadata(key, target) as unknown[] | undefined;
      if (own && own.length > 0) {
        throw new Error(
          `LimitsController has its own ${key}: the limits fast lane would skip it. ` +
            'Teach LimitsFastLane the same check, or take the route out of the lane.',
        );
      }
    }
  }
}
