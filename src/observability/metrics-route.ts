import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { PROBLEM_JSON } from '../common/http-edges';
import { problemOf } from '../common/problem-details.filter';
import type { Metrics } from './metrics';

export const METRICS_PATH = '/metrics';

/** Equal-length digests: the comparison takes the same time whatever the token tried. */
function sameToken(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * `GET /metrics` in Prometheus's text format, outside /api/v1 and the staff sign-in: a scraper
 * sends `Authorization: Bearer <METRICS_TOKEN>`. Without METRICS_TOKEN the route does not exist
 * (404), so that no deployment exposes its figures by default. Like /docs, it is not part of the
 * API contract and not in openapi.json.
 */
export function installMetricsRoute(
  fastify: FastifyInstance,
  metrics: Metrics,
  token: string | undefined,
): void {
  if (token === undefined) return;
  fastify.get(METRICS_PATH, async (request, reply) => {
    const header = request.headers.authorization;
    const given = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7) : '';
    if (!sameToken(given, token)) {
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer realm="metrics"')
        .header('content-type', PROBLEM_JSON)
        .send({
          ...problemOf(
            401,
            'unauthenticated',
            'GET /metrics needs the METRICS_TOKEN bearer token.',
          ),
          instance: METRICS_PATH,
        });
    }
    const body = await metrics.render();
    return reply
      .header('content-type', metrics.contentType)
      .header('cache-control', 'no-store')
      .send(body);
  });
}
