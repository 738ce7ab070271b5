import { Logger, LoggerService } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { grantRuntimeRole } from './runtime-role';

export interface MigrationTarget {
  /** The role the service runs as. */
  databaseUrl: string;
  /** The schema's owner; undefined: databaseUrl migrates too. */
  migrationDatabaseUrl?: string;
}

/**
 * Applies pending migrations as the owner, then, when the service runs as another role, grants
 * that role what it needs at run time. Used at start (RUN_MIGRATIONS) and by `npm run
 * migration:run`; the service's own pool never has to own anything.
 */
export async function migrateDatabase(
  target: MigrationTarget,
  logger: LoggerService = new Logger('Migrations'),
): Promise<string[]> {
  const ownerUrl = target.migrationDatabaseUrl ?? target.databaseUrl;
  const dataSource = new DataSource(
    dataSourceOptions({ entities: [], url: ownerUrl, poolSize: 1 }),
  );
  let applied: string[];
  try {
    await dataSource.initialize();
    applied = (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
  }
  if (target.migrationDatabaseUrl !== undefined) {
    const outcome = await grantRuntimeRole(target.migrationDatabaseUrl, target.databaseUrl);
    if (outcome.granted) {
      logger.log(`Granted the runtime privileges to role "${outcome.role}" of DATABASE_URL.`);
    } else {
      logger.warn(`No grants for role "${outcome.role}" of DATABASE_URL: ${outcome.reason}.`);
    }
  }
  return applied;
}
