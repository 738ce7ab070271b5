import { Logger } from '@nestjs/common';
import { DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations';
import { DeadlineClient } from './deadline-client';

/** How much longer than statement_timeout the client waits before it gives a query up. */
export const CLIENT_DEADLINE_GRACE_MS = 1000;

export interface DatabaseTimeouts {
  /** Opening a connection, and waiting for a free one in the pool. */
  connectMs: number;
  /** statement_timeout (and idle_in_transaction_session_timeout) on the server. */
  statementMs: number;
  /** lock_timeout on the server. */
  lockMs: number;
}

export interface DatabaseSettings {
  url: string;
  /**
   * The mapped entities. The caller (a composition root: app.module, a command, a tool) passes
   * src/entities.ts, so that database/ does not import every module that imports it back; running
   * migrations needs none.
   */
  entities: DataSourceOptions['entities'];
  poolSize?: number;
  /**
   * The pool's clients send a statement without waiting for the answer to the one before it
   * (DeadlineClient): PostgreSQL itself only, not the embedded engine (AppModule's
   * ResolvedConfig). Only with `timeouts` (the service's pool).
   */
  pipelining?: boolean;
  /** Name the pool in pg_stat_activity, to tell instances and tools apart. */
  applicationName?: string;
  /**
   * The service's pool sets them all; left out, nothing times out (the migration command, whose
   * statements may rightly run long, and the tools).
   */
  timeouts?: DatabaseTimeouts;
}

const poolLogger = new Logger('Database');

/**
 * The one place that says how TypeORM talks to PostgreSQL: used by the app, the migration
 * tools and the tests alike. `synchronize` is never on: the schema comes from migrations only.
 */
export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: settings.entities,
    migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    migrationsRun: false,
    synchronize: false,
    // TypeORM asks for uuid-ossp by default; gen_random_uuid() is built into PostgreSQL 13+ and
    // into the embedded engine, which has no uuid-ossp.
    uuidExtension: 'pgcrypto',
    // Extensions are the migrations' business, not TypeORM's at every connect.
    installExtensions: false,
    poolSize: settings.poolSize ?? 10,
    applicationName: settings.applicationName ?? 'customer-access',
    // Failed queries surface as errors (and 500s are logged by the problem filter); logging
    // every failed query would also log expected ones, such as unique violations.
    logging: ['warn', 'migration'],
    // An idle connection that breaks leaves the pool by itself, and the request that next needs
    // the database reports the outage (once: see DatabaseAvailability). TypeORM's default
    // handler would print a warning for each of the pool's connections.
    poolErrorHandler: (error: unknown) =>
      poolLogger.debug(`An idle pooled connection failed: ${(error as Error).message}`),
    ...(settings.timeouts ? timeoutOptions(settings.timeouts, settings.pipelining === true) : {}),
  };
}

/**
 * Without these a frozen database (or network) holds every request as long as it lasts. The
 * server-side limits are sent in each connection's startup packet, so they hold for every
 * statement, transactions included. statement_timeout makes the server cancel and answer; only
 * a server that answers nothing at all reaches the client's own deadline, a moment later.
 * The embedded engine accepts and ignores the server-side ones (it runs in this process anyway).
 */
function timeoutOptions(
  timeouts: DatabaseTimeouts,
  pipelining: boolean,
): {
  connectTimeoutMS: number;
  extra: Record<string, unknown>;
} {
  return {
    // pg-pool uses it both for connecting and for waiting for a free pooled connection.
    connectTimeoutMS: timeouts.connectMs,
    extra: {
      Client: DeadlineClient,
      // DeadlineClient's own option (pg's `pipeline`, and the START sent with the first statement).
      pipeline: pipelining,
      statement_timeout: timeouts.statementMs,
      lock_timeout: timeouts.lockMs,
      // A transaction whose client vanished mid-way would keep its row locks until TCP notices.
      idle_in_transaction_session_timeout: timeouts.statementMs,
      query_timeout: timeouts.statementMs + CLIENT_DEADLINE_GRACE_MS,
    },
  };
}
