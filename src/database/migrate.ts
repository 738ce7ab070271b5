/**
 * `npm run migration:run`: applies pending migrations as MIGRATION_DATABASE_URL (else
 * DATABASE_URL) and grants DATABASE_URL's role its runtime privileges when the two differ; on the
 * embedded database in DATA_DIR when DATABASE_URL is unset (what `npm start` also does at start).
 */
import { loadConfig } from '../config/app-config';
import { startEmbeddedPostgres } from './embedded-postgres';
import { migrateDatabase } from './run-migrations';

async function main(): Promise<void> {
  const config = loadConfig();
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: `${config.dataDir}/pglite`, maxConnections: 4 });
  try {
    const applied = await migrateDatabase({
      databaseUrl: config.databaseUrl ?? embedded!.url,
      migrationDatabaseUrl: config.migrationDatabaseUrl,
    });
    console.log(
      applied.length === 0
        ? 'No pending migrations.'
        : `Applied ${applied.length} migration(s): ${applied.join(', ')}`,
    );
  } finally {
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
