import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from './config/app-config';
import { EmbeddedPostgres, startEmbeddedPostgres } from './database/embedded-postgres';
import { auditLogTamperingRights } from './database/runtime-role';
import { statisticsUpkeepRisk } from './database/statistics-upkeep';
import { shutDownGracefully } from './observability/graceful-shutdown';
import { createRootLogger } from './observability/logging';
import { API_PREFIX, createApp } from './setup-app';

async function main(): Promise<void> {
  const config = loadConfig();
  const rootLogger = createRootLogger(config);
  const logger = {
    log: (message: string) => rootLogger.info({ context: 'Main' }, message),
    warn: (message: string) => rootLogger.warn({ context: 'Main' }, message),
  };
  if (config.jwtSecretGenerated) {
    logger.warn('JWT_SECRET is not set: using a random secret; tokens end with this process.');
  }

  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = config.databaseUrl;
  let databasePoolSize = config.databasePoolSize;
  if (databaseUrl === undefined) {
    // The embedded engine runs one statement at a time anyway, and its socket server can mix up
    // the messages of concurrent connections: one pooled connection is both safe and as fast.
    databasePoolSize = 1;
    const started = Date.now();
    embedded = await startEmbeddedPostgres({
      dataDir: `${config.dataDir}/pglite`,
      // The pool's connection, the change listener's and one for tools, with room to spare.
      maxConnections: 8,
    });
    databaseUrl = embedded.url;
    logger.log(
      `Database: embedded PostgreSQL (PGlite) in ${embedded.dataDir}, started in ${Date.now() - started} ms. ` +
        'For production set DATABASE_URL.',
    );
  } else {
    const url = new URL(databaseUrl);
    logger.log(`Database: PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`);
  }

  const app = await createApp(
    { ...config, databaseUrl, databasePoolSize, databaseEmbedded: embedded !== undefined },
    { onClose: embedded ? () => embedded.stop() : undefined, rootLogger },
  );
  if (!embedded) {
    const rights = await auditLogTamperingRights((sql) => app.get(DataSource).query(sql));
    if (rights) {
      logger.warn(
        `DATABASE_URL's role ${rights}: it could switch the audit log's triggers off. Run as a ` +
          'DML-only role, with the owner in MIGRATION_DATABASE_URL (README: Database roles).',
      );
    }
    const upkeep = await statisticsUpkeepRisk((sql) => app.get(DataSource).query(sql));
    if (upkeep) {
      logger.warn(
        `${upkeep}: nothing analyses the tables, so statements planned while they were small ` +
          'keep scanning them whole as they grow. Turn autovacuum on, or run VACUUM (ANALYZE) ' +
          'on a schedule (README: Running on a real PostgreSQL).',
      );
    }
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      shutDownGracefully(app, config, signal).then(
        () => process.exit(0),
        (error: unknown) => {
          rootLogger.error({ context: 'Main', err: error }, 'The shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  await app.listen(config.port, config.host);
  const shown = config.host === '0.0.0.0' ? 'localhost' : config.host;
  logger.log(
    `Listening on http://${shown}:${config.port} (API under /${API_PREFIX}, docs at /docs)`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('customer-access failed to start:', error);
  }
  process.exit(1);
});
