import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { CSP_HEADER } from './common/security-headers';

export const ADMIN_PREFIX = '/admin';

/**
 * The built admin page (`npm run build:admin` writes admin/dist), found from src/ (tests) and
 * from dist/src/ (the built service).
 */
export function adminPageRoot(): string | undefined {
  return [
    join(__dirname, '..', 'admin', 'dist'),
    join(__dirname, '..', '..', 'admin', 'dist'),
  ].find((dir) => existsSync(join(dir, 'index.html')));
}

// The page loads only its own files and talks only to this service: stricter than the policy
// the service sends elsewhere (common/security-headers.ts, which /docs needs), so the service's
// onSend hook leaves it in place. The other security headers are the service's.
const ADMIN_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * Serves the admin page under /admin/ as static files: public (the page itself asks for a
 * sign-in and every API call is checked), outside the API prefix and the OpenAPI document.
 */
export function serveAdminPage(app: NestFastifyApplication, root = adminPageRoot()): void {
  const fastify = app.getHttpAdapter().getInstance();
  if (!root) {
    new Logger('AdminPage').warn(
      'The admin page is not built: /admin answers 503. Run `npm run build:admin` (part of `npm run build`).',
    );
    const notBuilt = (_request: unknown, reply: FastifyReply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The admin page is not built. Run `npm run build:admin`, then restart.');
    fastify.get(ADMIN_PREFIX, notBuilt);
    fastify.get(`${ADMIN_PREFIX}/*`, notBuilt);
    return;
  }
  void app.register(fastifyStatic, {
    root,
    prefix: ADMIN_PREFIX,
    redirect: true,
    index: ['index.html'],
    // The Swagger UI registers @fastify/static too: only one may decorate the reply.
    decorateReply: false,
    cacheControl: false,
    setHeaders: (reply: FastifyReply, path: string) => {
      reply.header(CSP_HEADER, ADMIN_CSP);
      // Built assets carry a content hash in their names; index.html must be asked for again.
      reply.header(
        'cache-control',
        /[/\\]assets[/\\]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
}
