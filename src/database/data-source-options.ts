import { DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations';
import { entities } from './entities';

export interface DatabaseSettings {
  url: string;
  poolSize?: number;
  /** Name the pool in pg_stat_activity, to tell instances and tools apart. */
  applicationName?: string;
}

/**
 * The one place that says how TypeORM talks to PostgreSQL: used by the app, the migration
 * tools and the tests alike. `synchronize` is never on: the schema comes from migrations only.
 */
export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities,
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
  };
}
