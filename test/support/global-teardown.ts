import { dropDatabasesLike, dropRole } from '../../src/database/database-admin';
import type { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { TEST_ENV } from './test-env';

export default async function globalTeardown(): Promise<void> {
  const serverUrl = process.env[TEST_ENV.serverUrl];
  const template = process.env[TEST_ENV.template];
  if (serverUrl && template) {
    // The template and every per-file clone share its name as prefix.
    await dropDatabasesLike(serverUrl, template);
  }
  const role = process.env[TEST_ENV.runtimeRole];
  // Only now: a role cannot be dropped while a database still grants it something.
  if (serverUrl && role) await dropRole(serverUrl, role);
  const embedded = (globalThis as { __embeddedPostgres?: EmbeddedPostgres }).__embeddedPostgres;
  await embedded?.stop();
}
