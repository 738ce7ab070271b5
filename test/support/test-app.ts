import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { JwtService } from '@nestjs/jwt';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import {
  createDatabase,
  dropDatabase,
  uniqueDatabaseName,
  withDatabase,
  withUser,
} from '../../src/database/database-admin';
import { ResponseContract } from '../../src/openapi/response-contract';
import { API_PREFIX, createApp } from '../../src/setup-app';
import { onEmbeddedDatabase, TEST_ENV } from './test-env';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const TEST_ADMIN = { email: 'first-admin@example.com', password: 'violet-harbour-lamp-7' };

/**
 * Configuration for a test that sends a burst of concurrent requests which the database then
 * serializes (one customer's row, the audit chain's head). The later requests wait for a pooled
 * connection while the earlier ones commit one at a time, and on a busy machine (test files in
 * parallel workers, a shared CI host) that wait can pass the default DATABASE_CONNECT_TIMEOUT_MS,
 * where the service rightly answers 503 (the outage tests prove it). A burst test proves what
 * the serialization leaves behind, not how long a request may queue: its requests may wait for
 * a connection as long as the test itself may run.
 */
export const BURST_ENV = { DATABASE_CONNECT_TIMEOUT_MS: '30000' } as const;

export interface TestDatabase {
  /** As the owner of the schema (a superuser here): what migrates. */
  url: string;
  /**
   * As the run's DML-only role, what the apps connect as; the owner's URL on the embedded engine,
   * which has a single user.
   */
  runtimeUrl: string;
  drop(): Promise<void>;
}

/**
 * A database for one test file: a clone of the migrated template on the PostgreSQL server, or
 * the shared embedded database when there is no server. `empty`: a database with no schema yet
 * (only on a server).
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const embeddedUrl = process.env[TEST_ENV.embeddedUrl];
  if (embeddedUrl && !options.empty) {
    return { url: embeddedUrl, runtimeUrl: embeddedUrl, drop: () => Promise.resolve() };
  }

  const serverUrl = process.env[TEST_ENV.serverUrl];
  const template = process.env[TEST_ENV.template];
  const role = process.env[TEST_ENV.runtimeRole];
  if (!serverUrl || !template || !role) throw new Error('The Jest global setup did not run');
  const name = uniqueDatabaseName(template);
  await createDatabase(serverUrl, name, options.empty ? undefined : template);
  const url = withDatabase(serverUrl, name);
  return { url, runtimeUrl: withUser(url, role), drop: () => dropDatabase(serverUrl, name) };
}

export interface TestApp {
  app: NestFastifyApplication;
  http: Server;
  db: DataSource;
  config: AppConfig;
  database: TestDatabase;
  /**
   * Runs one statement as the schema's owner, for what the app's role may not do (a test's own
   * trigger, say). `db` is the app's own pool, as the runtime role.
   */
  asOwner<T = unknown>(sql: string, parameters?: unknown[]): Promise<T[]>;
  /** A bearer token for a user id, signed like the service signs them. */
  sign(userId: string, options?: { expiresIn?: number }): string;
  close(): Promise<void>;
}

