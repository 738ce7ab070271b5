/**
 * `npm run admin:reset-password -- <email>`: gives the staff user a new generated password,
 * revokes all its tokens and prints the password once. Uses DATABASE_URL, or the embedded
 * database in DATA_DIR when it is unset: stop the service first then, since only one process
 * may open the embedded database's files.
 */
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { dataSourceOptions } from '../database/data-source-options';
import { entities } from '../entities';
import { startEmbeddedPostgres } from '../database/embedded-postgres';
import { resetStaffPassword } from './staff-password-reset';

async function main(): Promise<void> {
  const email = process.argv[2];
  if (!email || process.argv.length > 3) {
    console.error('Usage: npm run admin:reset-password -- <email>');
    process.exitCode = 2;
    return;
  }
  const config = loadConfig();
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: `${config.dataDir}/pglite`, maxConnections: 2 });
  const url = config.databaseUrl ?? embedded!.url;
  const dataSource = new DataSource(
    dataSourceOptions({
      entities,
      url,
      poolSize: 1,
      applicationName: 'customer-access-reset-password',
    }),
  );
  try {
    await dataSource.initialize();
    const reset = await resetStaffPassword(dataSource, email);
    console.log(`New password of ${reset.email}: ${reset.password}`);
    console.log('(shown once; every token of this user is revoked)');
    if (!reset.active) {
      console.error(`Note: ${reset.email} is deactivated; an admin must reactivate it to sign in.`);
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
