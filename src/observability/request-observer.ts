import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
 * hook: every route, the limits fast lane too, and no Nest interceptor (which would cost every
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
  fastify.addHook('onRequest', (_request: FastifyRequest, _reply: FastifyReply, done) => {
    observed.inFlight++;
    done();
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
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
  });
  return observed;
}
