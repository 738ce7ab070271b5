import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serveAdminPage } from './admin-page';
import { AppModule } from './app.module';
import type { Clock } from './common/clock';
import {
  clientErrorHandler,
  frameworkErrors,
  installClosingRefusal,
  installJsonBodyParser,
} from './common/http-edges';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { bypassableByLanes } from './common/lane-hooks';
import { requestIdOf } from './common/request-id';
import {
  API_HEADERS,
  API_HEADERS_ONLY,
  CSP_HEADER,
  SECURITY_HEADERS,
} from './common/security-headers';
import { createValidationPipe, installCanonicalUuidParams } from './common/validation';
import type { AppConfig } from './config/app-config';
import type { ResolvedConfig } from './app.module';
import { migrateDatabase } from './database/run-migrations';
import { DatabaseAvailability } from './database/database-availability';
import { CustomerChangeFeed } from './changes/customer-change-feed';
import { LimitsFastLane } from './limits/limits-fast-lane';
import { buildOpenApiDocument } from './openapi/openapi';
import { trackRequests } from './observability/graceful-shutdown';
import { createRootLogger, NestPinoLogger } from './observability/logging';
import { Metrics } from './observability/metrics';
import { installMetricsRoute } from './observability/metrics-route';
import { OperationsLog } from './observability/operations-log';
import { installRequestObserver } from './observability/request-observer';

export const API_PREFIX = 'api/v1';
export const BODY_LIMIT_BYTES = 100 * 1024;

/**
 * Fastify with the body limit, a request id taken from X-Request-Id when it is sane, and problem
 * details for what it and Node answer before any route (common/http-edges.ts).
 */
export function createFastifyAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy,
    frameworkErrors,
    clientErrorHandler,
    // installClosingRefusal answers instead, with a problem detail.
    return503OnClosing: false,
    requestIdHeader: false,
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) =>
      requestIdOf(request.headers),
  });
}

/**
 * Everything the service sets up around its modules: shared by main, the tests and tools. No
 * signal handlers: main.ts owns SIGTERM (observability/graceful-shutdown.ts).
 */
export function setupApp(app: NestFastifyApplication, config: AppConfig): NestFastifyApplication {
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health', 'health/ready'] });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter(app.get(DatabaseAvailability)));

  const fastify = app.getHttpAdapter().getInstance();
  installJsonBodyParser(fastify);
  const metrics = app.get(Metrics);
  // Before the closing refusal: a request it refuses is counted in and out, and logged.
  trackRequests(app, installRequestObserver(fastify, app.get(OperationsLog), metrics));
  installClosingRefusal(fastify);
  installMetricsRoute(fastify, metrics, config.metricsToken);
  // Read at scrape time from the feed's own state.
  const feed = app.get(CustomerChangeFeed);
  metrics.onScrape(() => {
    const lagMs = feed.lagMs;
    metrics.setChangeFeedState(feed.live, lagMs === null ? undefined : lagMs / 1000);
  });
  // Before app.init(), which registers the routes: the lane wraps the limits route's handler.
  app.get(LimitsFastLane).install(app);
  // After the lane, so that its wrapper runs first: both lanes see every uuid in lower case.
  installCanonicalUuidParams(fastify);
  // A callback hook, not an async one: no promise per response on the hot path.
  fastify.addHook(
    'onSend',
    bypassableByLanes(
      (
        request: FastifyRequest,
        reply: FastifyReply,
        payload: unknown,
        done: (e: null, p: unknown) => void,
      ) => {
        reply.header('x-request-id', request.id);
        const config = request.routeOptions.config as unknown as
          Record<string, unknown> | undefined;
        if (config?.[API_HEADERS_ONLY] === true) {
          for (const [name, value] of API_HEADERS) reply.header(name, value);
        } else {
          const ownPolicy = reply.hasHeader(CSP_HEADER);
          for (const [name, value] of SECURITY_HEADERS) {
            if (!ownPolicy || name !== CSP_HEADER) reply.header(name, value);
          }
        }
        done(null, payload);
      },
      'sends the same request id (requestIdOf) and the route’s API_HEADERS',
    ),
  );
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'customer-access API',
  });
  serveAdminPage(app);
  return app;
}

export async function createApp(
  config: ResolvedConfig,
  options: {
    logger?: boolean;
    /** Where the JSON log lines go (standard output unless given: the tests capture them). */
    logDestination?: Writable;
    /** The root logger, when the caller made it already (main logs before the app exists). */
    rootLogger?: Logger;
    onClose?: () => Promise<void>;
    /** Adds Fastify hooks before it is ready (the tests record every answer with one). */
    instrument?: (fastify: FastifyInstance) => void;
    /** Where "now" comes from; the system clock unless given. */
    clock?: Clock;
  } = {},
): Promise<NestFastifyApplication> {
  // Before the module graph: its pool may be a role that cannot migrate, and the admin
  // bootstrap needs the tables.
  const rootLogger =
    options.rootLogger ??
    createRootLogger(config, {
      destination: options.logDestination,
      silent: options.logger === false,
    });
  const nestLogger = new NestPinoLogger(rootLogger);
  if (config.runMigrations) {
    await migrateDatabase(
      { databaseUrl: config.databaseUrl, migrationDatabaseUrl: config.migrationDatabaseUrl },
      // No app yet to carry LOG_LEVEL.
      {
        log: (message: string) => nestLogger.log(message, 'Migrations'),
        warn: (message: string) => nestLogger.warn(message, 'Migrations'),
        error: (message: string) => nestLogger.error(message, 'Migrations'),
      },
    );
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, options.clock, rootLogger),
    createFastifyAdapter(config),
    {
      logger: nestLogger,
      bufferLogs: false,
      // Nest's parsers take forms too: setupApp installs the service's JSON-only parser instead.
      bodyParser: false,
    },
  );
  setupApp(app, config);
  // Hooks must be added before Fastify is ready: after the app closes (e.g. the embedded database).
  const onClose = options.onClose;
  if (onClose)
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onClose', () => onClose());
  if (options.instrument) {
    // The tests' recorders of answers: the limits fast lane's answers need no recording.
    const fastify = app.getHttpAdapter().getInstance();
    const own = Object.getOwnPropertyDescriptor(fastify, 'addHook');
    const addHook = fastify.addHook.bind(fastify) as (name: string, hook: object) => unknown;
    fastify.addHook = ((name: string, hook: object) =>
      addHook(name, bypassableByLanes(hook, 'an instrument of the tests'))) as never;
    try {
      options.instrument(fastify);
    } finally {
      if (own) Object.defineProperty(fastify, 'addHook', own);
      else Reflect.deleteProperty(fastify, 'addHook');
    }
  }
  try {
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } catch (error) {
    // A start refused while bootstrapping (a production check) must not leave the pool open.
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}