/** One statement on its own connection (the app's pool is not this role). */
export async function queryAs<T = unknown>(
  url: string,
  sql: string,
  parameters: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, parameters)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * The real service (every module, guard, pipe and filter) on a real database, without a port:
 * supertest talks to its HTTP server. `env` overrides configuration variables. The app connects
 * as the runtime role (DATABASE_URL) with the owner as MIGRATION_DATABASE_URL, as a least-privilege
 * deployment does; `role: 'owner'` connects it as the owner instead, as a one-URL deployment does.
 * Migrations are the global setup's business unless `env` names RUN_MIGRATIONS.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: {
    database?: TestDatabase;
    role?: 'runtime' | 'owner';
    /** The document answers are checked against: openapi.json unless given. */
    openApiDocument?: OpenAPIObject;
    /** Where the service's "now" comes from (the system clock unless given). */
    clock?: Clock;
    /** Where the app's JSON log lines go (standard output unless given). */
    logDestination?: Writable;
    /** Adds to Fastify before it is ready, after the recorder of answers (createApp's `instrument`). */
    instrument?: (fastify: FastifyInstance) => void;
  } = {},
): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const ownsDatabase = options.database === undefined;
  const config = loadConfig({
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    LOG_LEVEL: 'error',
    // Not hourly in tests: a run at the top of the hour would act on whatever a test left behind.
    // A test that wants the schedule sets it.
    DUNNING_CRON: 'off',
    // On the embedded engine, one connection as `npm start` uses there: the run then also proves
    // that no use case needs a second connection while it holds a transaction.
    DATABASE_POOL_SIZE: process.env[TEST_ENV.embeddedUrl] ? '1' : '10',
    ...env,
  });
  const undeclared = new Set<string>();
  const app = await createApp(
    {
      ...config,
      databaseUrl: options.role === 'owner' ? database.url : database.runtimeUrl,
      databaseEmbedded: onEmbeddedDatabase(),
      migrationDatabaseUrl: database.url,
      runMigrations: 'RUN_MIGRATIONS' in env ? config.runMigrations : false,
    },
    {
      instrument: (fastify) => {
        recordUndeclaredAnswers(fastify, undeclared, options.openApiDocument);
        options.instrument?.(fastify);
      },
      clock: options.clock,
      logDestination: options.logDestination,
    },
  );
  const jwt = app.get(JwtService);
  return {
    app,
    http: app.getHttpServer(),
    db: app.get(DataSource),
    config,
    database,
    // The embedded engine has one user, and one connection at a time serves it best.
    asOwner: (sql, parameters) =>
      database.runtimeUrl === database.url
        ? app.get(DataSource).query(sql, parameters)
        : queryAs(database.url, sql, parameters),
    sign: (userId, signOptions = {}) =>
      jwt.sign({ sub: userId }, signOptions.expiresIn ? { expiresIn: signOptions.expiresIn } : {}),
    async close() {
      await app.close();
      if (ownsDatabase) await database.drop();
      if (undeclared.size > 0) {
        throw new Error(
          `Answers openapi.json does not declare (document them, or fix the code):\n` +
            [...undeclared].sort().join('\n'),
        );
      }
    },
  };
}

let checkedIn: ResponseContract | undefined;

/**
 * Checks every answer of the app against the checked-in openapi.json (which the OpenAPI test
 * keeps equal to the code), so that a status or problem code the document does not declare
 * fails the test file that produced it, in afterAll's close().
 */
function recordUndeclaredAnswers(
  fastify: FastifyInstance,
  undeclared: Set<string>,
  document?: OpenAPIObject,
): void {
  checkedIn ??= new ResponseContract(
    JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi.json'), 'utf8')) as OpenAPIObject,
    API_PREFIX,
  );
  const checked = document ? new ResponseContract(document, API_PREFIX) : checkedIn;
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const violation = checked.violation({
      method: request.method,
      route: request.routeOptions.url,
      status: reply.statusCode,
      code: problemCode(reply.getHeader('content-type'), payload),
    });
    if (violation) undeclared.add(violation);
    done(null, payload);
  });
}

function problemCode(contentType: unknown, payload: unknown): string | undefined {
  if (typeof contentType !== 'string' || !contentType.startsWith('application/problem+json')) {
    return undefined;
  }
  try {
    const code = (JSON.parse(String(payload)) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** A clock a test moves forward, instead of waiting: real time plus an offset. */
export class TestClock extends Clock {
  private offsetMs = 0;
  private frozenAt: number | null = null;

  now(): Date {
    return new Date(this.frozenAt ?? Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    if (this.frozenAt !== null) this.frozenAt += ms;
    else this.offsetMs += ms;
  }

  /** Stops the clock at its current time: only advance() moves it then. */
  freeze(): void {
    this.frozenAt = this.now().getTime();
  }
}
