import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import {
  createDatabase,
  DEFAULT_SERVER_URL,
  isReachable,
  uniqueDatabaseName,
  withDatabase,
} from '../../src/database/database-admin';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { TEST_ENV } from './test-env';

/**
 * Runs once, in Jest's parent process, before any test file. On a PostgreSQL server (the usual
 * case) it migrates a template database; each test file then clones it, and the run drops them
 * all at the end. Without a reachable server it starts the embedded engine here (PGlite cannot
 * load inside Jest's sandbox) and every file shares that one throw-away database.
 */
export default async function globalSetup(): Promise<void> {
  const serverUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_SERVER_URL;
  if (await isReachable(serverUrl)) {
    const template = uniqueDatabaseName('ca_test');
    await createDatabase(serverUrl, template);
    await migrate(withDatabase(serverUrl, template));
    process.env[TEST_ENV.serverUrl] = serverUrl;
    process.env[TEST_ENV.template] = template;
    const shown = new URL(serverUrl);
    console.log(`\nTests run on PostgreSQL at ${shown.host}; template database ${template}.`);
    return;
  }

  const embedded = await startEmbeddedPostgres({ maxConnections: 40 });
  await migrate(embedded.url);
  (globalThis as { __embeddedPostgres?: unknown }).__embeddedPostgres = embedded;
  process.env[TEST_ENV.embeddedUrl] = embedded.url;
  console.log(
    `\n*** No PostgreSQL server at ${new URL(serverUrl).host}: the tests run on the EMBEDDED ` +
      'database (PGlite). Tests that need LISTEN/NOTIFY between connections are skipped. ***',
  );
}

async function migrate(url: string): Promise<void> {
  const dataSource = new DataSource({ ...dataSourceOptions({ url, poolSize: 2 }), logging: false });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}
