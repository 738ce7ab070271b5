import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bypassableByLanes } from '../common/lane-hooks';
import type { Metrics } from './metrics';
import type { OperationsLog } from './operations-log';

/** The route label of a request no route matched: one label, not one per URL tried. */
const UNMATCHED = 'unmatched';

interface Observed {
  /** Requests received and not yet answered. */
  inFlight: number;
}

/**
 * One log line and one histogram observation per answered request, from Fastify's onResponse
 * hook: every route (the limits fast lane's answers, given ahead of Fastify, are observed by the
 * lane and not logged), and no Nest interceptor (which would cost every
 * route most of its throughput, bench/RESULTS.md "Earlier measurements"). The line carries the
 * route pattern, never the URL (ids and query strings stay out), nor any header or body.
 */
export function installRequestObserver(
  fastify: FastifyInstance,
  log: OperationsLog,
  metrics: Metrics,
): Observed {
  const observed: Observed = { inFlight: 0 };
  // Callback hooks, not async ones: no promise per request on the hot path.
  fastify.addHook(
    'onRequest',
    bypassableByLanes((_request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
      observed.inFlight++;
      done();
    }, 'answers within the request event: nothing is in flight'),
  );
  fastify.addHook('onResponse', bypassableByLanes(observe, OBSERVED_ON_LANE));
  return observed;

  function observe(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    observed.inFlight--;
    const route = request.routeOptions.url ?? UNMATCHED;
    const status = reply.statusCode;
    const elapsedMs = reply.elapsedTime;
    metrics.httpRequestDuration.observe(
      { method: request.method, route, status: String(status) },
      elapsedMs / 1000,
    );
    const actor = (request as { user?: { type: string; id: string | null } }).user;
    log.request({
      method: request.method,
      route,
      status,
      durationMs: Math.round(elapsedMs * 100) / 100,
      requestId: request.id,
      actorType: actor?.type,
      actorId: actor?.id ?? undefined,
    });
    done();
  }
}

/** What the limits fast lane does for its own answers, in place of the observer's line. */
const OBSERVED_ON_LANE =
  'observes http_request_duration_seconds (not logged: README, Operating), counted in limits_cache_lookups_total';
