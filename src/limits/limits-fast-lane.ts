import { Injectable, Optional } from '@nestjs/common';
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
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { CachedApiKeyAuthenticator } from '../api-keys/api-key-authenticator';
import { AccessGuard } from '../auth/access.guard';
import { admission } from '../auth/admission';
import { RouteAccess, RouteAccessReader } from '../auth/route-access';
import {
  laneInsteadOf,
  NEST_ADAPTER_HOOKS,
  REQUEST_HOOKS,
  requestHooksOf,
} from '../common/lane-hooks';
import { requestIdOf } from '../common/request-id';
import { API_HEADERS, API_HEADERS_ONLY } from '../common/security-headers';
import { HotObservations, Metrics } from '../observability/metrics';
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

const UUID_LENGTH = 36;

/**
 * The limits check without Nest's request pipeline, for the common case only: an `X-API-Key`
 * found in the key cache, a caller the route admits (`admission`, the decision AccessGuard
 * makes), and the customer's answer in the limits store's memory. Then it sends the very bytes
 * the route would have sent; anything else (a bearer token, a miss, the change feed not live, a
 * malformed id, any refusal) goes on to the Nest route unchanged, so every refusal and problem
 * detail still comes from one place.
 *
 * Two doors, one decision (`answerFor`):
 * - the front lane, a `request` listener of the HTTP server ahead of Fastify's, takes a GET of
 *   the route's path exactly as the clients send it (a canonical id, no query string, no body)
 *   and answers before Fastify routes it: no Fastify request, reply or hook. It sends the headers
 *   the service's hooks send for the route (the request id, API_HEADERS), observes the request
 *   duration histogram as the request observer would (counted in plain numbers, added to the
 *   histogram when /metrics reads it), and writes no per-request log line (README,
 *   Operating). It is armed only once the server is ready and every Fastify request hook has been
 *   found bypassable (`bypassableByLanes`: a hook nobody declared makes the start fail), and
 *   disarmed when the server starts closing.
 * - the route lane wraps the Nest route's Fastify handler (installed by an `onRoute` hook before
 *   Nest registers its routes), for what the front lane leaves to Fastify (an id in upper case, a
 *   query string): Fastify's hooks run as for any route.
 *
 * It pays for itself: Nest's router, guard and response handling, and Fastify's, cost more
 * server CPU per request than the whole answer from memory (bench/RESULTS.md). What it would
 * skip is checked when the server starts: the route's own guards, interceptors and pipes, every
 * global one but AccessGuard, and every Fastify request hook.
 */
@Injectable()
export class LimitsFastLane {
  /** Requests answered by this lane, either door: for the tests, which show which lane served. */
  served = 0;
  /** Of these, the requests answered by the front lane, ahead of Fastify. */
  servedInFront = 0;
  private readonly access: RouteAccess;
  private armed = false;
  /** The route's path before and after its id, as the front lane takes it (no query string). */
  private pathStart = '';
  private pathEnd = '';
  private pathLength = 0;
  /** The request duration histogram's series for the route's 200s, counted in plain numbers. */
  private durations: HotObservations | undefined;
  private readonly metrics: Metrics | undefined;
  /** The answer's headers, flat, the request id's and the length's values filled per answer. */
  private readonly head: (string | number)[] = [
    'content-type',
    LIMITS_CONTENT_TYPE,
    'x-request-id',
    '',
    ...API_HEADERS.flat(),
    'content-length',
    0,
  ];

  constructor(
    private readonly keys: CachedApiKeyAuthenticator,
    private readonly limits: LimitsStore,
    routes: RouteAccessReader,
    @Optional() metrics?: Metrics,
  ) {
    // The route's rule as the guards read it (a method's @Roles wins over its class's). The
    // method is only a metadata key here, never called.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    this.access = routes.ofHandler(LimitsController.prototype.get, LimitsController);
    this.metrics = metrics;
    assertNothingToSkip();
  }

