import type { Server } from 'node:http';
import { JwtService } from '@nestjs/jwt';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import {
  createDatabase,
  dropDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../../src/database/database-admin';
import { createApp } from '../../src/setup-app';
import { TEST_ENV } from './test-env';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const TEST_ADMIN = { email: 'first-admin@example.com', password: 'violet-harbour-lamp-7' };

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database for one test file: a clone of the migrated template on the PostgreSQL server, or
 * the shared embedded database when there is no server.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const embeddedUrl = process.env[TEST_ENV.embeddedUrl];
  if (embeddedUrl) return { url: embeddedUrl, drop: () => Promise.resolve() };

  const serverUrl = process.env[TEST_ENV.serverUrl];
  const template = process.env[TEST_ENV.template];
  if (!serverUrl || !template) throw new Error('The Jest global setup did not run');
  const name = uniqueDatabaseName(template);
  await createDatabase(serverUrl, name, template);
  return { url: withDatabase(serverUrl, name), drop: () => dropDatabase(serverUrl, name) };
}

export interface TestApp {
  app: NestFastifyApplication;
  http: Server;
  db: DataSource;
  config: AppConfig;
  database: TestDatabase;
  /** A bearer token for a user id, signed like the service signs them. */
  sign(userId: string, options?: { expiresIn?: number }): string;
  close(): Promise<void>;
}

/**
 * The real service (every module, guard, pipe and filter) on a real database, without a port:
 * supertest talks to its HTTP server. `env` overrides configuration variables.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: { database?: TestDatabase } = {},
): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const ownsDatabase = options.database === undefined;
  const config = loadConfig({
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    LOG_LEVEL: 'error',
    // On the embedded engine, one connection as `npm start` uses there: the run then also proves
    // that no use case needs a second connection while it holds a transaction.
    DATABASE_POOL_SIZE: process.env[TEST_ENV.embeddedUrl] ? '1' : '10',
    ...env,
  });
  const app = await createApp({ ...config, databaseUrl: database.url, runMigrations: false });
  const jwt = app.get(JwtService);
  return {
    app,
    http: app.getHttpServer(),
    db: app.get(DataSource),
    config,
    database,
    sign: (userId, signOptions = {}) =>
      jwt.sign({ sub: userId }, signOptions.expiresIn ? { expiresIn: signOptions.expiresIn } : {}),
    async close() {
      await app.close();
      if (ownsDatabase) await database.drop();
    },
  };
}
