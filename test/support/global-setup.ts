import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { entities } from '../../src/entities';
import {
  createDatabase,
  createLoginRole,
  DEFAULT_SERVER_URL,
  isReachable,
  uniqueDatabaseName,
  withDatabase,
  withUser,
} from '../../src/database/database-admin';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { grantRuntimeRole } from '../../src/database/runtime-role';
import { TEST_ENV } from './test-env';

/**
 * Runs once, in Jest's parent process, before any test file. On a PostgreSQL server (the usual
 * case) it migrates a template database; each test file then clones it, and the run drops them
 * all at the end. Test apps connect as a login role made for the run with only the runtime grants
 * (given in the template, so every clone has them), as production may: every end-to-end test
 * then proves those grants suffice. Without a reachable server it starts the embedded engine here (PGlite cannot
 * load inside Jest's sandbox) and every file shares that one throw-away database.
 */
export default async function globalSetup(): Promise<void> {
  const serverUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_SERVER_URL;
  if (await isReachable(serverUrl)) {
    const template = uniqueDatabaseName('ca_test');
    await createDatabase(serverUrl, template);
    const templateUrl = withDatabase(serverUrl, template);
    await migrate(templateUrl);
    // Roles are cluster-wide: named after the template, dropped by the global teardown.
    const role = `${template}_app`;
    await createLoginRole(serverUrl, role);
    process.env[TEST_ENV.runtimeRole] = role;
    await grantRuntimeRole(templateUrl, withUser(templateUrl, role));
    process.env[TEST_ENV.serverUrl] = serverUrl;
    process.env[TEST_ENV.template] = template;
    const shown = new URL(serverUrl);
    console.log(
      `\nTests run on PostgreSQL at ${shown.host}; template database ${template}, ` +
        `apps connect as role ${role}.`,
    );
    return;
  }

  const embedded = await startEmbeddedPostgres({ maxConnections: 40 });
  await migrate(embedded.url);
  (globalThis as { __embeddedPostgres?: unknown }).__embeddedPostgres = embedded;
  process.env[TEST_ENV.embeddedUrl] = embedded.url;
  console.log(
    `\n*** No PostgreSQL server at ${new URL(serverUrl).host}: the tests run on the EMBEDDED ` +
      'database (PGlite). Tests that need LISTEN/NOTIFY between connections or a second role ' +
      'are skipped. ***',
  );
}

async function migrate(url: string): Promise<void> {
  const dataSource = new DataSource({
    ...dataSourceOptions({ entities, url, poolSize: 2 }),
    logging: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}