  /**
   * Must run before Nest registers its routes (that is, before `app.init()`); the server then
   * refuses to start if no route took the lane, or if Nest or Fastify would run around the route
   * anything the lane skips, rather than silently running without it.
   */
  install(app: NestFastifyApplication): void {
    const fastify = app.getHttpAdapter().getInstance();
    let wrapped: RouteOptions | undefined;
    let routes = 0;
    fastify.addHook('onReady', (done) => {
      try {
        if (routes !== 1 || wrapped === undefined) {
          throw new Error(`The limits fast lane wraps ${routes} routes, not 1`);
        }
        // The front lane sends API_HEADERS: so must the route, for the same answer.
        if ((wrapped.config as Record<string, unknown> | undefined)?.[API_HEADERS_ONLY] !== true) {
          throw new Error('The limits fast lane sends API_HEADERS: its route must too');
        }
        assertNothingToSkip(globalEnhancersOf(app));
        assertHooksBypassable(app, fastify, wrapped);
        this.openFrontDoor(fastify.server, wrapped.url);
        done();
      } catch (error) {
        done(error as Error);
      }
    });
    fastify.addHook('preClose', (done) => {
      this.armed = false;
      done();
    });
    fastify.addHook('onRoute', (route: RouteOptions) => {
      const config = route.config as Record<string, unknown> | undefined;
      if (route.method !== 'GET' || config?.[LIMITS_FAST_LANE] !== true) return;
      routes += 1;
      wrapped = route;
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
    return this.answerFor(request.headers['x-api-key'], request.params);
  }

  /**
   * The one decision of both doors: the answer for this `X-API-Key` (as received) and route
   * parameters, or undefined.
   */
  answerFor(key: string | string[] | undefined, params: { id: string }): string | undefined {
    if (typeof key !== 'string') return undefined;
    const actor = this.keys.cachedActorOf(key);
    if (actor === undefined) return undefined;
    if (admission(this.access, actor, params) !== 'admitted') return undefined;
    // The id is in lower case by now (installCanonicalUuidParams, or the front lane's exact
    // path); the store holds only ids read from the database, so anything else, a malformed
    // id included, is a miss.
    return this.limits.inMemory(params.id);
  }

  /** Puts the front lane ahead of Fastify's `request` listener (the only one). */
  private openFrontDoor(server: Server, routeUrl: string): void {
    const listeners = server.listeners('request');
    if (listeners.length !== 1) {
      throw new Error(
        `The limits fast lane expects Fastify's request listener alone, not ${listeners.length}`,
      );
    }
    const parts = routeUrl.split(':id');
    if (parts.length !== 2 || parts[1].includes(':')) {
      throw new Error(`The limits fast lane cannot take the route ${routeUrl}`);
    }
    [this.pathStart, this.pathEnd] = parts;
    this.pathLength = this.pathStart.length + UUID_LENGTH + this.pathEnd.length;
    const fastifyRoutes = listeners[0] as (req: IncomingMessage, res: ServerResponse) => void;
    this.durations = this.metrics?.hotRequestDurations({
      method: 'GET',
      route: routeUrl,
      status: '200',
    });
    server.removeListener('request', fastifyRoutes);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!this.front(req, res)) fastifyRoutes(req, res);
    });
    this.armed = true;
  }

  /** The front lane: answers and returns true, or leaves the request to Fastify (false). */
  private front(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url;
    if (
      !this.armed ||
      req.method !== 'GET' ||
      url === undefined ||
      url.length !== this.pathLength ||
      !url.startsWith(this.pathStart) ||
      !url.endsWith(this.pathEnd)
    ) {
      return false;
    }
    const started = performance.now();
    const headers = req.headers;
    // A body is Fastify's to refuse or ignore.
    if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) {
      return false;
    }
    const id = url.slice(this.pathStart.length, this.pathStart.length + UUID_LENGTH);
    const answer = this.answerFor(headers['x-api-key'], { id });
    if (answer === undefined) return false;
    this.served += 1;
    this.servedInFront += 1;
    const head = this.head;
    head[3] = requestIdOf(headers);
    head[head.length - 1] = Buffer.byteLength(answer);
    res.writeHead(200, head);
    res.end(answer);
    // From the lane taking the request to the answer handed to the socket (the request
    // observer's duration runs from Fastify's request to the end of the write: a little longer).
    this.durations?.observe((performance.now() - started) / 1000);
    return true;
  }
}

/**
 * The front lane answers ahead of every Fastify hook: each request hook of the instance must be
 * declared bypassable (`bypassableByLanes`, with what the lane does in its place), Nest's
 * adapter's own must be idle (no CORS, versioning, or request/response hook of Nest's), Nest's
 * middleware runner must have no middleware, and the route must have no hooks of its own.
 */
function assertHooksBypassable(
  app: NestFastifyApplication,
  fastify: FastifyInstance,
  route: RouteOptions,
): void {
  const refuse = (what: string) => {
    throw new Error(
      `${what}: the limits fast lane would skip it. Declare it bypassableByLanes with what ` +
        'the lane does in its place, or take the route out of the lane.',
    );
  };
  for (const name of REQUEST_HOOKS) {
    const own = (route as unknown as Record<string, unknown>)[name];
    if (own !== undefined && (!Array.isArray(own) || own.length > 0)) {
      refuse(`The limits route's own ${name} hook`);
    }
  }
  const adapter = app.getHttpAdapter() as unknown as Record<string, unknown>;
  for (const field of ['onRequestHook', 'corsHook', 'onResponseHook']) {
    if (adapter[field] !== undefined) refuse(`Nest's ${field}`);
  }
  for (const [name, hooks] of requestHooksOf(fastify)) {
    const nests = NEST_ADAPTER_HOOKS[name] ?? 0;
    hooks.forEach((hook, at) => {
      const instead = laneInsteadOf(hook);
      if (at < nests) {
        // Nest's, first: a hook declared here means Nest added fewer than reviewed.
        if (instead !== undefined) refuse(`Not the ${nests} ${name} hooks of Nest's adapter`);
      } else if (instead === undefined) {
        if ((hook as { name?: string }).name === 'runMiddie' && name === 'onRequest') {
          if (middlewareCount(fastify) !== 0) refuse('Nest middleware');
        } else {
          refuse(`A Fastify ${name} hook (${describe(hook)})`);
        }
      }
    });
    if (hooks.length < nests) refuse(`Not the ${nests} ${name} hooks of Nest's adapter`);
  }
  const versioning = (app as unknown as { config?: ApplicationConfig }).config?.getVersioning();
  if (versioning !== undefined) refuse('API versioning');
}

/** How many middleware @fastify/middie runs (Nest's middleware); NaN when it cannot tell. */
function middlewareCount(fastify: FastifyInstance): number {
  const symbol = Object.getOwnPropertySymbols(fastify).find(
    (s) => s.description === 'fastify-middie-middlewares',
  );
  const list = symbol && (fastify as unknown as Record<symbol, unknown>)[symbol];
  return Array.isArray(list) ? list.length : NaN;
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

/** A hook as an error message names it: its name, else the start of its source. */
function describe(hook: object): string {
  const name = (hook as { name?: string }).name;
  return name || Function.prototype.toString.call(hook).replace(/\s+/g, ' ').slice(0, 160);
}
